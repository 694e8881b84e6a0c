"""Scanned (image-only) PDF pages → forms, by OCR (issue #15.1).

`read_pages(path, pages)` reads some pages of a PDF (rendered at the scan's own resolution,
at most 300 dpi: importers/ocr_image.py) and returns plain picklable data, so the sandbox can
spread a file's pages over both cores in separate limited children; `assemble` turns the pages'
rows into forms with the same grid → forms code as the text layer (importers.grid.find_forms),
marks each form `ocr: true`, and applies the resolution rule: a scan below MIN_DPI is refused
(分辨率过低…) unless every value in it was read confidently and nothing was warned about.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from importers import ParseResult, UnreadableFile
from importers.grid import Row, find_forms


# Below this a value counts as doubtful (part K's importers.grid.CONFIDENCE_THRESHOLD, when
# present, is the one rule; this default keeps the module usable without it).
CONFIDENCE_THRESHOLD = 0.9
MIN_DPI = 150           # a scan below this is read only when nothing in it is doubtful
_PDFIUM = threading.Lock()


@dataclass
class OcrPlan:
    """What the sandbox's first look at a PDF found: its scanned pages (0-based), read next
    page by page in other children, and the rows of its pages with a text layer."""
    path: str
    pages: list[int]
    rows: list[Row]


def threshold() -> float:
    from importers import grid

    return float(getattr(grid, "CONFIDENCE_THRESHOLD", CONFIDENCE_THRESHOLD))


def msg_low_dpi(dpi: float) -> str:
    return (f"分辨率过低（约 {dpi:.0f} dpi），扫描件无法可靠识别；"
            f"请以不低于 {MIN_DPI} dpi（建议 300 dpi）重新扫描后上传")


def msg_upside(page: int, quarter_turns: int) -> str:
    return f"第 {page} 页扫描方向有误，已旋转 {quarter_turns * 90} 度后识别"


def read_pages(path: str | Path, pages: list[int], parallel: int = 1) -> list[dict]:
    """OCR the given 0-based pages of a PDF: one dict per page with its rows (cells, kind,
    conf), the scan's dpi and what was done to it. `parallel`: pages read at once, on threads
    (the recogniser and OpenCV release the GIL; pdfium, which is not thread-safe, renders one
    page at a time). The sandbox reads one page per child instead."""
    from concurrent.futures import ThreadPoolExecutor

    if parallel <= 1 or len(pages) <= 1:
        return [_read_page(path, index) for index in pages]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(lambda index: _read_page(path, index), pages))


def _read_page(path: str | Path, index: int) -> dict:
    import pypdfium2 as pdfium

    from importers import ocr_image
    from importers.ocr_page import read_image

    with _PDFIUM:
        pdf = pdfium.PdfDocument(str(path))
        try:
            page = pdf[index]
            native = ocr_image.page_dpi(page)
            if native is None:                          # no image and no text: a blank page
                return {"page": index + 1, "dpi": None, "rows": [], "turned": 0, "skew": 0.0,
                        "tables": 0}
            dpi = ocr_image.render_dpi(native)
            image = ocr_image.render_page(page, dpi)
            page.close()
        finally:
            pdf.close()
    read = read_image(image, dpi)
    return {"page": index + 1, "dpi": native, "rows": read.rows, "turned": read.turned,
            "skew": round(read.skew, 2), "tables": read.tables}


def rows_of(pages: list[dict]) -> list[Row]:
    rows = []
    for page in sorted(pages, key=lambda p: p["page"]):
        for cells, kind, conf in page["rows"]:
            rows.append(Row(list(cells), kind, page["page"], list(conf)))
    return rows


def assemble(pages: list[dict], text_rows: list[Row] | None = None) -> ParseResult:
    """The forms in OCR'd pages (and, for a file that mixes both, the text layer's rows of
    its other pages, in page order)."""
    rows = rows_of(pages) + list(text_rows or [])
    rows.sort(key=lambda r: r.page or 0)                # stable: each page keeps its order
    forms, warnings = find_forms(rows)
    scanned = {p["page"] for p in pages}
    notes = [msg_upside(p["page"], p["turned"]) for p in pages if p["turned"]]
    for form in forms:
        if scanned & set(form.get("_pages", [])):
            form["ocr"] = True
    low = [p["dpi"] for p in pages if p["dpi"] is not None and p["dpi"] < MIN_DPI - 0.5]
    if low:
        doubtful = any(c is not None and c < threshold()
                       for row in rows if row.page in scanned for c in (row.conf or []))
        if doubtful or warnings or not forms:
            raise UnreadableFile(msg_low_dpi(min(low)))
    return ParseResult(forms, notes + warnings)
