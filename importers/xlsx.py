"""Excel (xlsx) → forms: every sheet, in order, read as rows of cells."""
from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path

from importers import ParseResult, UnreadableFile
from importers.grid import Row, find_forms


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def sheet_rows(sheet) -> list[Row]:
    """Cells covered by a merge (not its top-left cell) are None, as in a PDF table."""
    covered = set()
    for merged in sheet.merged_cells.ranges:
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                if (r, c) != (merged.min_row, merged.min_col):
                    covered.add((r, c))
    rows = []
    for r, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [None if (r, c) in covered else _cell_text(v) for c, v in enumerate(values, start=1)]
        while cells and not cells[-1]:
            cells.pop()
        if any(cells):
            rows.append(Row(cells, "table" if len(cells) > 1 else "line"))
    return rows


def parse_xlsx(path: Path) -> ParseResult:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UnreadableFile(f"Excel 文件已损坏或不是 xlsx 格式：{exc.__class__.__name__}") from exc
    rows: list[Row] = []
    for sheet in workbook.worksheets:
        rows.extend(sheet_rows(sheet))
    forms, warnings = find_forms(rows)
    return ParseResult(forms, warnings)
