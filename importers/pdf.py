"""PDF → forms, via pdfplumber on the pages that hold forms.

A 预算公开 document is mostly other tables; running pdfplumber's table finder on every page
is the slow part of an import. So the pages are first screened on their text layer
(pypdfium2, which is fast), and only the form pages — plus the page after a form that has
not reached its footer yet — are opened with pdfplumber.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from importers import ParseResult, UnreadableFile
from importers.grid import Row, find_forms
from importers.pdf_check import check_pdf, scanned_pages

FORM_KEYS = ("绩效目标申报表", "项目名称", "一级指标", "三级指标", "填报日期")
FOOTER_KEYS = ("填报日期", "负责人")


def form_pages(texts: list[str]) -> list[int]:
    """0-based indices of the pages worth reading with pdfplumber."""
    chosen = []
    for i, text in enumerate(texts):
        flat = re.sub(r"\s+", "", text)
        if any(key in flat for key in FORM_KEYS):
            chosen.append(i)
            tail = flat[flat.rfind("项目名称"):] if "项目名称" in flat else flat
            if not any(key in tail for key in FOOTER_KEYS) and i + 1 < len(texts):
                chosen.append(i + 1)  # the form runs on to the next page
    return sorted(set(chosen))


def _page_rows(page, number: int) -> list[Row]:
    """A page as rows in reading order: table rows, and text lines outside the tables."""
    tables = page.find_tables()
    items: list[tuple[float, int, Row]] = []
    for t in tables:
        for k, cells in enumerate(t.extract()):
            top = t.rows[k].bbox[1] if k < len(t.rows) else t.bbox[1]
            items.append((top, 1, Row(list(cells), "table", number)))
    outside = page
    for t in tables:
        outside = outside.outside_bbox(t.bbox)
    for line in outside.extract_text_lines(return_chars=False):
        text = line["text"].strip()
        if text:
            items.append((line["top"], 0, Row([text], "line", number)))
    items.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in items]


def text_rows(path: Path, texts: list[str]) -> list[Row]:
    """The rows of the pages with a text layer that hold forms (pdfplumber)."""
    import pdfplumber

    pages = [p for p in form_pages(texts) if texts[p].strip()]
    rows: list[Row] = []
    if not pages:
        return rows
    try:
        with pdfplumber.open(path, pages=[p + 1 for p in pages]) as pdf:
            for number, page in zip(pages, pdf.pages):
                rows.extend(_page_rows(page, number + 1))
    except UnreadableFile:
        raise
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        raise UnreadableFile(f"文件已损坏或格式无法识别：{type(exc).__name__}") from exc
    return rows


def parse_pdf(path: Path, texts: list[str] | None = None) -> ParseResult:
    """`texts`: the pages' text layer when the caller has it already (the sandbox's check).
    Pages without a text layer are read by OCR here, two at a time on threads; the sandbox
    (importers/sandbox.py) spreads them over its children instead."""
    path = Path(path)
    if texts is None:
        texts = check_pdf(path)  # damaged, encrypted or too long: UnreadableFile
    scanned = scanned_pages(texts)
    if scanned:
        from importers import ocr

        pages = ocr.read_pages(path, scanned, parallel=min(2, os.cpu_count() or 1))
        return ocr.assemble(pages, text_rows(path, texts))
    rows = text_rows(path, texts)
    if not rows:
        return ParseResult([], ["未在文件中找到项目支出绩效目标申报表"])
    forms, warnings = find_forms(rows)
    return ParseResult(forms, warnings)
