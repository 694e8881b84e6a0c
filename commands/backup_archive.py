"""The backup file: one gzip-compressed tar with the database copy, the evidence files and a
manifest, written and read as streams (no file is ever held in memory whole).

    database.sqlite3 | database.pgdump   the SQLite online-backup copy, or pg_dump --format=custom
    evidence/<stored name>               each 佐证材料 file the copied database records
    manifest.json                        format, version, created_at, the database kind, and the
                                         size and sha256 of every other member

The manifest comes last, once every digest is known, so a truncated archive has none and is
refused. Reading extracts into a staging folder, hashing as it goes, and accepts no other kind
of member: a name outside evidence/ and database.*, a path (../, absolute), a link or a device
is refused before anything is written from it; then every member must match the manifest.
Nothing here touches the live database or evidence folder.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import secrets
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Iterable, Literal

from pydantic import BaseModel, Field, ValidationError

FORMAT, VERSION = "jixiao-backup", 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
DATABASE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
EVIDENCE_FOLDER = "evidence"
_MEMBER_NAME = re.compile(r"manifest\.json|database\.(sqlite3|pgdump)|evidence/[0-9a-f]{32}")
CHUNK = 1024 * 1024
MANIFEST_LIMIT = 256 * 1024 * 1024     # about two million files; more is not a manifest of ours
COMPRESS_LEVEL = 6                     # evidence (PDF, JPEG) hardly compresses; the database does
# The earlier format: the database alone, a bare SQLite file or a pg_dump custom-format file.
_DATABASE_ONLY = {b"SQLite format 3\x00": "sqlite", b"PGDMP": "postgresql"}
NOTHING_RESTORED = "未恢复任何内容"


class BackupError(Exception):
    """Why a backup file cannot be written or used, in Chinese."""


class Member(BaseModel):
    name: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    format: Literal["jixiao-backup"]
    version: Literal[1]
    created_at: datetime
    database: Literal["sqlite", "postgresql"]
    files: list[Member]


class _Hashing:
    """A reader that counts and hashes whatever is copied out of it."""

    def __init__(self, source: BinaryIO):
        self.source, self.size, self.digest = source, 0, hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.size += len(data)
        self.digest.update(data)
        return data

    def member(self, name: str) -> Member:
        return Member(name=name, size=self.size, sha256=self.digest.hexdigest())


# --------------------------------------------------------------------------- writing

def write_archive(out: Path, database_kind: str, database_copy: Path, evidence_dir: Path,
                  stored_names: Iterable[str], created_at: datetime) -> list[Member]:
    """Write the backup to `out`: into a temporary file beside it, renamed only when whole.
    An evidence file that cannot be opened is left out (the caller compares what was written
    with the rows); returns the members written."""
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    try:
        # Owner only: the backup holds every account's password hash and every file.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL,
                              format=tarfile.PAX_FORMAT) as tar:
                members = _write_members(tar, database_kind, database_copy, evidence_dir, stored_names, created_at)
            raw.flush()
            os.fsync(raw.fileno())
        refuse_existing(out)         # again: another backup may have taken the name meanwhile
        os.replace(partial, out)
        _fsync_directory(out.parent)
    finally:
        partial.unlink(missing_ok=True)
    return members


def refuse_existing(out: Path) -> None:
    if out.exists():
        raise BackupError(f"{out} 已存在，请换一个文件名")


def _write_members(tar: tarfile.TarFile, database_kind: str, database_copy: Path, evidence_dir: Path,
                   stored_names: Iterable[str], created_at: datetime) -> list[Member]:
    with open(database_copy, "rb") as f:
        members = [_add_file(tar, DATABASE_MEMBERS[database_kind], f, created_at)]
    for name in stored_names:
        # Evidence files never change once written; one deleted after the open is still read whole.
        if (f := _open_evidence(evidence_dir, name)) is not None:
            with f:
                members.append(_add_file(tar, f"{EVIDENCE_FOLDER}/{name}", f, created_at))
    manifest = Manifest(format=FORMAT, version=VERSION, created_at=created_at, database=database_kind,
                        files=members)
    listing = manifest.model_dump_json(indent=1).encode()
    _add(tar, MANIFEST, io.BytesIO(listing), len(listing), created_at)
    return members


def _open_evidence(evidence_dir: Path, stored_name: str) -> BinaryIO | None:
    if not _MEMBER_NAME.fullmatch(f"{EVIDENCE_FOLDER}/{stored_name}"):
        return None          # never a path from the database into the tree
    try:
        return open(evidence_dir / stored_name, "rb")
    except OSError:
        return None


def _add_file(tar: tarfile.TarFile, name: str, f: BinaryIO, created_at: datetime) -> Member:
    return _add(tar, name, f, os.fstat(f.fileno()).st_size, created_at)


def _add(tar: tarfile.TarFile, name: str, source: BinaryIO, size: int, created_at: datetime) -> Member:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(created_at.timestamp()), 0o600
    reader = _Hashing(source)
    tar.addfile(info, reader)
    return reader.member(name)


def _fsync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- reading

@dataclass
class Unpacked:
    """A verified backup in the staging folder."""
    database: Path
    evidence: Path | None            # None: a database-only backup of the earlier format
    manifest: Manifest | None


def unpack(backup: Path, staging: Path, database_kind: str) -> Unpacked:
    """Extract and verify the backup into `staging` (which must be empty), for a database of
    `database_kind`; BackupError, with nothing outside `staging` touched, unless all is well."""
    try:
        older = _database_only_kind(backup)
        if older:
            _same_kind(older, database_kind)
            return Unpacked(backup, None, None)
        found, manifest = _extract(backup, staging)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"备份文件已损坏或不完整（{exc}），{NOTHING_RESTORED}") from exc
    except OSError as exc:      # the disk: the backup unreadable, or no room to stage it
        raise BackupError(f"无法读取备份或写入临时文件（{exc}），{NOTHING_RESTORED}") from exc
    _same_kind(manifest.database, database_kind)
    _verify(manifest, found)
    return Unpacked(staging / DATABASE_MEMBERS[manifest.database], staging / EVIDENCE_FOLDER, manifest)


def _database_only_kind(backup: Path) -> str | None:
    with open(backup, "rb") as f:
        head = f.read(16)
    return next((kind for magic, kind in _DATABASE_ONLY.items() if head.startswith(magic)), None)


def _same_kind(backup_kind: str, database_kind: str) -> None:
    if backup_kind != database_kind:
        raise BackupError(f"这是 {DATABASE_LABELS[backup_kind]} 数据库的备份，当前配置的是 "
                          f"{DATABASE_LABELS[database_kind]}，{NOTHING_RESTORED}")


def _extract(backup: Path, staging: Path) -> tuple[dict[str, Member], Manifest]:
    found: dict[str, Member] = {}
    manifest = None
    (staging / EVIDENCE_FOLDER).mkdir()
    with tarfile.open(backup, "r:gz") as tar:
        for info in tar:
            name = _allowed_name(info)
            if name in found or (name == MANIFEST and manifest is not None):
                raise BackupError(f"备份文件中“{name}”出现了不止一次，{NOTHING_RESTORED}")
            source = tar.extractfile(info)
            if name == MANIFEST:
                manifest = _read_manifest(source, info.size)
            else:
                found[name] = _copy_out(source, staging / name, name)
    if manifest is None:
        raise BackupError(f"备份文件不完整：没有清单 {MANIFEST}（文件可能被截断），{NOTHING_RESTORED}")
    return found, manifest


def _allowed_name(info: tarfile.TarInfo) -> str:
    if not info.isreg() or not _MEMBER_NAME.fullmatch(info.name):
        raise BackupError(f"备份文件中有不允许的条目 {info.name!r}（只应有 database.*、evidence/ 下的文件和 "
                          f"{MANIFEST}），{NOTHING_RESTORED}")
    return info.name


def _read_manifest(source: BinaryIO, size: int) -> Manifest:
    if size > MANIFEST_LIMIT:
        raise BackupError(f"备份清单过大，不是本系统的备份，{NOTHING_RESTORED}")
    try:
        return Manifest.model_validate_json(source.read())
    except ValidationError as exc:
        raise BackupError(f"备份清单无法读取（{exc.error_count()} 处不合格式），{NOTHING_RESTORED}") from exc


def _copy_out(source: BinaryIO, dest: Path, name: str) -> Member:
    reader = _Hashing(source)
    with open(dest, "xb") as out:
        shutil.copyfileobj(reader, out, CHUNK)
    return reader.member(name)


def _verify(manifest: Manifest, found: dict[str, Member]) -> None:
    listed = {m.name: m for m in manifest.files}
    database = DATABASE_MEMBERS[manifest.database]
    problems = [f"缺少 {name}" for name in sorted(listed.keys() - found.keys())]
    problems += [f"清单未列出 {name}" for name in sorted(found.keys() - listed.keys())]
    problems += [f"{name} 与清单记录的大小或校验和不符（已被改动或损坏）"
                 for name in sorted(listed.keys() & found.keys()) if listed[name] != found[name]]
    problems += [f"{name} 不是本备份的数据库（应为 {database}）"
                 for name in sorted(listed) if name.startswith("database.") and name != database]
    if len(listed) != len(manifest.files):
        problems.append("清单中有重复的文件")
    if database not in found and database not in listed:
        problems.append(f"缺少数据库副本 {database}")
    if problems:
        shown = "；".join(problems[:10]) + (f"；另有 {len(problems) - 10} 处" if len(problems) > 10 else "")
        raise BackupError(f"备份文件校验失败：{shown}。{NOTHING_RESTORED}")
