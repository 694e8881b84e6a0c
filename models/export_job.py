"""The export_job table: one unit-level 监控表 export, run in the background
(services/export_job.py), its file under instance/exports/<job id>.xlsx."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
JOB_LABELS = {QUEUED: "排队中", RUNNING: "正在生成", DONE: "已完成", FAILED: "失败"}


class ExportJob(SQLModel, table=True):
    """One unit-level 监控表 export. A poll reads this one row."""
    __tablename__ = "export_job"
    id: str = Field(primary_key=True, max_length=32)    # random: the URL alone must not be guessable
    user_id: int = Field(foreign_key="app_user.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int
    month: int
    state: str = Field(default=QUEUED, max_length=10)
    total: int = 0
    done: int = 0
    file_name: str = Field(max_length=200)
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime
    finished_at: datetime | None = None
