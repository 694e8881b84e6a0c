"""Tab-separated text (what a spreadsheet or a PDF-to-text tool saves) → forms."""
from __future__ import annotations

from pathlib import Path

from importers import ParseResult, UnreadableFile
from importers.grid import Row, find_forms

ENCODINGS = ("utf-8-sig", "gb18030", "utf-16")


def decode(data: bytes) -> str:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile("不是文本文件（含有二进制内容）")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文本文件的编码，请保存为 UTF-8 或 GB18030")


def rows_from_text(text: str) -> list[Row]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # Plain text cannot tell an empty cell from a merged one: every blank is None.
        cells = [c if c.strip() else None for c in line.split("\t")]
        rows.append(Row(cells, "table" if len(cells) > 1 else "line"))
    return rows


def parse_text(path: Path) -> ParseResult:
    text = decode(Path(path).read_bytes())
    forms, warnings = find_forms(rows_from_text(text))
    return ParseResult(forms, warnings)
