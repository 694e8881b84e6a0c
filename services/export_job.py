"""A unit's 监控表 export (many projects) as a background job: create it, then run it — each
step a conditional update of its `export_job` row (models/export_job.py), so a second runner
does nothing — writing the workbook under instance/exports/<job id>.xlsx, served only to the
user who asked (reads/export_scope.py `job_of`)."""
from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Mapping

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import transaction
from models.export_job import DONE, FAILED, QUEUED, RUNNING, ExportJob
from models.org import Unit
from models.user import User
from reads.export_scope import JOB_ID, unit_project_years
from reads.monitoring import monitoring_sheets, sheet_month
from reads.monitoring_xlsx import monitoring_workbook

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def export_file(directory: str | Path, job_id: str) -> Path:
    if not JOB_ID.fullmatch(job_id):
        raise ValueError("bad job id")
    return Path(directory) / f"{job_id}.xlsx"


def create_export_job(session: Session, user: User, unit: Unit, year: int, month: int, total: int,
                      now: datetime) -> ExportJob:
    job = ExportJob(id=secrets.token_hex(16), user_id=user.id, unit_id=unit.id, year=year, month=month, total=total,
                    file_name=f"项目支出绩效运行监控表_{unit.name}_{year}年{month}月.xlsx", created_at=now)
    with transaction(session):
        session.add(job)
    return job


def _move(session: Session, job_id: str, from_states: tuple[str, ...], **values) -> bool:
    with transaction(session):
        result = session.exec(update(ExportJob).where(ExportJob.id == job_id, ExportJob.state.in_(from_states))
                              .values(**values))
    return result.rowcount == 1


def run_export_job(engine: Engine, job_id: str, directory: str | Path, today: date, config: Mapping) -> None:
    """Build the unit's workbook project by project, counting progress; claims the job first
    (queued → running), so a second runner does nothing. Reads within the asker's scope, each
    project as of the job's month (a quarterly one: its latest quarter by then), judged on
    `today` with the settings `config`."""
    with Session(engine, expire_on_commit=False) as session:
        if not _move(session, job_id, (QUEUED,), state=RUNNING):
            return
        try:
            job = session.get(ExportJob, job_id)
            user, unit = session.get(User, job.user_id), session.get(Unit, job.unit_id)
            sheets = []
            for n, (project, py) in enumerate(unit_project_years(session, user, unit.id, job.year), start=1):
                sheets += monitoring_sheets(session, [(project, py, sheet_month(py, job.month))], today, config, user)
                session.commit()
                _move(session, job_id, (RUNNING,), done=n, total=max(job.total, n))
            data = monitoring_workbook(sheets, summary=(unit, job.year, job.month))
            path = export_file(directory, job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            _move(session, job_id, (RUNNING,), state=DONE, done=len(sheets), total=len(sheets), finished_at=utcnow())
        except Exception:   # noqa: BLE001 — the job must end in a state the page can show
            log.exception("export job %s failed", job_id)
            session.rollback()
            _move(session, job_id, (RUNNING, QUEUED), state=FAILED, error="导出失败，请重试或联系管理员",
                  finished_at=utcnow())
