"""Uploaded files on disk: each job's files in a folder of its own under UPLOAD_DIR, never
under the name they were uploaded with."""
from __future__ import annotations

import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO


@dataclass
class SavedFile:
    name: str
    stored_name: str
    size_bytes: int
    sha256: str


def new_job_id() -> str:
    return uuid.uuid4().hex


def display_name(filename: str | None) -> str:
    """The name as the user knows it: no directories (old browsers send full paths)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:300] or "（无文件名）"


_PLAIN_SUFFIX = re.compile(r"\.[a-z0-9]{1,8}")


def stored_name(position: int, filename: str) -> str:
    """Never the uploaded name on disk: only a number and a plain suffix, which the
    importer still needs to tell a text file from an unsupported one."""
    suffix = PurePosixPath(filename).suffix.lower()
    if not _PLAIN_SUFFIX.fullmatch(suffix):
        suffix = ""
    return f"{position:03d}{suffix}"


def save_upload(stream: BinaryIO, directory: Path, position: int, filename: str | None) -> SavedFile:
    name = display_name(filename)
    target = directory / stored_name(position, name)
    digest, size = hashlib.sha256(), 0
    with open(target, "wb") as out:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            out.write(block)
    return SavedFile(name, target.name, size, digest.hexdigest())


def job_dir(upload_dir: str | Path, job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise ValueError("not a job id")
    return Path(upload_dir) / job_id


def discard_files(upload_dir: str | Path, job_id: str) -> None:
    shutil.rmtree(job_dir(upload_dir, job_id), ignore_errors=True)
