"""File → parsed forms. Pure functions: no Flask, no database session.

`parse_file` reads one file of any supported kind and returns the forms found in it
(dicts in the shape of forms.schema.json) plus warnings. A file that cannot be read at
all raises `UnreadableFile` whose message is one clear Chinese sentence.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class UnreadableFile(Exception):
    """The file cannot be read as a form source; str(exc) is a user-facing Chinese line."""


@dataclass
class ParseResult:
    forms: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"forms": self.forms, "warnings": self.warnings}


SUPPORTED_SUFFIXES = {".pdf", ".xlsx", ".txt", ".tsv"}


def sniff_kind(path: Path) -> str:
    """Decide by content, not by name: a renamed file must still be judged by what it is."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if not head:
        raise UnreadableFile("文件为空")
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    suffix = path.suffix.lower()
    if suffix in (".txt", ".tsv", ".csv", ""):
        return "text"
    if suffix == ".pdf":
        raise UnreadableFile("不是有效的 PDF 文件（文件头不是 %PDF）")
    if suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile("不是有效的 Excel（xlsx）文件")
    raise UnreadableFile(f"不支持的文件类型“{suffix}”，请上传 PDF、xlsx 或制表符分隔的文本文件")


def parse_file(path: str | Path) -> ParseResult:
    """Parse one file in this process (trusted input). Untrusted files go through sandbox.py."""
    path = Path(path)
    kind = sniff_kind(path)
    if kind == "pdf":
        from importers import pdf
        return pdf.parse_pdf(path)
    if kind == "xlsx":
        from importers import xlsx
        return xlsx.parse_xlsx(path)
    from importers import text
    return text.parse_text(path)
