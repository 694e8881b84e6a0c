"""The 项目支出绩效自评表 as xlsx, from the read model the printable page shows too
(reads/self_evaluation.py `ScoreTable`), with the review state beside its 数据截至 line."""
from __future__ import annotations

from openpyxl import Workbook

from domain import rules
from domain.review import STATE_LABELS
from models.org import Department, Unit, department_label
from models.project import Project
from models.xlsx_cells import workbook_bytes
from reads.self_evaluation import ScoreTable
from reads.xlsx_layout import (CENTER, POINTS_FORMAT, RIGHT, as_of_line, cell, column_heads, funds_block,
                               header_block, level_cells, merged, page_setup, sheet_heading, shown_number)

EVALUATION_COLUMNS = (("一级指标", 10), ("二级指标", 12), ("三级指标", 22), ("年度指标值", 13), ("实际完成值", 20),
                      ("分值", 8), ("得分", 8), ("偏差原因分析及改进措施", 28))


def write_evaluation(ws, table: ScoreTable, project: Project, unit: Unit, department: Department,
                     review: str) -> None:
    columns = len(EVALUATION_COLUMNS)
    py, evaluation = table.py, table.evaluation
    sheet_heading(ws, f"项目支出绩效自评表（{py.year}年度）", columns)
    as_of_line(ws, f"{table.data_as_of} · 审核状态：{STATE_LABELS.get(review, review)}", EVALUATION_COLUMNS)
    row = header_block(ws, 3, project.name, department_label(department.code, department.name), unit.name,
                       py.owner or "", py.phone or "", columns)
    points = rules.for_display(evaluation.budget_points) if evaluation else rules.BUDGET_POINTS
    row = funds_block(ws, row, shown_number(py.annual_total_yuan), table.execution, columns,
                      score=(points, evaluation.budget_score if evaluation else 0))
    reason = table.completeness.execution_reason if table.completeness else ""
    if reason:
        cell(ws, row, 1, "执行率偏低原因", bold=True, align=CENTER)
        merged(ws, row, 2, columns, reason)
        row += 1
    header_row = row
    column_heads(ws, row, [label for label, _w in EVALUATION_COLUMNS])
    for item in table.rows:
        row += 1
        level_cells(ws, row, item)
        cell(ws, row, 3, item.name)
        cell(ws, row, 4, item.target)
        cell(ws, row, 5, item.actual)
        cell(ws, row, 6, float(rules.for_display(item.weight)), number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 7, float(rules.for_display(item.score)), number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 8, item.remarks)
    for level, points, scored in table.level_totals:
        row += 1
        merged(ws, row, 1, 5, f"{level}小计", bold=True, align=CENTER)
        cell(ws, row, 6, float(rules.for_display(points)), bold=True, number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 7, float(rules.for_display(scored)), bold=True, number_format=POINTS_FORMAT, align=RIGHT)
        cell(ws, row, 8, "")
    row += 1
    merged(ws, row, 1, 5, "总分", bold=True, align=CENTER)
    cell(ws, row, 6, 100, bold=True, number_format=POINTS_FORMAT, align=RIGHT)
    cell(ws, row, 7, float(rules.for_display(evaluation.total)) if evaluation else None, bold=True,
         number_format=POINTS_FORMAT, align=RIGHT)
    cell(ws, row, 8, f"评价等级：{evaluation.grade}" if evaluation else (table.error or ""), bold=True)
    page_setup(ws, EVALUATION_COLUMNS, landscape=False, header_row=header_row)


def evaluation_workbook(table: ScoreTable, project: Project, unit: Unit, department: Department,
                        review: str) -> bytes:
    book = Workbook()
    ws = book.active
    ws.title = "绩效自评表"
    write_evaluation(ws, table, project, unit, department, review)
    return workbook_bytes(book)
