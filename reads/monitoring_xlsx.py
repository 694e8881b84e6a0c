"""The 项目支出绩效运行监控表 as xlsx: a sheet per project (the read model reads/monitoring.py
`MonitoringSheet`, which the printable page shows too), and for a 实施单位 a 汇总 sheet first. In
a table headed 1–N月 a figure of an earlier period is written as text naming its period
(reads/wording.py), never as a number that passes for N's, and the 汇总's 合计 adds up N's
figures only."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from domain import rules
from domain.calendar import YearCalendar
from models.org import Unit
from models.xlsx_cells import workbook_bytes
from reads.monitoring import MonitoringSheet
from reads.wording import data_as_of, period_name, yuan_text
from reads.xlsx_layout import (CENTER, MARK_FILL, MONEY_FORMAT, RATE_FORMAT, RIGHT, WRAP, as_of_line, cell, column_heads,
                               execution_cells, fit_merged, funds_block, header_block, level_cells, light_fill, light_text,
                               merged,
                               page_setup, sheet_heading, sheet_title, shown_number, shown_rate)

MONITORING_COLUMNS = (("一级指标", 10), ("二级指标", 12), ("三级指标", 24), ("年度指标值", 16),
                      ("执行情况", 22), ("全年预计完成情况", 16), ("偏差原因分析", 22), ("完成目标可能性", 10),
                      ("灯色", 12))


def write_monitoring(ws, sheet: MonitoringSheet) -> None:
    columns = len(MONITORING_COLUMNS)
    sheet_heading(ws, sheet.title, columns)
    as_of_line(ws, sheet.data_as_of, MONITORING_COLUMNS)
    py = sheet.py
    row = header_block(ws, 3, sheet.project.name, sheet.department_name, sheet.unit.name, py.owner or "",
                       py.phone or "", columns)
    row = funds_block(ws, row, shown_number(sheet.budget_yuan), sheet.execution, columns,
                      light=(sheet.budget_light, sheet.budget_light_word), progress=rules.elapsed_share(sheet.month))
    header_row = row
    labels = [label if label != "执行情况" else f"1-{sheet.month}月执行情况" for label, _w in MONITORING_COLUMNS]
    column_heads(ws, row, labels)
    for item in sheet.rows:
        row += 1
        level_cells(ws, row, item)
        for col, value in enumerate((item.name, item.target, item.actual, item.forecast, item.reasons,
                                     item.likelihood), start=3):
            cell(ws, row, col, value)
        cell(ws, row, 9, light_text(item.light_word, item.over), align=CENTER, fill=light_fill(item.light))
    page_setup(ws, MONITORING_COLUMNS, landscape=True, header_row=header_row)


SUMMARY_COLUMNS = (("序号", 6), ("项目名称", 30), ("年初预算数（元）", 16), ("执行数（元）", 20), ("执行率", 13),
                   ("预算灯色", 12), ("年度指标", 8), ("绿", 6), ("黄", 6), ("红", 6), ("灰", 6), ("预算执行标记", 28))


def write_summary(ws, sheets: list[MonitoringSheet], unit: Unit, year: int, month: int) -> None:
    """One row per project, then the 合计 of the projects whose spending is of the period: a
    1–N月 total adds up 1–N月 figures only. A project whose latest spending is older keeps its
    row (the figure named by its period, as text) and is left out of the total, named in a note
    below it with the reason — adding its older amount in would present it as N's."""
    columns = len(SUMMARY_COLUMNS)
    sheet_heading(ws, f"项目支出绩效运行监控汇总表（{year}年{month}月）", columns)
    items = [[month if m == s.month else m for m in s.periods_shown] for s in sheets]   # quarterly: its own period
    as_of_line(ws, f"实施单位：{unit.name}　　{data_as_of(YearCalendar(year), items, month, '个项目')}",
               SUMMARY_COLUMNS)
    column_heads(ws, 3, [label for label, _w in SUMMARY_COLUMNS])
    row = 3
    for n, sheet in enumerate(sheets, start=1):
        row += 1
        _summary_row(ws, row, n, sheet, month)
    row += 1
    counted = [s for s in sheets if _left_out_because(s) is None]
    total_budget = sum((s.budget_yuan for s in counted), Decimal(0))
    total_spent = sum((s.execution.spent_yuan for s in counted), Decimal(0))
    merged(ws, row, 1, 2, "合计（已填报本期支出且年度资金已知的项目）", bold=True)
    fit_merged(ws, row, "合计（已填报本期支出且年度资金已知的项目）", SUMMARY_COLUMNS[:2])
    cell(ws, row, 3, shown_number(total_budget), bold=True, number_format=MONEY_FORMAT, align=RIGHT)
    cell(ws, row, 4, shown_number(total_spent), bold=True, number_format=MONEY_FORMAT, align=RIGHT)
    cell(ws, row, 5, shown_rate(rules.execution_rate(total_spent, total_budget)), bold=True, number_format=RATE_FORMAT,
         align=RIGHT)
    cell(ws, row, 6, "", bold=True)
    cell(ws, row, 7, sum(len(s.rows) for s in sheets), bold=True, align=RIGHT)
    for col, light in enumerate((rules.GREEN, rules.YELLOW, rules.RED, rules.GREY), start=8):
        cell(ws, row, col, sum(s.counts[light] for s in sheets), bold=True, align=RIGHT)
    cell(ws, row, 12, "", bold=True)
    note = _left_out_note(sheets)
    if note:
        merged(ws, row + 1, 1, columns, note, align=WRAP)
        fit_merged(ws, row + 1, note, SUMMARY_COLUMNS)
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
    (spent, spent_format), (rate, rate_format) = execution_cells(sheet.execution)
    counts = sheet.counts
    cell(ws, row, 1, n, align=RIGHT)
    cell(ws, row, 2, name)
    cell(ws, row, 3, shown_number(sheet.budget_yuan), number_format=MONEY_FORMAT, align=RIGHT)
    cell(ws, row, 4, spent, number_format=spent_format, align=RIGHT if spent_format else WRAP)
    cell(ws, row, 5, rate, number_format=rate_format, align=RIGHT if rate_format else WRAP)
    cell(ws, row, 6, sheet.budget_light_word, align=CENTER, fill=light_fill(sheet.budget_light))
    for col, value in enumerate((len(sheet.rows), counts[rules.GREEN], counts[rules.YELLOW], counts[rules.RED],
                                 counts[rules.GREY]), start=7):
        cell(ws, row, col, value, align=RIGHT)
    cell(ws, row, 12, sheet.execution.mark, align=WRAP, fill=MARK_FILL if sheet.execution.mark else None)


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
