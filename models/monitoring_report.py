"""The 监控报告 of a 实施单位 for a monitoring round (DOMAIN.md §8): tables only; the states are
domain/monitoring_report.py, the writes services/monitoring_report.py.

- `MonitoringReport`: one unit's report for one round (keyed by the year and the round's as-of
  month): the seven text sections as the 填报人 wrote them, where it stands, and once submitted
  the date its figures were read at (`figures_on`), so the tables printed beside the text stay
  those of the day it was submitted. Its state moves only by conditional updates.
- `MonitoringReportStep`: append-only, every 提交/退回 with who, when and the comment.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class MonitoringReport(SQLModel, table=True):
    __tablename__ = "monitoring_report"
    __table_args__ = (UniqueConstraint("unit_id", "year", "month", name="uq_monitoring_report"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    year: int
    month: int                                       # the round: as of this month's end
    state: str = Field(max_length=12, index=True)
    overview: str | None = Field(default=None, sa_column=Column(Text))        # 总体概况
    budget: str | None = Field(default=None, sa_column=Column(Text))          # 预算执行情况
    performance: str | None = Field(default=None, sa_column=Column(Text))     # 绩效目标完成情况
    deviation: str | None = Field(default=None, sa_column=Column(Text))       # 偏差情况及原因分析
    over: str | None = Field(default=None, sa_column=Column(Text))            # 超额完成情况
    rectification: str | None = Field(default=None, sa_column=Column(Text))   # 整改情况
    measures: str | None = Field(default=None, sa_column=Column(Text))        # 下一步工作措施
    version: int = 1
    updated_by: str = Field(max_length=100)
    updated_at: datetime
    submitted_by: str | None = Field(default=None, max_length=100)
    submitted_at: datetime | None = None
    figures_on: date | None = None                   # the figures' date, fixed at submission


class MonitoringReportStep(SQLModel, table=True):
    __tablename__ = "monitoring_report_step"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="monitoring_report.id", index=True)
    who: str = Field(max_length=100)
    role: str = Field(max_length=20)
    action: str = Field(max_length=10)
    from_state: str = Field(max_length=12)
    to_state: str = Field(max_length=12)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime
