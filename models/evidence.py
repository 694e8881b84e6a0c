"""Evidence files (佐证材料) attached to one period's actual, or to a 整改 item's answer
(`rectification_id`; exactly one of the two owns each file).

A file is accepted by what it is, not by its name: its first bytes (and, for Office files,
their inner structure) must be a PDF, PNG, JPEG, GIF, a legacy Word/Excel/PowerPoint file
(OLE compound document with the application's stream) or a docx/xlsx/pptx (a zip whose
[Content_Types].xml names the main part). It is stored under a random name outside static/
(EVIDENCE_DIR) and only ever served as a download, to those who may see the project.

The file is written before the database transaction that records it and removed again if
that transaction fails (`discard`), so no file I/O happens while the write lock is held and
no row points at a missing file. Deleting removes the row first and the file after commit.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Mapping, NamedTuple

from sqlalchemy import CheckConstraint
from sqlalchemy.engine import Connection
from sqlmodel import Field, Session, SQLModel, select

from models.actual import Actual

MB = 1024 * 1024
CHUNK = 64 * 1024
MAX_NAME = 200
_CONTENT_TYPES_LIMIT = 1 * MB      # [Content_Types].xml is a few KB; more is not an Office file

PDF, PNG, JPEG, GIF = "application/pdf", "image/png", "image/jpeg", "image/gif"
DOC, XLS, PPT = "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# The stream each legacy application keeps its document in, as its UTF-16 directory name.
_OLE_STREAMS = ((DOC, ("WordDocument",)), (XLS, ("Workbook", "Book")), (PPT, ("PowerPoint Document",)))
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": PPTX,
}
ALLOWED_LABEL = "PDF、图片（PNG、JPEG、GIF）、Word、Excel、PowerPoint 文件"
ACCEPT = (".pdf,.png,.jpg,.jpeg,.gif,.doc,.docx,.xls,.xlsx,.ppt,.pptx,application/pdf,image/png,image/jpeg,"
          "image/gif")


class Evidence(SQLModel, table=True):
    __tablename__ = "evidence"
    __table_args__ = (CheckConstraint("(actual_id IS NULL) <> (rectification_id IS NULL)", name="ck_evidence_owner"),)
    id: int | None = Field(default=None, primary_key=True)
    actual_id: int | None = Field(default=None, foreign_key="actual.id", index=True)
    rectification_id: int | None = Field(default=None, foreign_key="rectification.id", index=True)
    file_name: str = Field(max_length=255)              # as uploaded (cleaned), shown and sent back
    stored_name: str = Field(max_length=64, unique=True)  # random, under EVIDENCE_DIR
    size_bytes: int
    content_type: str = Field(max_length=100)            # from the content, not from the name
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(max_length=100)
    uploaded_at: datetime


class EvidenceError(ValueError):
    """Why a file was refused, in Chinese."""


@dataclass
class StoredFile:
    """A file written to EVIDENCE_DIR and checked, not yet recorded."""
    path: Path
    file_name: str
    stored_name: str
    size_bytes: int
    content_type: str
    sha256: str


# --------------------------------------------------------------------------- files

def evidence_directory(config: Mapping) -> Path:
    """EVIDENCE_DIR, by default beside UPLOAD_DIR (instance/evidence)."""
    configured = config.get("EVIDENCE_DIR")
    return Path(configured) if configured else Path(config["UPLOAD_DIR"]).parent / "evidence"

def clean_name(name: str | None) -> str:
    """The uploaded name without any path, control characters or excess length."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(c for c in unicodedata.normalize("NFC", name) if unicodedata.category(c)[0] != "C").strip()
    name = name.strip(". ") or "佐证材料"
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name


def store_upload(stream: BinaryIO, file_name: str | None, directory: Path, max_bytes: int) -> StoredFile:
    """Write the upload under a random name, counting and hashing as it goes; refuse (and
    remove) a file that is too large, empty or not of an allowed kind."""
    directory.mkdir(parents=True, exist_ok=True)
    name = clean_name(file_name)
    stored_name = secrets.token_hex(16)
    path = directory / stored_name
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "xb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise EvidenceError(f"“{name}”超过 {max_bytes // MB} MB，不能上传")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise EvidenceError(f"“{name}”是空文件")
        content_type = sniff(path)
        if content_type is None:
            raise EvidenceError(f"“{name}”不是允许的文件类型：只接受{ALLOWED_LABEL}（按文件内容判断，不看扩展名）")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredFile(path, name, stored_name, size, content_type, digest.hexdigest())


def discard(files: list[StoredFile]) -> None:
    for f in files:
        f.path.unlink(missing_ok=True)


def sniff(path: Path) -> str | None:
    """The content type the file's bytes show, or None when it is none of the allowed kinds."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(_OLE_MAGIC):
        return _ole_kind(path)
    if head.startswith(b"PK\x03\x04"):
        return _ooxml_kind(path)
    return None


def _ole_kind(path: Path) -> str | None:
    """Which legacy Office application's stream the compound file's directory names
    (an .msi or .msg is an OLE file too, and is refused)."""
    wanted = [(kind, [n.encode("utf-16-le") + b"\x00\x00" for n in names]) for kind, names in _OLE_STREAMS]
    tail = b""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            window = tail + chunk
            for kind, needles in wanted:
                if any(needle in window for needle in needles):
                    return kind
            tail = window[-64:]
    return None


def _ooxml_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_LIMIT:
                return None
            types = archive.read(info).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
        return None
    for main, kind in _OOXML_MAIN.items():
        if f'ContentType="{main}"' in types:
            return kind
    return None


# --------------------------------------------------------------------------- rows

def record_evidence(session: Session, owner, stored: list[StoredFile], who: str,
                    now: datetime) -> list[Evidence]:
    """Rows for files already written, owned by `owner`: an Actual, or a Rectification."""
    key = "actual_id" if isinstance(owner, Actual) else "rectification_id"
    rows = [Evidence(**{key: owner.id}, file_name=f.file_name, stored_name=f.stored_name, size_bytes=f.size_bytes,
                     content_type=f.content_type, sha256=f.sha256, uploaded_by=who, uploaded_at=now) for f in stored]
    for row in rows:
        session.add(row)
    session.flush()
    return rows


def evidence_of(session: Session, owner_ids: list[int], owner=Evidence.actual_id) -> dict[int, list[Evidence]]:
    """Each actual's files (`owner=Evidence.rectification_id`: each 整改 item's), oldest first."""
    found: dict[int, list[Evidence]] = {}
    if not owner_ids:
        return found
    for row in session.exec(select(Evidence).where(owner.in_(owner_ids)).order_by(Evidence.id)):
        found.setdefault(getattr(row, owner.key), []).append(row)
    return found


def file_path(directory: Path, evidence: Evidence) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", evidence.stored_name):
        raise FileNotFoundError(evidence.stored_name)   # never a path from the database into the tree
    return directory / evidence.stored_name


def size_label(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < MB:
        return f"{size / 1024:.0f} KB"
    return f"{size / MB:.1f} MB"


# --------------------------------------------------------------------------- files against rows (backups)

class EvidenceFile(NamedTuple):
    """What a row says its file is."""
    stored_name: str
    file_name: str
    size_bytes: int
    sha256: str


def evidence_files(conn: Connection) -> list[EvidenceFile]:
    query = select(Evidence.stored_name, Evidence.file_name, Evidence.size_bytes, Evidence.sha256)
    return [EvidenceFile(*row) for row in conn.execute(query.order_by(Evidence.id))]


def file_digest(path: Path) -> tuple[int, str]:
    """(size, sha256) of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return size, digest.hexdigest()


def file_problem(row: EvidenceFile, found: tuple[int, str] | None) -> str | None:
    """Why the file found (its size and sha256, or None) is not the one the row recorded, in
    Chinese; None when it is."""
    if found is None:
        return f"“{row.file_name}”（{row.stored_name}）的文件缺失或无法读取"
    if found != (row.size_bytes, row.sha256):
        return f"“{row.file_name}”（{row.stored_name}）的文件与记录不符（大小或校验和不同）"
    return None
