"""Bulk entry: download an Excel sheet of a unit's annual indicators (and budgets) for one period,
fill it in, upload it.

The upload is read in a limited child process (importers.bulk through importers.sandbox: caps
on rows, columns and cells, CPU, memory and a wall clock), then checked as a whole and stored
all-or-nothing by models.bulk_entry; the page lists every error as "第 N 行（项目 / 指标）：消息"
(422).

Who: a 填报人 for their own unit; an admin for any unit (or all); a 审核人 not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   url_for)
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from importers import UnreadableFile
from importers.bulk import read_sheets
from importers.limits import bulk_limits_from_config
from importers.sandbox import run_untrusted
from domain import rules
from domain.calendar import YearCalendar, period_label
from domain.units import SPENDING_UNITS, unit_choices
from models.actual import DEVIATION_REASONS, LIKELIHOODS, SPENDING_NOTE_EXAMPLES, EntryError, parse_period
from models.bulk_entry import (ACTUAL_COLUMNS, ACTUAL_INPUTS, ACTUALS_SHEET, README_SHEET, SPENDING_COLUMNS,
                               SPENDING_INPUTS, SPENDING_SHEET, UPLOADED_SHEETS, store_bulk_entry)
from models.db import get_session
from reads.bulk_sheet import bulk_sheet, editable_units
from reads.scope import projects_visible_to
from reads.wording import plain_number
from models.bounds import parse_year, whole_number
from models.xlsx_cells import choice_list, put, workbook_bytes, write_row
from views.auth import requires
from views.clock import today
from views.context import bands, entry_context

bp = Blueprint("bulk", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HIDDEN = ("指标ID", "版本", "项目年度ID")
_INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
_HEAD_FILL = PatternFill("solid", fgColor="E9EDF2")


@bp.before_request
@requires("admin", "manager")
def editors_only() -> None:
    """Every route of this blueprint: a 审核人 records nothing."""


# --------------------------------------------------------------------------- choosing

@dataclass
class Choice:
    year: int
    month: int
    unit_id: int | None

    @property
    def period(self) -> str:
        return f"{self.year}-{self.month:02d}"


def _choice() -> Choice:
    """year / period / unit from the query string, each checked (400 with a Chinese message)."""
    as_of = today()
    year, raw_period = parse_year(request.args.get("year")), request.args.get("period", "")
    month = None
    if raw_period.isdigit() and year is not None:      # the page's select: a month of the chosen year
        raw_period = f"{year}-{raw_period}"
    if raw_period:
        try:
            period_year, month = parse_period(raw_period)
        except EntryError as exc:
            abort(400, description=str(exc))
        if year is not None and period_year != year:
            abort(400, description=f"期间 {raw_period} 不在 {year} 年度内")
        year = period_year
    if year is None:
        years = _years()
        year = as_of.year if as_of.year in years or not years else years[0]
    if month is None:
        month = YearCalendar(year).closed_month(as_of) or 1
    unit_id = None
    if g.user.role == "admin":
        raw_unit = request.args.get("unit", "")
        unit_id = whole_number(raw_unit)
        if raw_unit and unit_id is None:
            abort(400, description="实施单位无效")
    else:
        unit_id = g.user.unit_id
    return Choice(year, month, unit_id)


def _years() -> list[int]:
    rows = get_session().exec(projects_visible_to(g.user))
    return sorted({y.year for _p, y in rows}, reverse=True)


@bp.get("/bulk")
def index():
    return _page(_choice())


def _page(choice: Choice, status: int = 200, errors: list[str] | None = None):
    session = get_session()
    return render_template("bulk.html", choice=choice, years=_years() or [choice.year],
                           units=editable_units(session, g.user), errors=errors or [],
                           label=period_label(choice.year, choice.month)), status


# --------------------------------------------------------------------------- the sheet

@bp.get("/bulk.xlsx")
def download():
    choice = _choice()
    sheet = bulk_sheet(get_session(), g.user, choice.year, choice.month, choice.unit_id)
    data = build_workbook(sheet)
    who = sheet.unit.name if sheet.unit else "全部单位"
    name = f"批量填报_{who}_{choice.period}.xlsx"
    response = make_response(data)
    response.headers["Content-Type"] = XLSX_TYPE
    response.headers["Content-Disposition"] = (f"attachment; filename=\"bulk_{choice.period}.xlsx\"; "
                                               f"filename*=UTF-8''{quote(name)}")
    return response


def build_workbook(sheet) -> bytes:
    book = Workbook()
    actuals = book.active
    actuals.title = ACTUALS_SHEET
    _header(actuals, ACTUAL_COLUMNS, ACTUAL_INPUTS)
    unit_lists: dict[str, list[str]] = {}     # a drop-down's formula1 → the cells it checks
    forecasts: dict[bool, list[str]] = {False: [], True: []}   # qualitative? → its 全年预计 cells
    for n, item in enumerate(sheet.indicators, start=2):
        ind, a = item.indicator, item.actual
        current = ""
        if a is not None:
            current = a.assessment or "" if item.measure == rules.QUALITATIVE else f"{plain_number(a.value)}{a.unit or ''}"
        write_row(actuals, n, [ind.id, f"{sheet.year}-{sheet.month:02d}", a.version if a else 0, item.project.name,
                               ind.level1, ind.annual_level2, ind.annual_level3, ind.annual_raw,
                               rules.MEASURE_LABELS[item.measure], ind.annual_unit or "", current])
        choices = choice_list(unit_choices(ind.annual_unit)) if item.measure != rules.QUALITATIVE else None
        if choices:
            unit_lists.setdefault(choices, []).append(f"{_col(ACTUAL_COLUMNS, '单位')}{n}")
        forecasts[item.measure == rules.QUALITATIVE].append(f"{_col(ACTUAL_COLUMNS, '全年预计')}{n}")
    last = max(2, len(sheet.indicators) + 1)
    _validations(actuals, ACTUAL_COLUMNS, last, unit_lists)
    _forecast_validations(actuals, forecasts)
    _finish(actuals, ACTUAL_COLUMNS, ACTUAL_INPUTS, {"项目": 22, "三级指标": 24, "指标值": 14, "当前值": 12,
                                                    "偏差原因": 22, "偏差说明": 24, "备注": 24, "超额原因": 24})

    spending = book.create_sheet(SPENDING_SHEET)
    _header(spending, SPENDING_COLUMNS, SPENDING_INPUTS)
    for n, item in enumerate(sheet.spending, start=2):
        s = item.spending
        write_row(spending, n, [item.year.id, f"{sheet.year}-{sheet.month:02d}", s.version if s else 0,
                                item.project.name, item.year.annual_total_yuan, s.amount_yuan if s else None, None,
                                "元", s.note if s else None])
    unit_col = _col(SPENDING_COLUMNS, "单位")
    units = DataValidation(type="list", formula1=choice_list(SPENDING_UNITS), allow_blank=True,
                           error="请从下拉列表中选择单位", errorTitle="单位")
    units.add(f"{unit_col}2:{unit_col}{max(2, len(sheet.spending) + 1)}")
    spending.add_data_validation(units)
    amount_col = _col(SPENDING_COLUMNS, "累计支出")
    amount = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            error="累计支出应为不小于 0 的数字", errorTitle="累计支出")
    amount.add(f"{amount_col}2:{amount_col}{max(2, len(sheet.spending) + 1)}")
    spending.add_data_validation(amount)
    for col in ("年度资金（元）", "当前累计支出（元）"):
        for cell in spending[_col(SPENDING_COLUMNS, col)][1:]:
            cell.number_format = "#,##0.00"
    note_col = _col(SPENDING_COLUMNS, "说明")
    note = DataValidation(allow_blank=True, showInputMessage=True, promptTitle="说明",
                          prompt=f"累计支出超过年度资金，或低于此前某期时必填，如{'、'.join(SPENDING_NOTE_EXAMPLES)}")
    note.add(f"{note_col}2:{note_col}{max(2, len(sheet.spending) + 1)}")
    spending.add_data_validation(note)
    _finish(spending, SPENDING_COLUMNS, SPENDING_INPUTS, {"项目": 24, "年度资金（元）": 18, "当前累计支出（元）": 18,
                                                          "累计支出": 16, "说明": 30})

    readme = book.create_sheet(README_SHEET)
    lines = [f"批量填报表：{sheet.unit.name if sheet.unit else '全部实施单位'}，{period_label(sheet.year, sheet.month)}",
             "在“实际值”表的黄色列中填写本期实际值（累计指标填年初至本期末的累计数，水平指标填当前水平，定性指标选择完成情况），"
             "在“预算支出”表中填写年初至本期末的累计支出。",
             f"单位可用同一种单位的其他写法（如 元/万元/亿元）；偏差原因可填多个，用逗号分隔，可选：{'、'.join(DEVIATION_REASONS)}。",
             f"全年预计：定量指标填预计全年完成数（单位同“单位”列），定性指标选择{'、'.join(rules.ASSESSMENTS)}。",
             "灯为黄或红时必须填写偏差原因。全部黄色列都空着的行不会保存；“预算支出”表中未填累计支出的行不会保存。",
             "累计支出超过全年预算数（超预算），或低于此前某期（冲减），须在“说明”列写明原因"
             f"（如{'、'.join(SPENDING_NOTE_EXAMPLES)}）；将此前某期改得高于其后某期时，也须在该行说明。",
             f"12月（年度最后一期）完成率达到{rules.for_display(bands().over_reason * 100, 0)}%及以上的指标须填写超额原因"
             "（如目标设定偏低，或实际成效提升）。",
             "上传时整张表一起检查：任何一行有错，全部不保存，并列出每一行的错误。",
             "请勿修改隐藏的ID、版本列和“期间”列；如上传时提示数值已被他人修改，请重新下载。"]
    if sheet.left_out:
        lines.append(f"按季度填报、本期不是季末的项目未列出：{'、'.join(sheet.left_out)}。")
    for n, line in enumerate(lines, start=1):
        put(readme.cell(row=n, column=1), line)
    readme.column_dimensions["A"].width = 120
    return workbook_bytes(book)


def _col(columns, name: str) -> str:
    return get_column_letter(columns.index(name) + 1)


def _header(ws, columns, inputs) -> None:
    write_row(ws, 1, columns)
    for n, name in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=n)
        cell.font = Font(bold=True)
        cell.fill = _INPUT_FILL if name in inputs else _HEAD_FILL
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"


def _finish(ws, columns, inputs, widths: dict[str, int]) -> None:
    for n, name in enumerate(columns, start=1):
        letter = get_column_letter(n)
        ws.column_dimensions[letter].width = widths.get(name, 11)
        if name in HIDDEN:
            ws.column_dimensions[letter].hidden = True
        if name in inputs:
            for cell in ws[letter][1:]:
                cell.fill = _INPUT_FILL
        if name == "期间":
            for cell in ws[letter][1:]:
                cell.number_format = "@"


def _validations(ws, columns, last: int, unit_lists: dict) -> None:
    def column_range(name: str) -> str:
        letter = _col(columns, name)
        return f"{letter}2:{letter}{last}"

    for name, values in (("完成情况", rules.ASSESSMENTS), ("完成可能性", LIKELIHOODS)):
        dv = DataValidation(type="list", formula1=choice_list(values), allow_blank=True,
                            error=f"请从下拉列表中选择{name}", errorTitle=name)
        dv.add(column_range(name))
        ws.add_data_validation(dv)
    value = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           error="实际值应为不小于 0 的数字", errorTitle="实际值")
    value.add(column_range("实际值"))
    ws.add_data_validation(value)
    reasons = DataValidation(allow_blank=True, showInputMessage=True, promptTitle="偏差原因",
                             prompt=f"可填多个，用逗号分隔：{'、'.join(DEVIATION_REASONS)}")
    reasons.add(column_range("偏差原因"))
    ws.add_data_validation(reasons)
    for choices, cells in unit_lists.items():
        dv = DataValidation(type="list", formula1=choices, allow_blank=True,
                            error="请选择与目标同一种单位", errorTitle="单位")
        for cell in cells:
            dv.add(cell)
        ws.add_data_validation(dv)


def _forecast_validations(ws, cells: dict[bool, list[str]]) -> None:
    """全年预计 (DOMAIN.md §3): a number in the row's unit, or for a qualitative indicator one of
    达成 / 部分达成 / 未达成 from a drop-down."""
    numbers = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                             error="全年预计应为不小于 0 的数字（单位同“单位”列）", errorTitle="全年预计",
                             showInputMessage=True, promptTitle="全年预计", prompt="预计全年完成数，单位同“单位”列")
    assessments = DataValidation(type="list", formula1=choice_list(rules.ASSESSMENTS), allow_blank=True,
                                 error=f"定性指标的全年预计请从下拉列表中选择：{'、'.join(rules.ASSESSMENTS)}",
                                 errorTitle="全年预计", showInputMessage=True, promptTitle="全年预计",
                                 prompt="定性指标：选择预计全年的完成情况")
    for dv, qualitative in ((numbers, False), (assessments, True)):
        for cell in cells[qualitative]:
            dv.add(cell)
        if cells[qualitative]:
            ws.add_data_validation(dv)


# --------------------------------------------------------------------------- the upload

@bp.post("/bulk")
def upload():
    choice = _choice_from_form()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(choice, 422, ["请选择填好的 Excel 填报表（xlsx）"])
    data = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
    if len(data) > current_app.config["MAX_UPLOAD_BYTES"]:
        return _page(choice, 422, [f"文件超过 {current_app.config['MAX_UPLOAD_BYTES'] // (1024 * 1024)} MB"])
    try:   # never parsed in this worker: a hostile workbook costs a limited child, not the site
        sheets = run_untrusted(read_sheets, (data, UPLOADED_SHEETS), bulk_limits_from_config(current_app.config))
    except UnreadableFile as exc:
        return _page(choice, 422, [str(exc)])
    outcome = store_bulk_entry(get_session(), g.user, sheets, entry_context())
    if outcome.errors:
        return _page(choice, 422, outcome.errors)
    if not outcome.actuals and not outcome.spending and not outcome.unchanged:
        return _page(choice, 422, ["表中没有填写任何实际值或支出（黄色列全部为空），没有保存任何内容"])
    flash(saved_message(outcome), "success")
    return redirect(url_for("bulk.index", year=choice.year, period=choice.period,
                            **({"unit": choice.unit_id} if g.user.role == "admin" and choice.unit_id else {})), 303)


def saved_message(outcome) -> str:
    """What was saved, for which period: 已保存2023年7月的12项实际值和3项支出。"""
    parts = [f"{n}项{what}" for n, what in ((outcome.actuals, "实际值"), (outcome.spending, "支出")) if n]
    unchanged = f"{outcome.unchanged}项与已存数据相同，未改动" if outcome.unchanged else ""
    if not parts:
        return f"表中的{unchanged}，没有需要保存的内容。"
    periods = "、".join(period_label(year, month) for year, month in sorted(outcome.periods))
    return f"已保存{periods}的{'和'.join(parts)}" + (f"；另有{unchanged}" if unchanged else "") + "。"


def _choice_from_form() -> Choice:
    """Where to come back to: the period and unit of the page the upload came from."""
    try:
        year, month = parse_period(request.form.get("period"))
    except EntryError:
        year, month = today().year, YearCalendar(today().year).closed_month(today()) or 1
    unit_id = whole_number(request.form.get("unit", "")) if g.user.role == "admin" else g.user.unit_id
    return Choice(year, month, unit_id)
