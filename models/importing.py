"""Import batches: which file brought which forms, by whom, when, with what warnings, and what
each did to a project year. Storing the forms is services/importing.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batch"
    id: int | None = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=300)
    file_sha256: str = Field(max_length=64, index=True)
    imported_by: str = Field(max_length=100)
    imported_at: datetime
    warnings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    forms_count: int = 0
    new_count: int = 0
    changed_count: int = 0
    unchanged_count: int = 0


class ProjectYearImport(SQLModel, table=True):
    """What one batch did to one project year: new, changed or unchanged."""
    __tablename__ = "project_year_import"
    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", index=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    outcome: str = Field(max_length=10)
