"""The pre-flight of a PDF (pypdfium2): damaged, truncated, encrypted or too long is refused
with one Chinese line; otherwise the text of every page, which the PDF parser screens for form
pages (importers/pdf.py) and the sandbox runs first in its child (importers/sandbox.py). Pages
without a text layer (scans) are read by OCR (importers/ocr.py). Its own module, so that those
two need not import each other."""
from __future__ import annotations

import threading
from pathlib import Path

from importers import UnreadableFile
from importers.limits import Limits

MSG_ENCRYPTED = "文件已加密，请上传未加密的 PDF"


def msg_too_many_scanned(pages: int, limit: int) -> str:
    return (f"扫描页过多（{pages} 页为扫描图像），文字识别上限为 {limit} 页；"
            "请只上传含申报表的页面，或拆分文件后上传")


def msg_too_many_pages(pages: int, limit: int) -> str:
    return f"页数过多（{pages}页），上限为 {limit} 页"


def msg_damaged(detail: str) -> str:
    return f"文件已损坏或格式无法识别：{detail}"


_check_cache: tuple[tuple, list[str]] | None = None
_check_lock = threading.Lock()


def check_pdf(path: str | Path, limits: Limits = Limits()) -> list[str]:
    """Cheap pre-flight of a PDF with pypdfium2; returns the text of every page.

    Raises UnreadableFile for: truncated/damaged files, password-protected files, more
    than `limits.max_pages` pages. Returns one str per page (pdfium's text, "\\n" line
    ends; empty for a page without a text layer, which importers/ocr.py reads) so the PDF
    parser can find form pages without a second full parse. Files that open with an empty user password (owner
    password / permission flags only) are accepted: they are readable.

    The result for the last checked file is cached (keyed by path, size, mtime, page cap),
    so `parse_pdf` may call this again inside the sandbox child at no cost.

    Do not call this on untrusted input outside the sandbox: pdfium aborts the whole
    process when an allocation fails (decompression bomb).
    """
    global _check_cache
    path = Path(path).resolve()
    try:
        st = path.stat()
    except OSError:
        raise UnreadableFile("找不到文件或文件无法读取") from None
    key = (str(path), st.st_size, st.st_mtime_ns, st.st_ino, limits.max_pages, limits.ocr_max_pages)
    with _check_lock:
        if _check_cache is not None and _check_cache[0] == key:
            return list(_check_cache[1])
    texts = _check_pdf_uncached(path, st.st_size, limits)
    with _check_lock:
        _check_cache = (key, texts)
    return list(texts)


def _check_pdf_uncached(path: Path, size: int, limits: Limits) -> list[str]:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    with open(path, "rb") as fh:
        head = fh.read(1024)
        fh.seek(max(0, size - 1024))
        tail = fh.read(1024)
    if not head.startswith(b"%PDF"):
        raise UnreadableFile("不是有效的 PDF 文件（文件头不是 %PDF）")
    # The PDF spec (and Acrobat) require %%EOF within the last 1024 bytes. pdfium and
    # pdfminer both "repair" a cut-off file silently, which would turn an interrupted
    # upload into a half-read form; refuse it instead.
    if b"%%EOF" not in tail:
        raise UnreadableFile(msg_damaged("文件不完整（缺少 PDF 结尾标记），可能在上传或复制时被截断"))

    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise UnreadableFile(MSG_ENCRYPTED) from None
        reason = {
            pdfium_c.FPDF_ERR_FILE: "文件无法打开",
            pdfium_c.FPDF_ERR_FORMAT: "PDF 结构无效",
        }.get(code, "PDF 无法打开")
        raise UnreadableFile(msg_damaged(reason)) from None
    try:
        n = len(pdf)
        if n > limits.max_pages:
            raise UnreadableFile(msg_too_many_pages(n, limits.max_pages))
        if n == 0:
            raise UnreadableFile(msg_damaged("PDF 中没有任何页面"))
        texts: list[str] = []
        for i in range(n):
            try:
                page = pdf[i]
                textpage = page.get_textpage()
                text = textpage.get_text_range()
                textpage.close()
                page.close()
            except pdfium.PdfiumError:
                raise UnreadableFile(msg_damaged(f"第 {i + 1} 页无法读取")) from None
            texts.append(text.replace("\r\n", "\n").replace("\r", "\n"))
    finally:
        pdf.close()
    scanned = len(scanned_pages(texts))
    if scanned > limits.ocr_max_pages:
        raise UnreadableFile(msg_too_many_scanned(scanned, limits.ocr_max_pages))
    return texts


def scanned_pages(texts: list[str]) -> list[int]:
    """0-based indices of the pages without a text layer: read by OCR (importers/ocr.py;
    a page without any image in it is blank and costs nothing there)."""
    return [i for i, text in enumerate(texts) if not text.strip()]


def forget_checked() -> None:
    """Drop the cached texts (a sandbox child between files: the next file is another)."""
    global _check_cache
    with _check_lock:
        _check_cache = None
