"""Monitoring rounds and 整改 (DOMAIN.md §8): tables only; the states and steps are
domain/monitoring.py, the writes services/rounds.py and services/rectifications.py.

- `MonitoringSubmission`: one project year's monitoring for one round (keyed by the round's
  as-of month): 总体目标执行情况, 偏差原因, 改进（纠偏）措施 and where its review stands. Its state
  moves only by conditional updates, so two reviewers acting at once cannot both succeed.
- `MonitoringStep`: append-only, every 提交/通过/退回/需要整改 with who, when and the comment.
- `Rectification`: a 整改 item on a project year (or one of its indicators), raised by a 审核人
  (from a round's review, `submission_id`, or at any time) for the responsible 实施单位.
- `RectificationStep`: append-only, every 提出/答复/关闭/退回 with what was written then (an answer
  sent back and rewritten keeps its earlier text here). Its evidence files are `Evidence` rows
  (models/evidence.py) with `rectification_id` set.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class MonitoringSubmission(SQLModel, table=True):
    __tablename__ = "monitoring_submission"
    __table_args__ = (UniqueConstraint("project_year_id", "month", name="uq_monitoring_submission"),)
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    month: int                                       # the round: as of this month's end
    state: str = Field(max_length=12, index=True)
    goal_progress: str | None = Field(default=None, sa_column=Column(Text))   # 总体目标执行情况
    deviation: str | None = Field(default=None, sa_column=Column(Text))       # 偏差原因
    correction: str | None = Field(default=None, sa_column=Column(Text))      # 改进（纠偏）措施
    version: int = 1
    updated_by: str = Field(max_length=100)
    updated_at: datetime
    submitted_at: datetime | None = None


class MonitoringStep(SQLModel, table=True):
    __tablename__ = "monitoring_step"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="monitoring_submission.id", index=True)
    who: str = Field(max_length=100)
    role: str = Field(max_length=20)
    action: str = Field(max_length=10)
    from_state: str = Field(max_length=12)
    to_state: str = Field(max_length=12)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime


class Rectification(SQLModel, table=True):
    __tablename__ = "rectification"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id", index=True)   # None: the project
    submission_id: int | None = Field(default=None, foreign_key="monitoring_submission.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)          # 责任单位
    requirement: str = Field(sa_column=Column(Text, nullable=False))  # 整改要求和建议
    due: date                                                         # 整改期限
    state: str = Field(max_length=10, index=True)
    measures: str | None = Field(default=None, sa_column=Column(Text))     # 整改措施
    result: str | None = Field(default=None, sa_column=Column(Text))       # 整改结果
    conclusion: str | None = Field(default=None, sa_column=Column(Text))   # 整改结论
    version: int = 1
    created_by: str = Field(max_length=100)
    created_at: datetime
    answered_by: str | None = Field(default=None, max_length=100)
    answered_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=100)
    closed_at: datetime | None = None
    updated_at: datetime


class RectificationStep(SQLModel, table=True):
    __tablename__ = "rectification_step"
    id: int | None = Field(default=None, primary_key=True)
    rectification_id: int = Field(foreign_key="rectification.id", index=True)
    who: str = Field(max_length=100)
    role: str = Field(max_length=20)
    action: str = Field(max_length=10)
    from_state: str = Field(max_length=10)            # "" for the step that raised it
    to_state: str = Field(max_length=10)
    comment: str | None = Field(default=None, sa_column=Column(Text))    # requirement, conclusion or comment
    measures: str | None = Field(default=None, sa_column=Column(Text))   # an answer's, as written then
    result: str | None = Field(default=None, sa_column=Column(Text))
    due: date | None = None                                              # the deadline set by this step
    at: datetime
