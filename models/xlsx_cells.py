"""Cells of the xlsx files the product writes: what a user or a form wrote stays text.

openpyxl guesses a cell's type from its value: a str starting with "=" becomes a formula and one
equal to an error code ("#N/A") an error. An indicator named `=HYPERLINK("http://…","x")` or
`=cmd|' /C calc'!A0` would then be live in the 监控表 a 审核人 opens. Every export writes its cells
through `put` (or `write_row`), which keeps a str a string cell (`t="inlineStr"`): Excel shows it
exactly as written — no apostrophe, nothing evaluated — and `+`, `-`, `@`, tab or CR in front are
just characters. Numbers, dates and None are written as they are. The product writes no
formulas of its own, and `workbook_bytes` refuses a workbook that has one.
"""
from __future__ import annotations

import re
from io import BytesIO

from openpyxl import Workbook

# SpreadsheetML's own escape (ECMA-376, ST_Xstring), as Excel writes it: a control character
# becomes _xHHHH_ (XML cannot carry most of them, and turns a CR into a LF), and a literal
# _xHHHH_ gets its underscore escaped (_x005F_) so that Excel does not decode it.
_NEEDS_ESCAPE = re.compile(r"_x[0-9A-Fa-f]{4}_|[\x00-\x08\x0b-\x0d\x0e-\x1f]")


def _escaped(text: str) -> str:
    return _NEEDS_ESCAPE.sub(lambda m: "_x005F" + m.group() if len(m.group()) > 1 else f"_x{ord(m.group()):04X}_",
                             text)


def put(cell, value):
    """Set a cell's value; a str is always a string cell, whatever it starts with."""
    if isinstance(value, str):
        cell.value = _escaped(value)
        cell.data_type = "s"    # after the assignment, which has just made "=…" a formula, "#N/A" an error
    else:
        cell.value = value
    return cell


def write_row(ws, row: int, values) -> None:
    """`values` into row `row` from column A, each through `put` (what ws.append does, safely)."""
    for col, value in enumerate(values, start=1):
        put(ws.cell(row=row, column=col), value)


def choice_list(choices) -> str | None:
    """A drop-down's formula1: the choices as one quoted list (None: nothing to list). A choice
    holding a quote or a comma (a unit read from a form may hold anything) cannot be written inside
    it and is left out; what is typed is checked on upload anyway."""
    listed = [c for c in choices if c and '"' not in c and "," not in c]
    return '"' + ",".join(listed) + '"' if listed else None


def workbook_bytes(book: Workbook) -> bytes:
    """The saved file; a formula cell here was written around `put` — a bug, never shipped."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    raise ValueError(f"formula cell {ws.title}!{cell.coordinate}: write cells through put()")
    out = BytesIO()
    book.save(out)
    return out.getvalue()
