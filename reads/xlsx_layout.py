"""The layout the official tables share in xlsx (openpyxl): bordered 宋体 cells, merged cells
with their borders, the title and 数据截至 lines, the 项目 header and 项目资金 blocks, A4 page
setup, light fills, and numbers as the pages round them. reads/monitoring_xlsx.py and
reads/evaluation_xlsx.py lay out their tables with these."""
from __future__ import annotations

import re
from decimal import Decimal

from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from domain import rules
from models.xlsx_cells import put
from reads.wording import Execution

LIGHT_FILLS = {rules.GREEN: "C6EFCE", rules.YELLOW: "FFEB9C", rules.RED: "FFC7CE", rules.GREY: "D9D9D9"}
OVER_COLOR = "0B5CAD"           # the pages' blue of 超额
MONEY_FORMAT, RATE_FORMAT, POINTS_FORMAT = "#,##0.00", "0.00%", "0.00"

_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")
CENTER = Alignment(wrap_text=True, vertical="center", horizontal="center")
RIGHT = Alignment(vertical="center", horizontal="right")
_BOLD = Font(name="宋体", bold=True, size=10)
_BODY = Font(name="宋体", size=10)
HEAD_FILL = PatternFill("solid", fgColor="F2F2F2")
MARK_FILL = PatternFill("solid", fgColor=LIGHT_FILLS[rules.YELLOW])      # 超预算 / 冲减: look here


def cell(ws, row: int, col: int, value=None, *, bold=False, align=WRAP, number_format=None, fill=None):
    target = put(ws.cell(row=row, column=col), value)
    target.font, target.alignment, target.border = (_BOLD if bold else _BODY), align, _BORDER
    if number_format:
        target.number_format = number_format
    if fill:
        target.fill = fill
    return target


def merged(ws, row: int, col: int, last_col: int, value=None, *, last_row: int | None = None, **style):
    """A merged cell with the border on every cell it covers (Excel draws each one's own)."""
    last_row = last_row or row
    for r in range(row, last_row + 1):
        for c in range(col, last_col + 1):
            cell(ws, r, c, **({k: v for k, v in style.items() if k != "number_format"} if (r, c) != (row, col) else style))
    first = put(ws.cell(row=row, column=col), value)
    if last_col > col or last_row > row:
        ws.merge_cells(start_row=row, start_column=col, end_row=last_row, end_column=last_col)
    return first


def sheet_heading(ws, text: str, columns: int) -> None:
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    target = put(ws.cell(row=1, column=1), text)
    target.font, target.alignment = Font(name="黑体", bold=True, size=16), Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 30


def page_setup(ws, columns, landscape: bool, header_row: int) -> None:
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


def header_block(ws, row: int, sheet_project: str, department: str, unit: str, owner: str, phone: str,
                 columns: int) -> int:
    """项目名称 / 主管部门 / 实施单位 / 项目负责人 / 联系电话, label-value pairs over the table's width."""
    half = columns // 2
    cell(ws, row, 1, "项目名称", bold=True, align=CENTER)
    merged(ws, row, 2, columns, sheet_project)
    row += 1
    cell(ws, row, 1, "主管部门", bold=True, align=CENTER)
    merged(ws, row, 2, half, department)
    cell(ws, row, half + 1, "实施单位", bold=True, align=CENTER)
    merged(ws, row, half + 2, columns, unit)
    row += 1
    cell(ws, row, 1, "项目负责人", bold=True, align=CENTER)
    merged(ws, row, 2, half, owner)
    cell(ws, row, half + 1, "联系电话", bold=True, align=CENTER)
    merged(ws, row, half + 2, columns, phone)
    return row + 1


def column_heads(ws, row: int, labels) -> None:
    for col, label in enumerate(labels, start=1):
        cell(ws, row, col, label, bold=True, align=CENTER, fill=HEAD_FILL)


def level_cells(ws, row: int, item) -> None:
    """一级指标 and 二级指标 of a table row (reads/self_evaluation.spans marks them), each merged down over the rows it spans."""
    if item.level1_span:
        merged(ws, row, 1, 1, item.level1, last_row=row + item.level1_span - 1, align=CENTER)
    if item.level2_span:
        merged(ws, row, 2, 2, item.level2, last_row=row + item.level2_span - 1, align=CENTER)


def execution_cells(execution: Execution) -> tuple[tuple, tuple]:
    """(value, number format) of 执行数 and 执行率: numbers when the spending is the period's own,
    else the text that names its period — a text cell that no SUM adds up either."""
    if execution.is_current:
        return (shown_number(execution.spent_yuan), MONEY_FORMAT), (shown_rate(execution.rate), RATE_FORMAT)
    return (execution.spent_text, None), (execution.rate_text, None)


def light_fill(light: str | None) -> PatternFill | None:
    return PatternFill("solid", fgColor=LIGHT_FILLS[light]) if light in LIGHT_FILLS else None


def light_text(word: str, over: bool):
    """The light's word, and beside it 超额 in blue (DOMAIN.md §8) on the light's own fill."""
    if not over:
        return word
    return CellRichText(TextBlock(InlineFont(rFont="宋体", sz=10), word),
                        TextBlock(InlineFont(rFont="宋体", sz=10, b=True, color=OVER_COLOR), "（超额）"))


def shown_number(value: Decimal | None):
    return None if value is None else rules.for_display(value)


def shown_rate(value: Decimal | None):
    return None if value is None else rules.for_display(value, 4)


def as_of_line(ws, text: str, columns) -> None:
    """Row 2, over the table's width: 数据截至… (and what lags behind)."""
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(columns))
    put(ws.cell(row=2, column=1), text).alignment = Alignment(horizontal="right", vertical="center", wrap_text=True)
    fit_merged(ws, 2, text, columns)


def fit_merged(ws, row: int, text: str, columns) -> None:
    """Excel does not grow a merged cell's row to its wrapped text: give the row the lines the
    text needs across the columns' widths (a Chinese character takes about two units)."""
    units = sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
    width = sum(w for _label, w in columns) - len(columns)        # the cells' padding
    ws.row_dimensions[row].height = 15 * max(1, -(-units // width))



def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel sheet name: no []:*?/\\, at most 31 characters, unique in the book."""
    base = re.sub(r"[\[\]:*?/\\]", "", name)[:28] or "项目"
    title, n = base, 2
    while title in taken:
        title, n = f"{base[:26]}({n})", n + 1
    taken.add(title)
    return title