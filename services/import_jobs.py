"""Web import jobs: upload → parse in the background → review → confirm or cancel.

A job lives in the database, not in a worker's memory, so any web process can answer the
progress polls and the confirm. Every change of state is a conditional update
(`UPDATE … WHERE id = ? AND state IN (…)`) that goes on only if it changed a row: two
confirm clicks, a cancel racing the parser, or a second process cannot act twice.

States: queued → parsing → ready → confirming → confirmed; queued/parsing/ready/failed →
cancelled; queued/parsing/confirming → failed (an error, or no sign of life for longer than
the stale timeout: the process doing the work has died).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import delete, distinct, func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from importers import UnreadableFile
from models.db import transaction
from models.job import ImportJob, ImportJobFile
from reads.import_review import check_notes
from services.import_checks import unchecked
from services.importing import apply_import
from services.uploads import SavedFile, job_dir

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "parsing")
CANCELLABLE = ("queued", "parsing", "ready", "failed")
UNCONFIRMED = CANCELLABLE + ("cancelled",)   # a confirm that died half-way keeps its ImportBatch rows
MSG_STALE = "解析中断：处理此任务的进程已停止响应。请取消后重新上传。"
MSG_CONFIRM_STALE = "确认导入中断：处理此任务的进程已停止响应。已导入的文件见下方结果，其余文件未导入。"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- state changes

@dataclass(frozen=True)
class UploadQuota:
    """What one user may keep uploaded but neither confirmed nor cancelled (their files stay
    on disk until then, or until the housekeeping deletes them)."""
    max_jobs: int
    max_bytes: int


class QuotaExceeded(Exception):
    """A Chinese reason why the upload was refused."""


def _megabytes(size_bytes: int) -> str:
    return f"{size_bytes / (1024 * 1024):.1f} MB"


def check_quota(session: Session, who: str, files: list[SavedFile], quota: UploadQuota) -> None:
    jobs, stored = session.exec(
        select(func.count(distinct(ImportJob.id)), func.coalesce(func.sum(ImportJobFile.size_bytes), 0))
        .select_from(ImportJob).outerjoin(ImportJobFile, ImportJobFile.job_id == ImportJob.id)
        .where(ImportJob.created_by == who, ImportJob.state.in_(CANCELLABLE))).one()
    advice = "请先确认导入或取消之前的上传，再上传新文件。"
    if jobs >= quota.max_jobs:
        raise QuotaExceeded(f"您已有 {jobs} 批上传尚未确认导入，已达上限 {quota.max_jobs} 批。{advice}")
    adding = sum(f.size_bytes for f in files)
    if stored + adding > quota.max_bytes:
        raise QuotaExceeded(f"您尚未确认导入的上传共 {_megabytes(stored)}，加上本次的 {_megabytes(adding)} "
                            f"将超过上限 {_megabytes(quota.max_bytes)}。{advice}")


def create_job(session: Session, job_id: str, files: list[SavedFile], who: str, now: datetime,
               quota: UploadQuota | None = None) -> ImportJob:
    """Record the upload; with a quota, counted under the write lock, so that uploads sent at
    once cannot all slip under it (QuotaExceeded, and nothing recorded)."""
    with transaction(session):
        if quota is not None:
            check_quota(session, who, files, quota)
        job = ImportJob(id=job_id, created_by=who, created_at=now, heartbeat_at=now, files_total=len(files),
                        current_file=files[0].name if files else None)
        session.add(job)
        session.flush()
        for position, f in enumerate(files, start=1):
            session.add(ImportJobFile(job_id=job_id, position=position, name=f.name, stored_name=f.stored_name,
                                      size_bytes=f.size_bytes, sha256=f.sha256))
    return job


def _move(session: Session, job_id: str, from_states: tuple[str, ...], **values) -> bool:
    """The conditional update every state change goes through; True if it happened."""
    statement = update(ImportJob).where(ImportJob.id == job_id, ImportJob.state.in_(from_states)).values(**values)
    return session.exec(statement).rowcount == 1


def fail_if_stale(session: Session, job: ImportJob, now: datetime, stale_after: timedelta) -> ImportJob:
    """A job whose worker has shown no sign of life for `stale_after` has died with it.

    Checked when someone looks at the job; the update repeats the condition, so a worker
    that has just sent a heartbeat keeps its job."""
    cutoff = now - stale_after
    if job.state not in UNFINISHED + ("confirming",) or job.heartbeat_at >= cutoff:
        return job
    parsing = job.state in UNFINISHED
    with transaction(session):
        session.exec(update(ImportJob)
                     .where(ImportJob.id == job.id, ImportJob.state == job.state, ImportJob.heartbeat_at < cutoff)
                     .values(state="failed", error=MSG_STALE if parsing else MSG_CONFIRM_STALE, current_file=None))
    session.refresh(job)
    return job


def get_job(session: Session, job_id: str) -> ImportJob | None:
    job = session.get(ImportJob, job_id)
    if job is not None:
        session.refresh(job)   # another process may have moved it since this session looked
    return job


def job_files(session: Session, job_id: str) -> list[ImportJobFile]:
    statement = select(ImportJobFile).where(ImportJobFile.job_id == job_id).order_by(ImportJobFile.position)
    return list(session.exec(statement))


def cancel_job(session: Session, job_id: str) -> bool:
    with transaction(session):
        return _move(session, job_id, CANCELLABLE, state="cancelled", current_file=None)


def delete_unconfirmed_job(session: Session, job_id: str) -> bool:
    """Delete a job that was never confirmed, with its file rows; False when it is no longer
    one (a confirm claimed it meanwhile: the row lock makes either the confirm or this wait)."""
    with transaction(session):
        job = session.exec(select(ImportJob.id).where(ImportJob.id == job_id, ImportJob.state.in_(UNCONFIRMED))
                           .with_for_update()).first()
        if job is None:
            return False
        session.exec(delete(ImportJobFile).where(ImportJobFile.job_id == job_id))
        session.exec(delete(ImportJob).where(ImportJob.id == job_id))
    return True


# --------------------------------------------------------------------------- parsing

# (path, beat) → ParseResult or UnreadableFile; a long parse (a scan's pages, read one by one)
# calls beat() now and then, which keeps the job from being judged stale meanwhile, and
# beat(pages=(done, total)) after each scanned page, which the progress shows
ParseOne = Callable[[Path, Callable[..., None]], object]
Refusal = Callable[[dict], "str | None"]   # parsed form → why it may not be stored, or None


def parse_job(engine: Engine, job_id: str, upload_dir: str | Path, parse_one: ParseOne,
              clock: Callable[[], datetime] = utcnow) -> None:
    """Body of the background thread: parse the job's files one by one, recording progress.

    Stops quietly when the job was cancelled or failed as stale meanwhile."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            _parse_files(session, job_id, job_dir(upload_dir, job_id), parse_one, clock)
        except Exception:   # the thread must leave the job in a final state, whatever happened
            log.exception("import job %s: parsing failed", job_id)
            session.rollback()
            with transaction(session):
                _move(session, job_id, UNFINISHED, state="failed", current_file=None,
                      error="解析时发生内部错误，未导入任何数据。请取消后重试，或联系管理员。")


def _parse_files(session: Session, job_id: str, directory: Path, parse_one: ParseOne,
                 clock: Callable[[], datetime]) -> None:
    with transaction(session):
        if not _move(session, job_id, ("queued",), state="parsing", heartbeat_at=clock()):
            return
    files = job_files(session, job_id)

    reading = None                   # the file being parsed, named in the progress of its pages

    def beat(pages: tuple[int, int] | None = None) -> None:
        fields = {"heartbeat_at": clock()}
        if pages is not None and reading is not None:
            fields["current_file"] = f"{reading}（扫描件文字识别：已完成 {pages[0]}/{pages[1]} 页）"[:300]
        with transaction(session):
            _move(session, job_id, ("parsing",), **fields)

    for done, f in enumerate(files):
        reading = f.name
        with transaction(session):
            if not _move(session, job_id, ("parsing",), files_done=done, current_file=f.name, heartbeat_at=clock()):
                return
        result = parse_one(directory / f.stored_name, beat)
        with transaction(session):
            if not _move(session, job_id, ("parsing",), files_done=done + 1, heartbeat_at=clock()):
                return   # cancelled or failed meanwhile: keep nothing of this file
            _record(f, result)
            session.add(f)
    with transaction(session):
        _move(session, job_id, ("parsing",), state="ready", current_file=None, parsed_at=clock(),
              heartbeat_at=clock())


def _record(f: ImportJobFile, result) -> None:
    if isinstance(result, UnreadableFile):
        f.state, f.error = "unreadable", str(result) or "文件无法读取"
        return
    f.state = "read"
    f.forms = result.forms
    f.warnings = result.warnings
    if not result.forms:
        f.error = "未在文件中找到项目支出绩效目标申报表"


# --------------------------------------------------------------------------- confirming

def confirm_job(session: Session, job_id: str, who: str, now: datetime, *, reorganise: bool,
                clock: Callable[[], datetime] = utcnow, refuse: Refusal | None = None) -> str:
    """Store each readable file with `apply_import`, each in its own transaction.

    `now` is the import time recorded in the batches; `clock` only keeps the heartbeat.
    `refuse(form)` gives the reason a form may not be stored by this user (another unit's
    form, for a 填报人), or None: refused forms are left out and listed in the file's outcome.
    `reorganise`: whether this user's forms may move units and create or re-code 主管部门
    (services.importing.place_form).
    Returns "confirmed"; "already" (confirmed, or being confirmed, by an earlier request);
    "interrupted" (judged stale half-way: the rest is left out); "unchecked" (a field OCR read
    with low confidence, in a form it would store, has not been looked at: services.import_checks);
    or the state that kept it from starting."""
    if unchecked_fields(session, job_id, refuse):
        return "unchecked"
    with transaction(session):
        claimed = _move(session, job_id, ("ready",), state="confirming", heartbeat_at=clock())
    if not claimed:
        job = get_job(session, job_id)
        return "already" if job and job.state in ("confirmed", "confirming") else (job.state if job else "missing")
    for f in job_files(session, job_id):
        if not _confirm_file(session, job_id, f, Importer(who, reorganise, refuse), now, clock):
            return "interrupted"   # judged dead meanwhile: the files not yet stored stay out
    with transaction(session):
        _move(session, job_id, ("confirming",), state="confirmed", confirmed_at=clock(), heartbeat_at=clock())
    return "confirmed"


def unchecked_fields(session: Session, job_id: str, refuse: Refusal | None = None) -> int:
    """How many low-confidence fields of the forms confirming would store nobody has looked at."""
    job = get_job(session, job_id)
    if job is None or job.state != "ready":
        return 0
    return sum(len(unchecked(form)) for f in job_files(session, job_id) if f.importable
               for form in f.forms if not (refuse and refuse(form)))


@dataclass
class Importer:
    """Who confirms, and what they may store (see `confirm_job`)."""
    who: str
    reorganise: bool
    refuse: Refusal | None


def _confirm_file(session: Session, job_id: str, f: ImportJobFile, by: Importer, now: datetime,
                  clock: Callable[[], datetime]) -> bool:
    """Store one file, all or nothing; False if the job is no longer being confirmed."""
    reasons = [by.refuse(form) if by.refuse else None for form in f.forms]
    forms = [form for form, reason in zip(f.forms, reasons) if reason is None]
    refused = [{"project": form["project_name"], "reason": reason}
               for form, reason in zip(f.forms, reasons) if reason is not None]
    if not f.importable or not forms:
        reason = f.error or (refused[0]["reason"] if refused else "文件中没有可导入的申报表")
        outcome = {"status": "skipped", "reason": reason, "refused": refused}
        with transaction(session):
            _set_outcome(session, f.id, outcome)
        return True
    try:
        with transaction(session):
            if not _move(session, job_id, ("confirming",), heartbeat_at=clock()):
                return False
            notes = [note for form in forms for note in check_notes(form)]   # OCR's doubts, and who settled them
            summary = apply_import(session, forms, file_name=f.name, file_sha256=f.sha256, who=by.who, now=now,
                                   reorganise=by.reorganise, warnings=f.warnings + notes)
            stored = summary.new + summary.changed > 0
            _set_outcome(session, f.id, {
                "status": "stored" if stored else "unchanged", "forms": summary.forms, "new": summary.new,
                "changed": summary.changed, "unchanged": summary.unchanged,
                "batch_id": summary.batch.id if summary.batch else None,
                "project_year_ids": summary.project_year_ids, "refused": refused})
    except Exception as exc:   # one file's failure leaves nothing of it, and the others go on
        log.exception("import job %s: storing %s failed", job_id, f.name)
        with transaction(session):
            _set_outcome(session, f.id, {"status": "failed",
                                         "reason": f"导入失败，未写入此文件的任何数据（{exc.__class__.__name__}）"})
    return True


def _set_outcome(session: Session, file_id: int, outcome: dict) -> None:
    row = session.get(ImportJobFile, file_id)
    row.outcome = outcome
    session.add(row)


def sandboxed(limits) -> ParseOne:
    """The parser for uploads: each file in its own limited child process (importers.sandbox)."""
    from importers.sandbox import parse_many_untrusted

    def parse_one(path: Path, beat=None):
        return parse_many_untrusted([path], limits, workers=1, progress=beat)[0]
    return parse_one
