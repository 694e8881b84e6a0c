"""Writes forms (forms.schema.json dicts) as xlsx sheets laid out like the official form."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl

FUND_ROWS = (("实施期资金总额：", "年度资金总额：", "total"), ("其中：中央财政资金", "其中：中央财政资金", "central"),
             ("省级财政资金", "省级财政资金", "provincial"), ("市县（区）财政资金", "市县（区）财政资金", "local"),
             ("单位自筹", "单位自筹", "self_raised"), ("其他资金", "其他资金", "other"))
TEXTS = (("项目概况", "overview"), ("立项依据", "basis"), ("项目设立必要性", "necessity"),
         ("保证项目实施的制度、措施", "measures"), ("项目实施计划", "plan"))


def _merge(ws, r1, c1, r2, c2, value=None):
    if value is not None:
        ws.cell(r1, c1, value)
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


def write_form(ws, form: dict, row: int = 1, *, merge_levels: bool = True, province: str = "山西省") -> int:
    _merge(ws, row, 1, row, 8, f"{province}省级预算部门（单位）项目支出绩效目标申报表")
    _merge(ws, row + 1, 1, row + 1, 8, f"（{form['year']}年度）")
    r = row + 2
    _merge(ws, r, 1, r, 2, "项目名称"); _merge(ws, r, 3, r, 8, form["project_name"]); r += 1
    code = f"{form['department_code']}-" if form["department_code"] else ""
    _merge(ws, r, 1, r, 2, "主管部门及代码"); _merge(ws, r, 3, r, 4, code + form["department_name"])
    ws.cell(r, 5, "实施单位"); _merge(ws, r, 6, r, 8, form["implementing_unit"]); r += 1
    _merge(ws, r, 1, r, 2, "项目属性"); _merge(ws, r, 3, r, 4, form["project_attribute"])
    ws.cell(r, 5, "项目期"); _merge(ws, r, 6, r, 8, form["project_term"]); r += 1
    _merge(ws, r, 1, r + 5, 2, "项目资金（元）")
    for k, (left, right, key) in enumerate(FUND_ROWS):
        ws.cell(r + k, 3, left); ws.cell(r + k, 4, form["funds"]["period"][key])
        ws.cell(r + k, 5, right); _merge(ws, r + k, 6, r + k, 8, form["funds"]["annual"][key])
    r += 6
    for label, key in TEXTS:
        _merge(ws, r, 1, r, 2, label); _merge(ws, r, 3, r, 8, form[key]); r += 1
    _merge(ws, r, 1, r, 2, ""); _merge(ws, r, 3, r, 5, "实施期目标"); _merge(ws, r, 6, r, 8, "年度目标"); r += 1
    _merge(ws, r, 1, r, 2, "总体目标"); _merge(ws, r, 3, r, 5, form["goal_period"]); _merge(ws, r, 6, r, 8, form["goal_annual"])
    r += 1
    for c, text in enumerate(["绩效指标", "一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"], 1):
        ws.cell(r, c, text)
    first = r + 1
    r = _write_indicators(ws, form["indicators"], first, merge_levels)
    _merge(ws, first, 1, r - 1, 1)
    for c, text in enumerate(["负责人：", form["owner"], "经办人：", form["clerk"], "联系电话：", form["phone"],
                              "填报日期：", (form["filled_on"] or "").replace("-", "")], 1):
        ws.cell(r, c, text)
    return r + 2


def _write_indicators(ws, indicators, r, merge_levels):
    prev = (None, None, None)
    spans = {2: r, 3: r, 6: r}
    for item in indicators:
        p, a = item["period"] or {}, item["annual"] or {}
        key = (item["level1"], p.get("level2"), a.get("level2"))
        ws.cell(r, 4, p.get("level3")); ws.cell(r, 5, (p.get("target") or {}).get("raw"))
        ws.cell(r, 7, a.get("level3")); ws.cell(r, 8, (a.get("target") or {}).get("raw"))
        if key[0] != prev[0]:
            _close(ws, spans, 2, r, merge_levels); ws.cell(r, 2, item["level1"])
        if key[:2] != prev[:2]:
            _close(ws, spans, 3, r, merge_levels); ws.cell(r, 3, p.get("level2"))
        if key != prev or key[:2] != prev[:2]:
            _close(ws, spans, 6, r, merge_levels); ws.cell(r, 6, a.get("level2"))
        prev = key
        r += 1
    for col in (2, 3, 6):
        _close(ws, spans, col, r, merge_levels)
    return r


def _close(ws, spans, col, r, merge_levels):
    if merge_levels and r - 1 > spans[col]:
        ws.merge_cells(start_row=spans[col], start_column=col, end_row=r - 1, end_column=col)
    spans[col] = r


def write_xlsx(path: Path, forms: list[dict], *, one_sheet: bool = False, **options) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    row = 1
    for n, form in enumerate(forms):
        if n and not one_sheet:
            ws = wb.create_sheet()
            row = 1
        ws.title = ws.title if one_sheet else f"表{n + 1}"
        row = write_form(ws, form, row, **options)
    wb.save(path)
    return Path(path)


def write_grid_form(ws, grid, title_lines: list[str], row: int = 1) -> int:
    """A form drawn by pdfgen (its Grid: cells spanning rows and columns) as sheet cells: each
    spanning cell merged, amounts and other plain numbers written as numbers, as Excel keeps them."""
    width = len(grid.xs) - 1
    for line in title_lines:
        _merge(ws, row, 1, row, width, line)
        row += 1
    for cell in grid.cells:
        value = _number(cell.text) if cell.text else None
        _merge(ws, row + cell.r0, cell.c0 + 1, row + cell.r1, cell.c1 + 1, value)
    return row + grid.n_rows + 1


def _number(text: str):
    plain = text.replace(",", "")
    if re.fullmatch(r"\d+(\.\d+)?", plain) and not plain.startswith("0"):
        return Decimal(plain) if "." in plain else int(plain)
    return text


def write_layout_xlsx(path: Path, forms: list[dict], **layout_options) -> Path:
    """The forms in one of pdfgen_layouts' layouts (same options as pdfgen.write_pdf), a sheet each."""
    import pdfgen
    import pdfgen_layouts

    wb = openpyxl.Workbook()
    for n, form in enumerate(forms):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = f"表{n + 1}"
        layout = pdfgen._layout(layout_options)
        grid, _header, title, note = pdfgen_layouts.form_grid(form, layout)
        write_grid_form(ws, grid, [title, f"（{form['year']}年度）"] + ([note] if note else []))
    wb.save(path)
    return Path(path)
