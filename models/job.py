"""The tables of web import jobs: one upload of one or more files, and each file with what was
read from it and what confirming did with it. What moves a job is services/import_jobs.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class ImportJob(SQLModel, table=True):
    """One upload of one or more files. Progress is kept here so a poll reads one small row."""
    __tablename__ = "import_job"
    id: str = Field(primary_key=True, max_length=32)   # random: the URL alone must not be guessable
    state: str = Field(default="queued", max_length=12, index=True)
    created_by: str = Field(max_length=100)
    created_at: datetime
    heartbeat_at: datetime       # last sign of life of whoever works on the job
    files_total: int = 0
    files_done: int = 0
    current_file: str | None = Field(default=None, max_length=300)
    error: str | None = Field(default=None, max_length=500)
    parsed_at: datetime | None = None
    confirmed_at: datetime | None = None

    @property
    def current_number(self) -> int:
        """1-based number of the file being parsed now (k in "第 k/n 个文件")."""
        return min(self.files_done + 1, self.files_total)


class ImportJobFile(SQLModel, table=True):
    """One uploaded file: what was read from it, and what confirming did with it."""
    __tablename__ = "import_job_file"
    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="import_job.id", index=True, max_length=32)
    position: int
    name: str = Field(max_length=300)               # as uploaded; shown and kept in ImportBatch
    stored_name: str = Field(max_length=40)         # under UPLOAD_DIR/<job id>/
    size_bytes: int
    sha256: str = Field(max_length=64)
    state: str = Field(default="waiting", max_length=12)   # waiting | read | unreadable
    error: str | None = Field(default=None, max_length=500)
    forms: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))

    @property
    def importable(self) -> bool:
        return self.state == "read" and bool(self.forms)
