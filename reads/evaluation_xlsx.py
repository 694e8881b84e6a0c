"""The 项目支出绩效自评表 as xlsx in the official layout (财预〔2020〕10号; the published 自评表 of
云南 2020 and 四川 2023), from the read model the printable page shows too
(reads/self_evaluation.py `ScoreTable`), with the review state beside its 数据截至 line:

- 项目资金（万元）: 年初预算数 / 全年预算数 / 全年执行数 / 分值 / 执行率 / 得分 for 年度资金总额
  and 其中：当年财政拨款 / 上年结转资金 / 其他资金, a 说明 row for the cells left empty, the
  执行率偏低原因 (§5) and the 超预算 / 冲减 mark;
- 年度总体目标: 预期目标 (the form's) / 实际完成情况 (the 填报人's);
- the indicators: 指标性质 / 指标值 / 度量单位 in three columns, 实际完成值, 分值, 得分,
  偏差原因分析及改进措施; the levels' 小计, 总分 and 评价等级;
- 评价结论 / 存在问题 / 改进措施, then the 项目负责人 and 财务负责人 signature lines with the date."""
from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from domain import rules
from domain.review import STATE_LABELS
from models.org import Department, Unit, department_label
from models.project import Project
from models.xlsx_cells import put, workbook_bytes
from reads.self_evaluation import ScoreTable
from reads.xlsx_layout import (CENTER, HEAD_FILL, MARK_FILL, MONEY_FORMAT, POINTS_FORMAT, RATE_FORMAT, RIGHT, WRAP,
                               as_of_line, cell, column_heads, header_block, level_cells, merged, page_setup,
                               sheet_heading, shown_rate)

EVALUATION_COLUMNS = (("一级指标", 10), ("二级指标", 11), ("三级指标", 18), ("指标性质", 7), ("指标值", 10),
                      ("度量单位", 10), ("实际完成值", 13), ("分值", 7), ("得分", 8), ("偏差原因分析及改进措施", 24))
COLUMNS = len(EVALUATION_COLUMNS)
# 项目资金 block: (first, last) column of each figure, in the form's order
FUNDS_HEADS = (("年初预算数", (4, 5)), ("全年预算数", (6, 6)), ("全年执行数", (7, 7)), ("分值", (8, 8)),
               ("执行率", (9, 9)), ("得分", (10, 10)))
CLOSING = (("评价结论", "conclusion"), ("存在问题", "problems"), ("改进措施", "improvements"))


def write_evaluation(ws, table: ScoreTable, project: Project, unit: Unit, department: Department,
                     review: str) -> None:
    py, evaluation = table.py, table.evaluation
    sheet_heading(ws, f"项目支出绩效自评表（{py.year}年度）", COLUMNS)
    as_of_line(ws, f"{table.data_as_of} · 审核状态：{STATE_LABELS.get(review, review)}", EVALUATION_COLUMNS)
    row = header_block(ws, 3, project.name, department_label(department.code, department.name), unit.name,
                       py.owner or "", py.phone or "", COLUMNS)
    row = _funds(ws, row, table)
    row = _goal(ws, row, py.goal_annual or "", table.texts.get("goal_achieved", ""))
    header_row = row
    column_heads(ws, row, [label for label, _w in EVALUATION_COLUMNS])
    for item in table.rows:
        row += 1
        level_cells(ws, row, item)
        nature, value, unit_ = item.target_parts
        cell(ws, row, 3, item.name)
        cell(ws, row, 4, nature, align=CENTER)
        cell(ws, row, 5, value, align=CENTER)
        cell(ws, row, 6, unit_, align=CENTER)
        cell(ws, row, 7, item.actual)
        cell(ws, row, 8, float(rules.for_display(item.weight)), number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 9, float(rules.for_display(item.score)), number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 10, item.remarks)
    for level, points, scored in table.level_totals:
        row += 1
        merged(ws, row, 1, 7, f"{level}小计", bold=True, align=CENTER)
        cell(ws, row, 8, float(rules.for_display(points)), bold=True, number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 9, float(rules.for_display(scored)), bold=True, number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 10, "")
    row += 1
    merged(ws, row, 1, 7, "总分", bold=True, align=CENTER)
    cell(ws, row, 8, 100, bold=True, number_format=POINTS_FORMAT, align=RIGHT)
    cell(ws, row, 9, float(rules.for_display(evaluation.total)) if evaluation else None, bold=True,
         number_format=POINTS_FORMAT, align=RIGHT)
    cell(ws, row, 10, f"评价等级：{evaluation.grade}" if evaluation else (table.error or ""), bold=True)
    for label, column in CLOSING:
        row += 1
        cell(ws, row, 1, label, bold=True, align=CENTER)
        _text_cell(ws, row, 2, COLUMNS, table.texts.get(column, ""), lines=3)
    _signatures(ws, row + 2, table)
    page_setup(ws, EVALUATION_COLUMNS, landscape=False, header_row=header_row)


def _funds(ws, row: int, table: ScoreTable) -> int:
    """项目资金（万元）: the heads, 年度资金总额 with its points and score, 其中 the sources (分值
    and 得分 —, the cells not known empty), then 说明, 执行率偏低原因 and the 超预算 / 冲减 mark."""
    evaluation = table.evaluation
    lines = table.funds
    merged(ws, row, 1, 1, "项目资金（万元）", last_row=row + len(lines), bold=True, align=CENTER)
    merged(ws, row, 2, 3, "", fill=HEAD_FILL)
    for label, (first, last) in FUNDS_HEADS:
        merged(ws, row, first, last, label, bold=True, align=CENTER, fill=HEAD_FILL)
    for n, line in enumerate(lines, start=1):
        r = row + n
        merged(ws, r, 2, 3, line.label if line.total or n > 2 else f"其中：{line.label}", align=WRAP)
        merged(ws, r, 4, 5, _wan(line.initial_yuan), align=RIGHT, number_format=MONEY_FORMAT)
        cell(ws, r, 6, _wan(line.annual_yuan), align=RIGHT, number_format=MONEY_FORMAT)
        if not line.total:
            cell(ws, r, 7, _wan(line.spent_yuan), align=RIGHT, number_format=MONEY_FORMAT)
            cell(ws, r, 8, "—", align=CENTER)
            cell(ws, r, 9, shown_rate(line.rate), align=RIGHT, number_format=RATE_FORMAT)
            cell(ws, r, 10, "—", align=CENTER)
            continue
        if table.execution.is_current:
            cell(ws, r, 7, _wan(table.spent_yuan), align=RIGHT, number_format=MONEY_FORMAT)
            cell(ws, r, 9, shown_rate(line.rate), align=RIGHT, number_format=RATE_FORMAT)
        else:             # older spending: a text that names its period, which no SUM adds up
            cell(ws, r, 7, table.spent_text_wan)
            cell(ws, r, 9, table.execution.rate_text)
        points = evaluation.budget_points if evaluation else rules.BUDGET_POINTS
        cell(ws, r, 8, float(rules.for_display(points)), align=RIGHT, number_format=POINTS_FORMAT)
        cell(ws, r, 10, float(rules.for_display(evaluation.budget_score)) if evaluation else None, align=RIGHT,
             number_format=POINTS_FORMAT)
    row += len(lines) + 1
    extra = [("说明", "；".join(table.funds_notes) + "。", None)]
    if table.execution_reason_shown is not None:
        extra.append(("执行率偏低原因", table.execution_reason_shown, None))
    if table.execution.mark:
        extra.append(("预算执行标记", table.execution.mark, MARK_FILL))
    for label, text, fill in extra:
        cell(ws, row, 1, label, bold=True, align=CENTER)
        _text_cell(ws, row, 2, COLUMNS, text, fill=fill)
        row += 1
    return row


def _goal(ws, row: int, expected: str, achieved: str) -> int:
    """年度总体目标: 预期目标 (the form's) beside 实际完成情况 (the 填报人's)."""
    merged(ws, row, 1, 1, "年度总体目标", last_row=row + 1, bold=True, align=CENTER)
    merged(ws, row, 2, 6, "预期目标", bold=True, align=CENTER, fill=HEAD_FILL)
    merged(ws, row, 7, COLUMNS, "实际完成情况", bold=True, align=CENTER, fill=HEAD_FILL)
    merged(ws, row + 1, 2, 6, expected, align=WRAP)
    merged(ws, row + 1, 7, COLUMNS, achieved, align=WRAP)
    ws.row_dimensions[row + 1].height = max(_height(expected, 2, 6, 2), _height(achieved, 7, COLUMNS, 2))
    return row + 2


def _signatures(ws, row: int, table: ScoreTable) -> None:
    """Below the table, no borders: the two signatures (the form's 负责人 written in) and the date."""
    for (first, last), text in (((1, 3), f"项目负责人（签字）：{table.py.owner or ''}"),
                                ((4, 7), "财务负责人（签字）："),
                                ((8, COLUMNS), f"填报日期：{table.signed_on_text}")):
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        target = put(ws.cell(row=row, column=first), text)
        target.font, target.alignment = Font(name="宋体", size=10), Alignment(vertical="bottom")
    ws.row_dimensions[row].height = 30


def _text_cell(ws, row: int, first: int, last: int, text: str, fill=None, lines: int = 1) -> None:
    merged(ws, row, first, last, text, align=WRAP, fill=fill)
    ws.row_dimensions[row].height = _height(text, first, last, lines)


def _height(text: str, first: int, last: int, at_least: int = 1) -> float:
    """Excel does not grow a merged cell's row to its wrapped text: the lines it needs across
    the columns' widths (a Chinese character about two units), each line's own breaks too;
    `at_least` lines leave room to write by hand on a printed blank form."""
    width = sum(w for _label, w in EVALUATION_COLUMNS[first - 1:last]) - (last - first + 1)
    lines = sum(max(1, -(-sum(2 if ord(ch) > 0x2E7F else 1 for ch in part) // width)) for part in text.split("\n"))
    return 15 * max(at_least, lines)


def _wan(yuan: Decimal | None):
    """元 as the form's 万元 (the fen kept: the cell's format shows two places)."""
    return None if yuan is None else Decimal(yuan) / 10_000


def evaluation_workbook(table: ScoreTable, project: Project, unit: Unit, department: Department,
                        review: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = "绩效自评表"
    write_evaluation(ws, table, project, unit, department, review)
    return workbook_bytes(book)
