"""The tables of a project year's year-end self-evaluation (绩效自评, §5) and its review: where
the review stands, every step taken, and the 偏差原因分析及改进措施 of each indicator. The
states and steps are domain/review.py; the writes services/self_evaluation.py, which moves the
state only by a conditional update; the score table reads/self_evaluation.py."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.review import DRAFT


class EvaluationReview(SQLModel, table=True):
    """Where a project year's 绩效自评 stands; moved only by conditional updates."""
    __tablename__ = "evaluation_review"
    __table_args__ = (UniqueConstraint("project_year_id", name="uq_evaluation_review_year"),)
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    state: str = Field(default=DRAFT, max_length=12)
    updated_at: datetime


class EvaluationStep(SQLModel, table=True):
    """Append-only: every 提交/通过/退回/撤回, who (and in which role), with the comment."""
    __tablename__ = "evaluation_step"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    who: str = Field(max_length=100)
    role: str = Field(max_length=20)
    action: str = Field(max_length=10)
    from_state: str = Field(max_length=12)
    to_state: str = Field(max_length=12)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime


class EvaluationNote(SQLModel, table=True):
    """偏差原因分析及改进措施 of one annual indicator, written by the 填报人 for the 自评表."""
    __tablename__ = "evaluation_note"
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=100)
    updated_at: datetime
