"""Indicators: one row of the form's table, with its 实施期 and 年度 targets side by side."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, bindparam
from sqlmodel import Field, SQLModel, select

from models.db import columns_of, detached, prepared, rows

SCOPES = ("period", "annual")


def target_value() -> Column:
    return Column(Numeric(24, 6), nullable=True)


class Indicator(SQLModel, table=True):
    """`level*` are as written; `*_std` are the standard taxonomy names they map to.

    An indicator that a later import of the same year no longer lists is retired, not
    deleted: what was recorded against it stays."""
    __tablename__ = "indicator"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    position: int
    level1: str = Field(max_length=40)
    level1_std: str | None = Field(default=None, max_length=40)

    period_level2: str | None = Field(default=None, max_length=100)
    period_level2_std: str | None = Field(default=None, max_length=40)
    period_level3: str | None = Field(default=None, max_length=300)
    period_raw: str | None = Field(default=None, max_length=200)
    period_kind: str | None = Field(default=None, max_length=20)
    period_op: str | None = Field(default=None, max_length=2)
    period_value: Decimal | None = Field(default=None, sa_column=target_value())
    period_unit: str | None = Field(default=None, max_length=40)

    annual_level2: str | None = Field(default=None, max_length=100)
    annual_level2_std: str | None = Field(default=None, max_length=40)
    annual_level3: str | None = Field(default=None, max_length=300)
    annual_raw: str | None = Field(default=None, max_length=200)
    annual_kind: str | None = Field(default=None, max_length=20)
    annual_op: str | None = Field(default=None, max_length=2)
    annual_value: Decimal | None = Field(default=None, sa_column=target_value())
    annual_unit: str | None = Field(default=None, max_length=40)

    measure_override: str | None = Field(default=None, max_length=12)  # staff's choice over §3's default
    eval_weight: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 4), nullable=True))
    eval_score: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 4), nullable=True))
    eval_deduction: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 4), nullable=True))
    eval_deduction_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    retired_at: datetime | None = None

    @property
    def name(self) -> str:
        return indicator_name(self)


def indicator_name(ind) -> str:
    """What people call the indicator: its 年度 三级指标, else its 实施期 one (`ind`: an Indicator
    or a row with those columns)."""
    return ind.annual_level3 or ind.period_level3 or ""


class TargetChange(SQLModel, table=True):
    """One version of an indicator side's target, and the one it replaced: the history of
    targets (DOMAIN §7). Each is made either by a later import of a changed form (`batch_id`,
    confirmed on import) or by an approved 目标调整 (`adjustment_id`, models/target_adjustment.py);
    the first row of an indicator side keeps its original target (原目标)."""
    __tablename__ = "target_change"
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id", index=True)
    adjustment_id: int | None = Field(default=None, foreign_key="target_adjustment.id", index=True)
    scope: str = Field(max_length=10)
    old_level2: str | None = Field(default=None, max_length=100)
    old_level3: str | None = Field(default=None, max_length=300)
    old_raw: str | None = Field(default=None, max_length=200)
    new_raw: str | None = Field(default=None, max_length=200)
    changed_at: datetime


@prepared     # read by every project page and API answer
def _active():
    return (select(Indicator).where(Indicator.project_year_id == bindparam("py_id"), Indicator.retired_at.is_(None))
            .order_by(Indicator.position))


def active_indicators(session, project_year_id: int) -> list[Indicator]:
    """The indicators of the project year's current 申报表, in the form's order."""
    return list(session.exec(_active(), params={"py_id": project_year_id}))


@prepared
def _active_rows():
    return (select(*columns_of(Indicator)).where(Indicator.project_year_id == bindparam("py_id"),
                                                 Indicator.retired_at.is_(None))
            .order_by(Indicator.position))


def active_indicators_to_read(session, project_year_id: int) -> list[Indicator]:
    """`active_indicators` as detached objects from plain rows (models.db.detached), for a
    read that never writes through them (the API's answer for one project)."""
    return [detached(row, Indicator)[0] for row in rows(session, _active_rows(), {"py_id": project_year_id})]
