"""Bulk entry: download an Excel sheet of a unit's annual indicators (and budgets) for one period,
fill it in, upload it.

The upload is checked as a whole and stored all-or-nothing: every filled row goes through the
same rules as the page (ActualInput, record_actual, record_spending) inside ONE transaction;
any error rolls everything back and the page lists all of them as
"第 N 行（项目 / 指标）：消息" (422). Rows whose input cells are all empty are skipped. A row
naming an indicator outside the user's scope is an error, never silently skipped. The sheet
carries each row's hidden id and the version it was downloaded at, so a value someone changed
in between is reported instead of overwritten.

Who: a 填报人 for their own unit; an admin for any unit (or all); a 审核人 not at all.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   url_for)
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from models import rules
from models.actual import (DEVIATION_REASONS, LIKELIHOODS, MEASURE_LABELS, SPENDING_UNITS, ActualInput, Context,
                           EntryError, StaleEdit, check_period, last_closed_month, parse_period, period_label,
                           record_actual, record_spending, spending_amount_yuan, spending_of, unit_choices,
                           validation_message)
from models.bounds import parse_year, whole_number
from models.db import get_session, transaction
from models.queries import (bulk_sheet, editable_units, indicator_in_scope, may_edit_actuals, plain_number,
                            project_year_visible, projects_visible_to, user_label)
from models.xlsx_cells import choice_list, put, workbook_bytes, write_row
from views.auth import requires
from views.clock import today
from views.context import entry_context

bp = Blueprint("bulk", __name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTUALS_SHEET, SPENDING_SHEET, README_SHEET = "实际值", "预算支出", "说明"
ACTUAL_COLUMNS = ("指标ID", "期间", "版本", "项目", "一级指标", "二级指标", "三级指标", "指标值", "计量方式", "目标单位",
                  "当前值", "实际值", "单位", "完成情况", "全年预计", "偏差原因", "偏差说明", "完成可能性", "备注")
ACTUAL_INPUTS = ("实际值", "单位", "完成情况", "全年预计", "偏差原因", "偏差说明", "完成可能性", "备注")
SPENDING_COLUMNS = ("项目年度ID", "期间", "版本", "项目", "年度资金（元）", "当前累计支出（元）", "累计支出", "单位")
SPENDING_INPUTS = ("累计支出", "单位")
HIDDEN = ("指标ID", "版本", "项目年度ID")
MAX_ROWS = 5000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
_REASON_SPLIT = re.compile(r"[,，、;；\s]+")
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
        month = last_closed_month(year, as_of, rules.MONTHLY) or 1
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
    for n, item in enumerate(sheet.indicators, start=2):
        ind, a = item.indicator, item.actual
        current = ""
        if a is not None:
            current = a.assessment or "" if item.measure == rules.QUALITATIVE else f"{plain_number(a.value)}{a.unit or ''}"
        write_row(actuals, n, [ind.id, f"{sheet.year}-{sheet.month:02d}", a.version if a else 0, item.project.name,
                               ind.level1, ind.annual_level2, ind.annual_level3, ind.annual_raw,
                               MEASURE_LABELS[item.measure], ind.annual_unit or "", current])
        choices = choice_list(unit_choices(ind.annual_unit)) if item.measure != rules.QUALITATIVE else None
        if choices:
            unit_lists.setdefault(choices, []).append(f"{_col(ACTUAL_COLUMNS, '单位')}{n}")
    last = max(2, len(sheet.indicators) + 1)
    _validations(actuals, ACTUAL_COLUMNS, last, unit_lists)
    _finish(actuals, ACTUAL_COLUMNS, ACTUAL_INPUTS, {"项目": 22, "三级指标": 24, "指标值": 14, "当前值": 12,
                                                    "偏差原因": 22, "偏差说明": 24, "备注": 24})

    spending = book.create_sheet(SPENDING_SHEET)
    _header(spending, SPENDING_COLUMNS, SPENDING_INPUTS)
    for n, item in enumerate(sheet.spending, start=2):
        s = item.spending
        write_row(spending, n, [item.year.id, f"{sheet.year}-{sheet.month:02d}", s.version if s else 0,
                                item.project.name, item.year.annual_total_yuan, s.amount_yuan if s else None, None,
                                "元"])
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
    _finish(spending, SPENDING_COLUMNS, SPENDING_INPUTS, {"项目": 24, "年度资金（元）": 18, "当前累计支出（元）": 18,
                                                          "累计支出": 16})

    readme = book.create_sheet(README_SHEET)
    lines = [f"批量填报表：{sheet.unit.name if sheet.unit else '全部实施单位'}，{period_label(sheet.year, sheet.month)}",
             "在“实际值”表的黄色列中填写本期实际值（累计指标填年初至本期末的累计数，水平指标填当前水平，定性指标选择完成情况），"
             "在“预算支出”表中填写年初至本期末的累计支出。",
             f"单位可用同一种单位的其他写法（如 元/万元/亿元）；偏差原因可填多个，用逗号分隔，可选：{'、'.join(DEVIATION_REASONS)}。",
             "灯为黄或红时必须填写偏差原因。全部黄色列都空着的行不会保存。",
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
    for name in ("实际值", "全年预计"):
        dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                            error=f"{name}应为不小于 0 的数字", errorTitle=name)
        dv.add(column_range(name))
        ws.add_data_validation(dv)
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


# --------------------------------------------------------------------------- the upload

class Rejected(Exception):
    """Some rows were wrong: roll everything back."""


@dataclass
class Outcome:
    actuals: int = 0
    spending: int = 0
    errors: list[str] = field(default_factory=list)


@bp.post("/bulk")
def upload():
    choice = _choice_from_form()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(choice, 422, ["请选择填好的 Excel 填报表（xlsx）"])
    data = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
    if len(data) > current_app.config["MAX_UPLOAD_BYTES"]:
        return _page(choice, 422, [f"文件超过 {current_app.config['MAX_UPLOAD_BYTES'] // (1024 * 1024)} MB"])
    try:
        book = open_workbook(data)
    except ValueError as exc:
        return _page(choice, 422, [str(exc)])
    session = get_session()
    outcome = Outcome()
    try:
        with transaction(session):
            store_workbook(session, book, outcome)
            if outcome.errors:
                raise Rejected
    except Rejected:
        return _page(choice, 422, outcome.errors)
    if not outcome.actuals and not outcome.spending:
        return _page(choice, 422, ["表中没有填写任何实际值或支出（黄色列全部为空），没有保存任何内容"])
    flash(f"已保存 {outcome.actuals} 条实际值，{outcome.spending} 条支出。", "success")
    return redirect(url_for("bulk.index", year=choice.year, period=choice.period,
                            **({"unit": choice.unit_id} if g.user.role == "admin" and choice.unit_id else {})), 303)


def _choice_from_form() -> Choice:
    """Where to come back to: the period and unit of the page the upload came from."""
    try:
        year, month = parse_period(request.form.get("period"))
    except EntryError:
        year, month = today().year, last_closed_month(today().year, today(), rules.MONTHLY) or 1
    unit_id = whole_number(request.form.get("unit", "")) if g.user.role == "admin" else g.user.unit_id
    return Choice(year, month, unit_id)


def open_workbook(data: bytes):
    """The uploaded workbook, refusing what is not an xlsx or unpacks to too much."""
    if not data.startswith(b"PK\x03\x04"):
        raise ValueError("不是 Excel（xlsx）文件：请上传从本页下载并填好的填报表")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ValueError("文件解压后过大，不是正常的填报表")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValueError:
        raise
    except Exception as exc:   # openpyxl raises many kinds for a damaged file
        raise ValueError("无法读取该 Excel 文件，文件可能已损坏") from exc
    if ACTUALS_SHEET not in book.sheetnames and SPENDING_SHEET not in book.sheetnames:
        raise ValueError("不是本系统的填报表：缺少“实际值”和“预算支出”工作表，请使用本页下载的填报表")
    return book


def _rows(ws, columns, inputs):
    """(row number, {header: value}) for each row with any input filled in."""
    rows = ws.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(f"“{ws.title}”表缺少列：{'、'.join(missing)}（请勿删除或改名表头）")
    index = {name: header.index(name) for name in columns}
    for n, values in enumerate(rows, start=2):
        if n > MAX_ROWS + 1:
            raise ValueError(f"“{ws.title}”表超过 {MAX_ROWS} 行")
        cells = {name: (values[i] if i < len(values) else None) for name, i in index.items()}
        cells = {k: (v.strip() if isinstance(v, str) else v) for k, v in cells.items()}
        if all(cells[name] in (None, "") for name in inputs):
            continue
        yield n, cells


def _text(value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _int(value) -> int | None:
    """An id or version cell: a number (Excel's are floats) or digits; None for anything else."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return whole_number(value)


def store_workbook(session, book, outcome: Outcome) -> None:
    ctx = entry_context()
    if ACTUALS_SHEET in book.sheetnames:
        try:
            _store_actuals(session, book[ACTUALS_SHEET], ctx, outcome)
        except ValueError as exc:
            outcome.errors.append(str(exc))
    if SPENDING_SHEET in book.sheetnames:
        try:
            _store_spending(session, book[SPENDING_SHEET], ctx, outcome)
        except ValueError as exc:
            outcome.errors.append(str(exc))


def _store_actuals(session, ws, ctx: Context, outcome: Outcome) -> None:
    seen: dict[tuple[int, int], int] = {}
    for n, cells in _rows(ws, ACTUAL_COLUMNS, ACTUAL_INPUTS):
        where = f"第 {n} 行（{cells['项目'] or '?'} / {cells['三级指标'] or '?'}）"

        def fail(message: str) -> None:
            outcome.errors.append(f"{where}：{message}")

        indicator_id = _int(cells["指标ID"])
        found = indicator_in_scope(session, g.user, indicator_id) if indicator_id else None
        if found is None or not may_edit_actuals(g.user, found[0]):
            fail("该指标不存在或不在您的填报范围内（请勿修改隐藏的指标ID列）")
            continue
        project, py, ind = found
        try:
            year, month = parse_period(_text(cells["期间"]))
            check_period(py, year, month)
        except EntryError as exc:
            fail(str(exc))
            continue
        if (ind.id, month) in seen:
            fail(f"与第 {seen[ind.id, month]} 行是同一指标的同一期间，只能填一次")
            continue
        seen[ind.id, month] = n
        reasons = [r for r in _REASON_SPLIT.split(_text(cells["偏差原因"]) or "") if r]
        try:
            data = ActualInput.model_validate({
                "value": cells["实际值"], "unit": _text(cells["单位"]), "assessment": _text(cells["完成情况"]),
                "forecast": cells["全年预计"], "deviation_reasons": reasons,
                "deviation_note": _text(cells["偏差说明"]), "likelihood": _text(cells["完成可能性"]),
                "note": _text(cells["备注"]), "version": _int(cells["版本"]) or 0})
        except ValidationError as exc:
            fail(validation_message(exc))
            continue
        try:
            record_actual(session, ind, py, year, month, data, ctx)
        except EntryError as exc:
            fail(str(exc))
            continue
        except StaleEdit as exc:
            fail(f"该数值在您下载填报表之后已被{user_label(session, exc.updated_by)}修改，请重新下载填报表后再填")
            continue
        outcome.actuals += 1


def _store_spending(session, ws, ctx: Context, outcome: Outcome) -> None:
    seen: dict[tuple[int, int], int] = {}
    for n, cells in _rows(ws, SPENDING_COLUMNS, ("累计支出",)):    # the unit comes filled in (元)
        where = f"“预算支出”表第 {n} 行（{cells['项目'] or '?'}）"

        def fail(message: str) -> None:
            outcome.errors.append(f"{where}：{message}")

        year_id = _int(cells["项目年度ID"])
        found = project_year_visible(session, g.user, year_id) if year_id else None
        project, py = found if found else (None, None)
        if py is None or not may_edit_actuals(g.user, project):
            fail("该项目不存在或不在您的填报范围内（请勿修改隐藏的项目年度ID列）")
            continue
        try:
            year, month = parse_period(_text(cells["期间"]))
            check_period(py, year, month)
            amount = spending_amount_yuan(cells["累计支出"], _text(cells["单位"]) or "元")
        except EntryError as exc:
            fail(str(exc))
            continue
        if (py.id, month) in seen:
            fail(f"与第 {seen[py.id, month]} 行是同一项目的同一期间，只能填一次")
            continue
        seen[py.id, month] = n
        version = _int(cells["版本"]) or 0
        try:
            if not version:
                _no_spending_since(session, py, month)
            record_spending(session, py, year, month, amount, ctx, version or None)
        except EntryError as exc:
            fail(str(exc))
            continue
        except StaleEdit as exc:
            fail(f"该支出在您下载填报表之后已被{user_label(session, exc.updated_by)}修改，请重新下载填报表后再填")
            continue
        outcome.spending += 1


def _no_spending_since(session, py, month: int) -> None:
    """A sheet downloaded before any spending was stored (version 0): if some exists now, it was
    entered since, and is reported instead of overwritten."""
    existing = spending_of(session, py.id, month)
    if existing is not None:
        raise StaleEdit(existing.version, existing.updated_by)
