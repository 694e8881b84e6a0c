"""The 项目支出绩效运行监控表 as xlsx: a sheet per project (the read model reads/monitoring.py
`MonitoringSheet`, which the printable page shows too), and for a 实施单位 a 汇总 sheet first. In
a table headed 1–N月 a figure of an earlier period is written as text naming its period
(reads/wording.py), never as a number that passes for N's, and the 汇总's 合计 adds up N's
figures only."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from domain import rules
from domain.calendar import YearCalendar
from models.org import Unit
from models.xlsx_cells import put, workbook_bytes
from reads.monitoring import SEE_GOAL_ROW, WAN, YUAN, MonitoringSheet, in_unit
from reads.wording import data_as_of, period_name, wan_text

WAN_FORMAT = "#,##0.00####"      # 万元: two decimals, the fen where there are any (12,345,678.90 元 → 1,234.56789)


def shown_amount(yuan, unit: str = WAN):
    """An amount cell's number in the table's unit (None: unknown, an empty cell)."""
    return shown_number(yuan) if unit == YUAN else in_unit(yuan, unit)
from reads.xlsx_layout import (CENTER, HEAD_FILL, MARK_FILL, MONEY_FORMAT, RATE_FORMAT, RIGHT, WRAP, as_of_line, cell, column_heads,
                               execution_cells, fit_merged, header_block, level_cells, light_fill, light_text,
                               merged, page_setup, sheet_heading, sheet_title, shown_number, shown_rate)

MONITORING_COLUMNS = (("一级指标", 11), ("二级指标", 11), ("三级指标", 18), ("年度指标值", 13),
                      ("执行情况", 20), ("全年预计完成情况", 17), ("灯色", 9), ("偏差原因分析", 20),
                      ("改进（纠偏）措施", 16), ("完成目标可能性", 9), ("备注", 14))
PERIOD_COLUMNS = (("实施期指标值", 12), ("实施期累计完成情况", 18))       # after 年度指标值, where the project has them
FUNDS_HEADS = ("年初预算数", "调整后预算数", "执行数", "执行率", "序时进度", "灯色", "全年预计执行数", "偏差原因分析",
               "完成目标可能性", "备注")
SIGNATURES = ("填报人：", "项目负责人：", "财务负责人：", "单位负责人（签字）：")
DERIVED_FONT = Font(name="宋体", size=10, italic=True, color="595959")    # a figure nobody entered


def monitoring_columns(sheet: MonitoringSheet) -> tuple:
    columns = MONITORING_COLUMNS
    return columns[:4] + PERIOD_COLUMNS + columns[4:] if sheet.has_period else columns


def write_monitoring(ws, sheet: MonitoringSheet, unit: str = WAN) -> None:
    """The official layout: the header, 项目资金 (年度资金总额, 其中：财政拨款 / 其他资金), 年度总体目标,
    the indicators, the signatures. Amounts in 万元 (or 元); a derived figure is marked （推算）."""
    columns = monitoring_columns(sheet)
    n = len(columns)
    sheet_heading(ws, sheet.title, n)
    as_of_line(ws, sheet.data_as_of, columns)
    py = sheet.py
    row = header_block(ws, 3, sheet.project.name, sheet.department_name, sheet.unit.name, py.owner or "",
                       py.phone or "", n)
    row = _funds(ws, row, sheet, n, unit)
    row = _goal(ws, row, sheet, n)
    header_row = row
    labels = [label if label != "执行情况" else f"1-{sheet.month}月执行情况" for label, _w in columns]
    column_heads(ws, row, labels)
    for item in sheet.rows:
        row += 1
        level_cells(ws, row, item)
        period = (item.period_target, item.period_progress) if sheet.has_period else ()
        values = (item.name, item.target, *period, item.actual)
        for col, value in enumerate(values, start=3):
            cell(ws, row, col, value)
        col = 3 + len(values)
        forecast = cell(ws, row, col, item.forecast)
        if item.forecast_derived:
            forecast.font = DERIVED_FONT
        cell(ws, row, col + 1, light_text(item.light_word, item.over), align=CENTER, fill=light_fill(item.light))
        for offset, value in enumerate((item.reasons, item.correction, item.likelihood, item.note), start=2):
            cell(ws, row, col + offset, value, align=CENTER if offset == 4 else WRAP)
    _signatures(ws, row + 1, n)
    page_setup(ws, columns, landscape=True, header_row=header_row)


def _funds(ws, row: int, sheet: MonitoringSheet, n: int, unit: str) -> int:
    """项目资金（万元）: a head row, then 年度资金总额 with its figures, then 其中：财政拨款 / 其他资金
    with their budgets (spending is not entered by source: said once across their rows)."""
    spans_ = [(2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7), (8, 8), (9, n - 2), (n - 1, n - 1), (n, n)]
    cell(ws, row, 1, f"项目资金（{unit}）", bold=True, align=CENTER, fill=HEAD_FILL)
    for (first, last), label in zip(spans_, FUNDS_HEADS):
        label = f"1-{sheet.month}月执行数" if label == "执行数" else label
        merged(ws, row, first, last, label, bold=True, align=CENTER, fill=HEAD_FILL)
    row += 1
    money = MONEY_FORMAT if unit == YUAN else WAN_FORMAT
    cell(ws, row, 1, "年度资金总额", bold=True, align=CENTER)
    for col, yuan in ((2, sheet.budget_yuan), (3, sheet.adjusted_yuan)):
        cell(ws, row, col, shown_amount(yuan, unit), number_format=money, align=RIGHT)
    if sheet.execution.is_current:
        cell(ws, row, 4, shown_amount(sheet.execution.spent_yuan, unit), number_format=money, align=RIGHT)
        cell(ws, row, 5, shown_rate(sheet.execution.rate), number_format=RATE_FORMAT, align=RIGHT)
    else:
        cell(ws, row, 4, sheet.spent_text(unit))
        cell(ws, row, 5, sheet.execution.rate_text)
    cell(ws, row, 6, shown_rate(sheet.progress), number_format=RATE_FORMAT, align=RIGHT)
    cell(ws, row, 7, sheet.budget_light_word, align=CENTER, fill=light_fill(sheet.budget_light))
    cell(ws, row, 8, sheet.forecast_text(unit), align=RIGHT).font = DERIVED_FONT
    merged(ws, row, 9, n - 2, sheet.execution.mark or ("—" if sheet.budget_light in (None, rules.GREEN)
                                                       else SEE_GOAL_ROW),
           fill=MARK_FILL if sheet.execution.mark else None)
    cell(ws, row, n - 1, "—", align=CENTER)
    cell(ws, row, n, sheet.forecast_basis)
    first = row + 1
    for line in sheet.funds:
        row += 1
        cell(ws, row, 1, line.label, align=CENTER)
        cell(ws, row, 2, shown_amount(line.initial_yuan, unit), number_format=money, align=RIGHT)
        cell(ws, row, 3, shown_amount(line.adjusted_yuan, unit), number_format=money, align=RIGHT)
    merged(ws, first, 4, n, "执行数未按资金来源分别填报；调整后预算数：预算调整计入财政拨款", last_row=row, align=CENTER)
    if not sheet.execution.mark:
        return row + 1
    merged(ws, row + 1, 1, 1, "预算执行标记", bold=True, align=CENTER)
    merged(ws, row + 1, 2, n, sheet.execution.mark, align=WRAP, fill=MARK_FILL)
    return row + 2


def _goal(ws, row: int, sheet: MonitoringSheet, n: int) -> int:
    """年度总体目标: 预期目标 / 1–N月执行情况 (the round's text) / 偏差原因分析 / 改进（纠偏）措施 /
    完成目标可能性 / 备注, over the indicator table's columns."""
    spans_ = [(2, 4), (5, n - 4), (n - 3, n - 3), (n - 2, n - 2), (n - 1, n - 1), (n, n)]
    heads = ("预期目标", f"1-{sheet.month}月执行情况", "偏差原因分析", "改进（纠偏）措施", "完成目标可能性", "备注")
    values = (sheet.goal or "空", sheet.goal_progress, sheet.goal_deviation, sheet.goal_correction,
              sheet.goal_likelihood, sheet.goal_note)
    merged(ws, row, 1, 1, "年度总体目标", last_row=row + 1, bold=True, align=CENTER)
    for (first, last), head, value in zip(spans_, heads, values):
        merged(ws, row, first, last, head, bold=True, align=CENTER, fill=HEAD_FILL)
        merged(ws, row + 1, first, last, value, align=WRAP)
    widths = [w for _l, w in monitoring_columns(sheet)]
    longest = max(sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(v)) / max(1, sum(widths[a - 1:b]) - (b - a + 1))
                  for (a, b), v in zip(spans_, values))
    ws.row_dimensions[row + 1].height = 15 * max(2, -(-int(longest * 10) // 10) + 1)
    return row + 2


def _signatures(ws, row: int, n: int) -> None:
    """填报人、项目负责人、财务负责人、单位负责人（签字） with 填报日期, and 单位（盖章), under the table."""
    quarter = max(1, n // 4)
    for k, label in enumerate(SIGNATURES):
        first = 1 + k * quarter
        last = n if k == len(SIGNATURES) - 1 else first + quarter - 1
        ws.merge_cells(start_row=row + 1, start_column=first, end_row=row + 1, end_column=last)
        put(ws.cell(row=row + 1, column=first), label).alignment = Alignment(vertical="bottom")
    ws.merge_cells(start_row=row + 2, start_column=1, end_row=row + 2, end_column=n // 2)
    put(ws.cell(row=row + 2, column=1), "填报日期：　　　　年　　月　　日").alignment = Alignment(vertical="bottom")
    ws.merge_cells(start_row=row + 2, start_column=n // 2 + 1, end_row=row + 2, end_column=n)
    put(ws.cell(row=row + 2, column=n // 2 + 1), "单位（盖章）").alignment = Alignment(horizontal="right",
                                                                                 vertical="bottom")
    ws.row_dimensions[row + 1].height = ws.row_dimensions[row + 2].height = 30


SUMMARY_COLUMNS = (("序号", 6), ("项目名称", 30), ("年初预算数（万元）", 14), ("调整后预算数（万元）", 14),
                   ("执行数（万元）", 20), ("执行率", 13), ("预算灯色", 12), ("年度指标", 8), ("绿", 6), ("黄", 6),
                   ("红", 6), ("灰", 6), ("超额", 6), ("预算执行标记", 28))
OVER_COLUMN, MARK_COLUMN = 13, 14


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
    total_initial = sum((s.budget_yuan for s in counted), Decimal(0))
    total_budget = sum((s.adjusted_yuan for s in counted), Decimal(0))      # the 执行率 is of the budget in force
    total_spent = sum((s.execution.spent_yuan for s in counted), Decimal(0))
    merged(ws, row, 1, 2, "合计（已填报本期支出且年度资金已知的项目）", bold=True)
    fit_merged(ws, row, "合计（已填报本期支出且年度资金已知的项目）", SUMMARY_COLUMNS[:2])
    for col, total in ((3, total_initial), (4, total_budget), (5, total_spent)):
        cell(ws, row, col, shown_amount(total), bold=True, number_format=WAN_FORMAT, align=RIGHT)
    cell(ws, row, 6, shown_rate(rules.execution_rate(total_spent, total_budget)), bold=True, number_format=RATE_FORMAT,
         align=RIGHT)
    cell(ws, row, 7, "", bold=True)
    cell(ws, row, 8, sum(len(s.rows) for s in sheets), bold=True, align=RIGHT)
    for col, light in enumerate((rules.GREEN, rules.YELLOW, rules.RED, rules.GREY), start=9):
        cell(ws, row, col, sum(s.counts[light] for s in sheets), bold=True, align=RIGHT)
    cell(ws, row, OVER_COLUMN, sum(s.over_count for s in sheets), bold=True, align=RIGHT)
    cell(ws, row, MARK_COLUMN, "", bold=True)
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
    if sheet.execution.is_current:
        spent, spent_format = shown_amount(sheet.execution.spent_yuan), WAN_FORMAT
    else:
        spent = sheet.spent_text()
    counts = sheet.counts
    cell(ws, row, 1, n, align=RIGHT)
    cell(ws, row, 2, name)
    cell(ws, row, 3, shown_amount(sheet.budget_yuan), number_format=WAN_FORMAT, align=RIGHT)
    cell(ws, row, 4, shown_amount(sheet.adjusted_yuan), number_format=WAN_FORMAT, align=RIGHT)
    cell(ws, row, 5, spent, number_format=spent_format, align=RIGHT if spent_format else WRAP)
    cell(ws, row, 6, rate, number_format=rate_format, align=RIGHT if rate_format else WRAP)
    cell(ws, row, 7, sheet.budget_light_word, align=CENTER, fill=light_fill(sheet.budget_light))
    for col, value in enumerate((len(sheet.rows), counts[rules.GREEN], counts[rules.YELLOW], counts[rules.RED],
                                 counts[rules.GREY], sheet.over_count), start=8):
        cell(ws, row, col, value, align=RIGHT)
    cell(ws, row, MARK_COLUMN, sheet.execution.mark, align=WRAP, fill=MARK_FILL if sheet.execution.mark else None)


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
            f"不计入本期合计；这些项目的年初预算数共{wan_text(budget)}万元，亦未计入合计。")


def monitoring_workbook(sheets: list[MonitoringSheet], summary: tuple[Unit, int, int] | None = None,
                        unit: str = WAN) -> bytes:
    book = Workbook()
    taken: set[str] = set()
    first = book.active
    if summary is not None:
        first.title = sheet_title("汇总", taken)
        write_summary(first, sheets, *summary)
    for n, sheet in enumerate(sheets):
        ws = first if (summary is None and n == 0) else book.create_sheet()
        ws.title = sheet_title(sheet.project.name, taken)
        write_monitoring(ws, sheet, unit)
    return workbook_bytes(book)
