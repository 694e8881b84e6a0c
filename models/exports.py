"""Exports of the official tables: the 项目支出绩效运行监控表 (per project, and per 实施单位 with a
汇总 sheet) and the 项目支出绩效自评表, as xlsx (openpyxl) and as the data the printable pages show.

Every read goes through the user's scope (models/queries.py): a project the user may not see is
missing (the view answers 404), and a unit's export lists only the projects in scope. Both the
xlsx and the printable page are built from one read model (reads/monitoring.py `MonitoringSheet`,
models/evaluation.py `ScoreTable`), so the file and the page show the same figures — and, in a
table headed 1–N月, the same words for a figure of an earlier period (reads/wording.py): such a
figure is written as text naming its period, never as a number that passes for N's.

A unit's export (many projects) runs as a background job: its state and progress live in
`export_job`, each step a conditional update, the file under instance/exports/<job id>.xlsx,
served only to the user who asked.
"""
from __future__ import annotations

import logging
import re
import secrets
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Mapping

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from domain.calendar import YearCalendar
from domain import rules
from models.evaluation import STATE_LABELS, ScoreTable
from models.org import Department, Unit
from models.project import Project, ProjectYear
from models.queries import department_label, projects_visible_to
from models.user import User
from models.xlsx_cells import put, workbook_bytes
from reads.monitoring import MonitoringSheet, monitoring_sheets, sheet_month
from reads.wording import Execution, data_as_of, period_name, yuan_text

log = logging.getLogger(__name__)

LIGHT_FILLS = {rules.GREEN: "C6EFCE", rules.YELLOW: "FFEB9C", rules.RED: "FFC7CE", rules.GREY: "D9D9D9"}
MONEY_FORMAT, RATE_FORMAT, POINTS_FORMAT = "#,##0.00", "0.00%", "0.00"


# --------------------------------------------------------------------------- scoped reads

def visible_project_year(session: Session, user: User, project_id: int, year: int | None):
    """(Project, ProjectYear) of that year (else the latest) when the user may see it, else None."""
    statement = projects_visible_to(user).where(Project.id == project_id)
    if year is not None:
        statement = statement.where(ProjectYear.year == year)
    row = session.exec(statement.order_by(ProjectYear.year.desc())).first()
    return tuple(row) if row else None


def unit_project_years(session: Session, user: User, unit_id: int, year: int) -> list[tuple[Project, ProjectYear]]:
    """A 实施单位's projects of that year that the user may see, by name."""
    return [tuple(r) for r in session.exec(projects_visible_to(user).where(Project.unit_id == unit_id,
                                                                         ProjectYear.year == year)
                                           .order_by(Project.name))]


def units_in_scope(session: Session, user: User, year: int) -> list[tuple[Unit, int]]:
    """The units with projects of that year in the user's scope, and how many."""
    counts: dict[int, int] = {}
    for project, _py in session.exec(projects_visible_to(user).where(ProjectYear.year == year)):
        counts[project.unit_id] = counts.get(project.unit_id, 0) + 1
    if not counts:
        return []
    units = session.exec(select(Unit).where(Unit.id.in_(list(counts))).order_by(Unit.name)).all()
    return [(u, counts[u.id]) for u in units]


def period_month(py: ProjectYear, month: int | None, today: date) -> int:
    """The period a table shows: the one asked for, else the latest that has ended."""
    from models.actual import default_month
    return month or default_month(py, today)


# --------------------------------------------------------------------------- xlsx

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="center")
_CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
_RIGHT = Alignment(vertical="center", horizontal="right")
_BOLD = Font(name="宋体", bold=True, size=10)
_BODY = Font(name="宋体", size=10)
_HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")

MONITORING_COLUMNS = (("一级指标", 10), ("二级指标", 12), ("三级指标", 24), ("年度指标值", 16),
                      ("执行情况", 22), ("全年预计完成情况", 16), ("偏差原因分析", 22), ("完成目标可能性", 10),
                      ("灯色", 12))
EVALUATION_COLUMNS = (("一级指标", 10), ("二级指标", 12), ("三级指标", 22), ("年度指标值", 16), ("实际完成值", 20),
                      ("分值", 8), ("得分", 8), ("偏差原因分析及改进措施", 28))


def _cell(ws, row: int, col: int, value=None, *, bold=False, align=_WRAP, number_format=None, fill=None):
    cell = put(ws.cell(row=row, column=col), value)
    cell.font, cell.alignment, cell.border = (_BOLD if bold else _BODY), align, _BORDER
    if number_format:
        cell.number_format = number_format
    if fill:
        cell.fill = fill
    return cell


def _merge(ws, row: int, col: int, last_col: int, value=None, *, last_row: int | None = None, **style):
    """A merged cell with the border on every cell it covers (Excel draws each one's own)."""
    last_row = last_row or row
    for r in range(row, last_row + 1):
        for c in range(col, last_col + 1):
            _cell(ws, r, c, **({k: v for k, v in style.items() if k != "number_format"} if (r, c) != (row, col) else style))
    first = put(ws.cell(row=row, column=col), value)
    if last_col > col or last_row > row:
        ws.merge_cells(start_row=row, start_column=col, end_row=last_row, end_column=last_col)
    return first


def _title(ws, text: str, columns: int) -> None:
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    cell = put(ws.cell(row=1, column=1), text)
    cell.font, cell.alignment = Font(name="黑体", bold=True, size=16), Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30


def _page_setup(ws, columns, landscape: bool, header_row: int) -> None:
    for n, (_label, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_title_rows = f"{header_row}:{header_row}"   # the table's header on every printed page
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _header_block(ws, row: int, sheet_project: str, department: str, unit: str, owner: str, phone: str,
                  columns: int) -> int:
    """项目名称 / 主管部门 / 实施单位 / 项目负责人 / 联系电话, label-value pairs over the table's width."""
    half = columns // 2
    _cell(ws, row, 1, "项目名称", bold=True, align=_CENTER)
    _merge(ws, row, 2, columns, sheet_project)
    row += 1
    _cell(ws, row, 1, "主管部门", bold=True, align=_CENTER)
    _merge(ws, row, 2, half, department)
    _cell(ws, row, half + 1, "实施单位", bold=True, align=_CENTER)
    _merge(ws, row, half + 2, columns, unit)
    row += 1
    _cell(ws, row, 1, "项目负责人", bold=True, align=_CENTER)
    _merge(ws, row, 2, half, owner)
    _cell(ws, row, half + 1, "联系电话", bold=True, align=_CENTER)
    _merge(ws, row, half + 2, columns, phone)
    return row + 1


def _funds_block(ws, row: int, budgets: tuple, execution: Execution, columns: int,
                 light: tuple[str | None, str] | None = None, score: tuple | None = None,
                 progress: Decimal | None = None) -> int:
    """年初预算数 and 调整后预算数 (全年预算数 on the 自评表, DOMAIN §7) / 执行数 / 执行率 (元; the
    rate a number formatted as %), then the budget's light (its fill, its word) and 序时进度 —
    or, on the 自评表, the points and the score."""
    spans_ = [(1, 1), (2, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, columns)]
    labels = ["项目资金（元）", "年初预算数", "调整后预算数" if score is None else "全年预算数", "执行数", "执行率",
              "灯色" if score is None else "分值", "序时进度" if score is None else "得分"]
    _merge(ws, row, 1, 1, "项目资金（元）", last_row=row + 1, bold=True, align=_CENTER)
    for (first, last), label in zip(spans_[1:], labels[1:]):
        _merge(ws, row, first, last, label, bold=True, align=_CENTER, fill=_HEAD_FILL)
    for (first, last), budget in zip(spans_[1:3], budgets):
        _merge(ws, row + 1, first, last, budget, align=_RIGHT, number_format=MONEY_FORMAT)
    for col, (value, fmt) in zip((5, 6), _execution_cells(execution)):
        _merge(ws, row + 1, col, col, value, align=_RIGHT if fmt else _WRAP, number_format=fmt)
    if score is None:
        _merge(ws, row + 1, 7, 7, light[1], align=_CENTER, fill=_light_fill(light[0]))
        _merge(ws, row + 1, 8, columns, _rate(progress), align=_RIGHT, number_format=RATE_FORMAT)
    else:
        _merge(ws, row + 1, 7, 7, float(score[0]), align=_RIGHT, number_format=POINTS_FORMAT)
        _merge(ws, row + 1, 8, columns, float(rules.for_display(score[1])), align=_RIGHT, number_format=POINTS_FORMAT)
    return row + 2


def _execution_cells(execution: Execution) -> tuple[tuple, tuple]:
    """(value, number format) of 执行数 and 执行率: numbers when the spending is the period's own,
    else the text that names its period — a text cell that no SUM adds up either."""
    if execution.is_current:
        return (_number(execution.spent_yuan), MONEY_FORMAT), (_rate(execution.rate), RATE_FORMAT)
    return (execution.spent_text, None), (execution.rate_text, None)


def _light_fill(light: str | None) -> PatternFill | None:
    return PatternFill("solid", fgColor=LIGHT_FILLS[light]) if light in LIGHT_FILLS else None


def _number(value: Decimal | None):
    return None if value is None else rules.for_display(value)


def _rate(value: Decimal | None):
    return None if value is None else rules.for_display(value, 4)


def _as_of_line(ws, text: str, columns) -> None:
    """Row 2, over the table's width: 数据截至… (and what lags behind)."""
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    put(ws.cell(row=2, column=1), text).alignment = Alignment(horizontal="right", vertical="center", wrap_text=True)
    _fit_merged(ws, 2, text, columns)


def _fit_merged(ws, row: int, text: str, columns) -> None:
    """Excel does not grow a merged cell's row to its wrapped text: give the row the lines the
    text needs across the columns' widths (a Chinese character takes about two units)."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    width = sum(w for _label, w in columns) - len(columns)        # the cells' padding
    ws.row_dimensions[row].height = 15 * max(1, -(-units // width))


def write_monitoring(ws, sheet: MonitoringSheet) -> None:
    columns = len(MONITORING_COLUMNS)
    _title(ws, sheet.title, columns)
    _as_of_line(ws, sheet.data_as_of, MONITORING_COLUMNS)
    py = sheet.py
    row = _header_block(ws, 3, sheet.project.name, sheet.department_name, sheet.unit.name, py.owner or "",
                        py.phone or "", columns)
    row = _funds_block(ws, row, (_number(sheet.budget_yuan), _number(sheet.adjusted_yuan)), sheet.execution, columns,
                       light=(sheet.budget_light, sheet.budget_light_word), progress=rules.elapsed_share(sheet.month))
    header_row = row
    labels = [label if label != "执行情况" else f"1-{sheet.month}月执行情况" for label, _w in MONITORING_COLUMNS]
    for col, label in enumerate(labels, start=1):
        _cell(ws, row, col, label, bold=True, align=_CENTER, fill=_HEAD_FILL)
    for item in sheet.rows:
        row += 1
        if item.level1_span:
            _merge(ws, row, 1, 1, item.level1, last_row=row + item.level1_span - 1, align=_CENTER)
        if item.level2_span:
            _merge(ws, row, 2, 2, item.level2, last_row=row + item.level2_span - 1, align=_CENTER)
        for col, value in enumerate((item.name, item.target, item.actual, item.forecast, item.reasons,
                                     item.likelihood), start=3):
            _cell(ws, row, col, value)
        _cell(ws, row, 9, item.light_word, align=_CENTER, fill=_light_fill(item.light))
    _page_setup(ws, MONITORING_COLUMNS, landscape=True, header_row=header_row)


SUMMARY_COLUMNS = (("序号", 6), ("项目名称", 30), ("年初预算数（元）", 16), ("调整后预算数（元）", 16), ("执行数（元）", 20),
                   ("执行率", 13),
                   ("预算灯色", 12), ("年度指标", 8), ("绿", 6), ("黄", 6), ("红", 6), ("灰", 6))


def write_summary(ws, sheets: list[MonitoringSheet], unit: Unit, year: int, month: int) -> None:
    """One row per project, then the 合计 of the projects whose spending is of the period: a
    1–N月 total adds up 1–N月 figures only. A project whose latest spending is older keeps its
    row (the figure named by its period, as text) and is left out of the total, named in a note
    below it with the reason — adding its older amount in would present it as N's."""
    columns = len(SUMMARY_COLUMNS)
    _title(ws, f"项目支出绩效运行监控汇总表（{year}年{month}月）", columns)
    items = [[month if m == s.month else m for m in s.periods_shown] for s in sheets]   # quarterly: its own period
    _as_of_line(ws, f"实施单位：{unit.name}　　{data_as_of(YearCalendar(year), items, month, '个项目')}",
                SUMMARY_COLUMNS)
    for col, (label, _w) in enumerate(SUMMARY_COLUMNS, start=1):
        _cell(ws, 3, col, label, bold=True, align=_CENTER, fill=_HEAD_FILL)
    row = 3
    for n, sheet in enumerate(sheets, start=1):
        row += 1
        _summary_row(ws, row, n, sheet, month)
    row += 1
    counted = [s for s in sheets if _left_out_because(s) is None]
    total_initial = sum((s.budget_yuan for s in counted), Decimal(0))
    total_budget = sum((s.adjusted_yuan for s in counted), Decimal(0))      # the 执行率 is of the budget in force
    total_spent = sum((s.execution.spent_yuan for s in counted), Decimal(0))
    _merge(ws, row, 1, 2, "合计（已填报本期支出且年度资金已知的项目）", bold=True)
    _fit_merged(ws, row, "合计（已填报本期支出且年度资金已知的项目）", SUMMARY_COLUMNS[:2])
    for col, total in ((3, total_initial), (4, total_budget), (5, total_spent)):
        _cell(ws, row, col, _number(total), bold=True, number_format=MONEY_FORMAT, align=_RIGHT)
    _cell(ws, row, 6, _rate(rules.execution_rate(total_spent, total_budget)), bold=True, number_format=RATE_FORMAT,
          align=_RIGHT)
    _cell(ws, row, 7, "", bold=True)
    _cell(ws, row, 8, sum(len(s.rows) for s in sheets), bold=True, align=_RIGHT)
    for col, light in enumerate((rules.GREEN, rules.YELLOW, rules.RED, rules.GREY), start=9):
        _cell(ws, row, col, sum(s.counts[light] for s in sheets), bold=True, align=_RIGHT)
    note = _left_out_note(sheets)
    if note:
        _merge(ws, row + 1, 1, columns, note, align=_WRAP)
        _fit_merged(ws, row + 1, note, SUMMARY_COLUMNS)
    for n, (_label, width) in enumerate(SUMMARY_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.page_setup.paperSize, ws.page_setup.orientation = ws.PAPERSIZE_A4, "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"


def _summary_row(ws, row: int, n: int, sheet: MonitoringSheet, month: int) -> None:
    name = sheet.project.name
    if sheet.month != month:
        name += f"（按季度填报，数据为1-{sheet.month}月）"
    (spent, spent_format), (rate, rate_format) = _execution_cells(sheet.execution)
    counts = sheet.counts
    _cell(ws, row, 1, n, align=_RIGHT)
    _cell(ws, row, 2, name)
    _cell(ws, row, 3, _number(sheet.budget_yuan), number_format=MONEY_FORMAT, align=_RIGHT)
    _cell(ws, row, 4, _number(sheet.adjusted_yuan), number_format=MONEY_FORMAT, align=_RIGHT)
    _cell(ws, row, 5, spent, number_format=spent_format, align=_RIGHT if spent_format else _WRAP)
    _cell(ws, row, 6, rate, number_format=rate_format, align=_RIGHT if rate_format else _WRAP)
    _cell(ws, row, 7, sheet.budget_light_word, align=_CENTER, fill=_light_fill(sheet.budget_light))
    for col, value in enumerate((len(sheet.rows), counts[rules.GREEN], counts[rules.YELLOW], counts[rules.RED],
                                 counts[rules.GREY]), start=8):
        _cell(ws, row, col, value, align=_RIGHT)


def _left_out_because(sheet: MonitoringSheet) -> str | None:
    """Why a project's spending is not in the 合计 (None: it is)."""
    if sheet.budget_yuan is None:
        return "年度资金未知"
    if not sheet.execution.is_current:
        return f"{period_name(sheet.calendar, sheet.month)}支出未填报"
    return None


def _left_out_note(sheets: list[MonitoringSheet]) -> str | None:
    left_out = [(s, _left_out_because(s)) for s in sheets if _left_out_because(s) is not None]
    if not left_out:
        return None
    budget = sum((s.budget_yuan for s, _why in left_out if s.budget_yuan is not None), Decimal(0))
    named = "；".join(f"{s.project.name}（{why}）" for s, why in left_out)
    return (f"注：合计不含未更新项目{len(left_out)}个——{named}。其执行数为最近一次填报数，已在各行注明期间，"
            f"不计入本期合计；这些项目的年初预算数共{yuan_text(budget)}元，亦未计入合计。")


def write_evaluation(ws, table: ScoreTable, project: Project, unit: Unit, department: Department,
                     review: str) -> None:
    columns = len(EVALUATION_COLUMNS)
    py, evaluation = table.py, table.evaluation
    _title(ws, f"项目支出绩效自评表（{py.year}年度）", columns)
    _as_of_line(ws, f"{table.data_as_of} · 审核状态：{STATE_LABELS.get(review, review)}", EVALUATION_COLUMNS)
    row = _header_block(ws, 3, project.name, department_label(department.code, department.name), unit.name,
                        py.owner or "", py.phone or "", columns)
    row = _funds_block(ws, row, (_number(py.annual_total_yuan), _number(table.budget_yuan)), table.execution, columns,
                       score=(rules.BUDGET_POINTS, evaluation.budget_score) if evaluation else (rules.BUDGET_POINTS, 0))
    header_row = row
    for col, (label, _w) in enumerate(EVALUATION_COLUMNS, start=1):
        _cell(ws, row, col, label, bold=True, align=_CENTER, fill=_HEAD_FILL)
    for item in table.rows:
        row += 1
        if item.level1_span:
            _merge(ws, row, 1, 1, item.level1, last_row=row + item.level1_span - 1, align=_CENTER)
        if item.level2_span:
            _merge(ws, row, 2, 2, item.level2, last_row=row + item.level2_span - 1, align=_CENTER)
        _cell(ws, row, 3, item.name)
        _cell(ws, row, 4, item.target)
        _cell(ws, row, 5, item.actual)
        _cell(ws, row, 6, float(rules.for_display(item.weight)), number_format=POINTS_FORMAT, align=_RIGHT)
        _cell(ws, row, 7, float(rules.for_display(item.score)), number_format=POINTS_FORMAT, align=_RIGHT)
        _cell(ws, row, 8, item.note)
    for level, points, scored in table.level_totals:
        row += 1
        _merge(ws, row, 1, 5, f"{level}小计", bold=True, align=_CENTER)
        _cell(ws, row, 6, float(rules.for_display(points)), bold=True, number_format=POINTS_FORMAT, align=_RIGHT)
        _cell(ws, row, 7, float(rules.for_display(scored)), bold=True, number_format=POINTS_FORMAT, align=_RIGHT)
        _cell(ws, row, 8, "")
    row += 1
    _merge(ws, row, 1, 5, "总分", bold=True, align=_CENTER)
    _cell(ws, row, 6, 100, bold=True, number_format=POINTS_FORMAT, align=_RIGHT)
    _cell(ws, row, 7, float(rules.for_display(evaluation.total)) if evaluation else None, bold=True,
          number_format=POINTS_FORMAT, align=_RIGHT)
    _cell(ws, row, 8, f"评价等级：{evaluation.grade}" if evaluation else (table.error or ""), bold=True)
    _page_setup(ws, EVALUATION_COLUMNS, landscape=False, header_row=header_row)


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel sheet name: no []:*?/\\, at most 31 characters, unique in the book."""
    base = re.sub(r"[\[\]:*?/\\]", "", name)[:28] or "项目"
    title, n = base, 2
    while title in taken:
        title, n = f"{base[:26]}({n})", n + 1
    taken.add(title)
    return title


def monitoring_workbook(sheets: list[MonitoringSheet], summary: tuple[Unit, int, int] | None = None) -> bytes:
    book = Workbook()
    taken: set[str] = set()
    first = book.active
    if summary is not None:
        first.title = sheet_title("汇总", taken)
        write_summary(first, sheets, *summary)
    for n, sheet in enumerate(sheets):
        ws = first if (summary is None and n == 0) else book.create_sheet()
        ws.title = sheet_title(sheet.project.name, taken)
        write_monitoring(ws, sheet)
    return workbook_bytes(book)


def evaluation_workbook(table: ScoreTable, project: Project, unit: Unit, department: Department,
                        review: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = "绩效自评表"
    write_evaluation(ws, table, project, unit, department, review)
    return workbook_bytes(book)


# --------------------------------------------------------------------------- the background job

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_LABELS = {QUEUED: "排队中", RUNNING: "正在生成", DONE: "已完成", FAILED: "失败"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ExportJob(SQLModel, table=True):
    """One unit-level 监控表 export. A poll reads this one row."""
    __tablename__ = "export_job"
    id: str = Field(primary_key=True, max_length=32)    # random: the URL alone must not be guessable
    user_id: int = Field(foreign_key="app_user.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int
    month: int
    state: str = Field(default=QUEUED, max_length=10)
    total: int = 0
    done: int = 0
    file_name: str = Field(max_length=200)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime
    finished_at: datetime | None = None


def new_job_id() -> str:
    return secrets.token_hex(16)


def export_file(directory: str | Path, job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise ValueError("bad job id")
    return Path(directory) / f"{job_id}.xlsx"


def create_export_job(session: Session, user: User, unit: Unit, year: int, month: int, total: int,
                      now: datetime) -> ExportJob:
    from models.db import transaction
    job = ExportJob(id=new_job_id(), user_id=user.id, unit_id=unit.id, year=year, month=month, total=total,
                    file_name=f"项目支出绩效运行监控表_{unit.name}_{year}年{month}月.xlsx", created_at=now)
    with transaction(session):
        session.add(job)
    return job


def job_of(session: Session, user: User, job_id: str) -> ExportJob | None:
    """The job, only for the user who asked for it."""
    if not re.fullmatch(r"[0-9a-f]{32}", job_id or ""):
        return None
    job = session.get(ExportJob, job_id)
    return job if job is not None and job.user_id == user.id else None


def _move(session: Session, job_id: str, from_states: tuple[str, ...], **values) -> bool:
    from models.db import transaction
    with transaction(session):
        result = session.exec(update(ExportJob).where(ExportJob.id == job_id, ExportJob.state.in_(from_states))
                              .values(**values))
    return result.rowcount == 1


def run_export_job(engine: Engine, job_id: str, directory: str | Path, today: date, config: Mapping) -> None:
    """Build the unit's workbook project by project, counting progress; claims the job first
    (queued → running), so a second runner does nothing. Reads within the asker's scope, each
    project as of the job's month (a quarterly one: its latest quarter by then), judged on
    `today` with the settings `config`."""
    with Session(engine, expire_on_commit=False) as session:
        if not _move(session, job_id, (QUEUED,), state=RUNNING):
            return
        try:
            job = session.get(ExportJob, job_id)
            user, unit = session.get(User, job.user_id), session.get(Unit, job.unit_id)
            sheets = []
            for n, (project, py) in enumerate(unit_project_years(session, user, unit.id, job.year), start=1):
                sheets += monitoring_sheets(session, [(project, py, sheet_month(py, job.month))], today, config)
                session.commit()
                _move(session, job_id, (RUNNING,), done=n, total=max(job.total, n))
            data = monitoring_workbook(sheets, summary=(unit, job.year, job.month))
            path = export_file(directory, job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            _move(session, job_id, (RUNNING,), state=DONE, done=len(sheets), total=len(sheets), finished_at=utcnow())
        except Exception:   # noqa: BLE001 — the job must end in a state the page can show
            log.exception("export job %s failed", job_id)
            session.rollback()
            _move(session, job_id, (RUNNING, QUEUED), state=FAILED, error="导出失败，请重试或联系管理员",
                  finished_at=utcnow())
