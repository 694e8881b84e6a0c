"""Housekeeping: deleting what the product keeps only for a while.

- Uploads never confirmed (queued, parsing, ready, failed, cancelled) older than
  IMPORT_KEEP_HOURS: the job, its parsed forms and its files. A confirmed job keeps its row
  (the upload page lists it; its files went when it was confirmed).
- Any other upload folder older than that: the files of a job confirmed or stuck confirming
  (the process died before deleting them), or of no job at all (it died between saving the
  files and recording the job). Only folders named like a job id are touched.
- Unit exports older than EXPORT_KEEP_DAYS: the job row and its workbook, and any workbook
  left without a row.
- Login attempts older than LOGIN_ATTEMPTS_KEPT: the login limits look back 30 minutes.

`clean_up` is one plain function with `now` passed in: the scheduler process runs it every
hour (reminders/scheduler.py), `flask housekeeping` on demand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete
from sqlmodel import Session, select

from models.db import transaction
from models.export_job import ExportJob
from models.job import ImportJob
from models.user import LoginAttempt
from services.import_jobs import UNCONFIRMED, delete_unconfirmed_job
from services.uploads import discard_files
from settings import export_dir

LOGIN_ATTEMPTS_KEPT = timedelta(days=1)
_JOB_ID = re.compile(r"[0-9a-f]{32}")
_WORKBOOK = re.compile(r"[0-9a-f]{32}\.xlsx")      # services/export_job.export_file


@dataclass(frozen=True)
class Housekeeping:
    upload_dir: Path
    export_dir: Path
    import_keep: timedelta = timedelta(hours=24)
    export_keep: timedelta = timedelta(days=7)

    @classmethod
    def from_mapping(cls, config) -> Housekeeping:
        return cls(Path(config["UPLOAD_DIR"]), export_dir(config), timedelta(hours=int(config["IMPORT_KEEP_HOURS"])),
                   timedelta(days=int(config["EXPORT_KEEP_DAYS"])))

    def describe(self) -> str:
        hours, days = self.import_keep // timedelta(hours=1), self.export_keep.days
        return f"超过 {hours} 小时未确认的导入、超过 {days} 天的导出文件和过期的登录记录"


@dataclass
class Cleaned:
    import_jobs: int = 0
    upload_folders: int = 0
    export_jobs: int = 0
    export_files: int = 0
    login_attempts: int = 0

    def summary(self) -> str:
        return (f"未确认的导入 {self.import_jobs} 批，上传文件夹 {self.upload_folders} 个，导出任务 {self.export_jobs} 个，"
                f"导出文件 {self.export_files} 个，登录记录 {self.login_attempts} 条")


def clean_up(session: Session, settings: Housekeeping, now: datetime) -> Cleaned:
    """Delete what has been kept long enough (see the module's docstring); returns the counts."""
    import_cutoff, export_cutoff = now - settings.import_keep, now - settings.export_keep
    cleaned = Cleaned()
    cleaned.import_jobs = _unconfirmed_imports(session, settings.upload_dir, import_cutoff)
    cleaned.upload_folders = _old_upload_folders(session, settings.upload_dir, import_cutoff)
    cleaned.export_jobs = _delete_older(session, ExportJob, ExportJob.created_at, export_cutoff)
    cleaned.export_files = _old_export_files(settings.export_dir, export_cutoff)
    cleaned.login_attempts = _delete_older(session, LoginAttempt, LoginAttempt.at, now - LOGIN_ATTEMPTS_KEPT)
    return cleaned


def _unconfirmed_imports(session: Session, upload_dir: Path, cutoff: datetime) -> int:
    job_ids = list(session.exec(select(ImportJob.id).where(ImportJob.state.in_(UNCONFIRMED),
                                                           ImportJob.created_at < cutoff)))
    session.commit()      # end the read: each job is deleted in its own short transaction
    deleted = 0
    for job_id in job_ids:
        if delete_unconfirmed_job(session, job_id):
            discard_files(upload_dir, job_id)
            deleted += 1
    return deleted


def _old_upload_folders(session: Session, upload_dir: Path, cutoff: datetime) -> int:
    """Folders older than the cutoff whose job cannot be confirmed or cancelled any more: the
    files of a job still waiting go with the job, by its age, never by the files' times."""
    old = [folder.name for folder in _entries(upload_dir, cutoff) if folder.is_dir() and _JOB_ID.fullmatch(folder.name)]
    pending = set(session.exec(select(ImportJob.id).where(ImportJob.id.in_(old), ImportJob.state.in_(UNCONFIRMED))))
    session.commit()
    for job_id in old:
        if job_id not in pending:
            discard_files(upload_dir, job_id)
    return len(old) - len(pending)


def _old_export_files(directory: Path, cutoff: datetime) -> int:
    old = [f for f in _entries(directory, cutoff) if _WORKBOOK.fullmatch(f.name) and f.is_file()]
    for workbook in old:
        workbook.unlink(missing_ok=True)
    return len(old)


def _entries(directory: Path, cutoff: datetime) -> list[Path]:
    """What the folder holds that was last changed before the cutoff."""
    if not directory.is_dir():
        return []
    moment = cutoff.timestamp()
    return [entry for entry in directory.iterdir() if entry.stat().st_mtime < moment]


def _delete_older(session: Session, model, column, cutoff: datetime) -> int:
    with transaction(session):
        return session.exec(delete(model).where(column < cutoff)).rowcount
