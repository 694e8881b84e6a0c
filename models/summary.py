"""The report summaries' tables: light_summary and budget_summary, a cache of the domain core
(domain.project_year.light_summary_rows / budget_summary_rows) that the write use cases keep
current (services/summaries.py) and the overview reads (reads/overview.py)."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, false
from sqlmodel import Field, SQLModel

from domain.project_year import ALL_LEVELS, LIGHTS     # ALL_LEVELS: light_summary.level1 of the row over all of them


# What the month indexes carry beside their keys on PostgreSQL (migration 0022).
LIGHT_COLUMNS = ("indicators", "green", "yellow", "red", "grey", "early_green", "early_yellow", "early_red", "early_grey")
BUDGET_COLUMNS = ("annual_fen", "spent_fen", "over_budget", "reduced", "light", "period", "early_light", "early_period")


class LightSummary(SQLModel, table=True):
    """Indicator lights of one project year and 一级指标 at dates whose latest closed month is
    `month`: after that month's entry deadline (green … grey) and before it (early_*).
    Indicators without a light (nothing due yet) are `indicators` minus the four. The row with
    level1 "" (ALL_LEVELS) adds up the others, so that every project year has exactly one row
    per month to read when no 一级指标 is chosen (also one with no indicators at all)."""
    __tablename__ = "light_summary"
    # The overview and the project list read one month's rows of every project year in scope.
    # On PostgreSQL the index carries the counts as well, so those reads never visit the table
    # (a month's rows lie scattered over all of it: 5,000 pages at 10,000 project years).
    __table_args__ = (Index("ix_light_summary_month", "month", "level1", "project_year_id",
                            postgresql_include=LIGHT_COLUMNS),)
    project_year_id: int = Field(foreign_key="project_year.id", primary_key=True)
    month: int = Field(primary_key=True)
    level1: str = Field(max_length=40, primary_key=True)
    indicators: int
    green: int
    yellow: int
    red: int
    grey: int
    early_green: int
    early_yellow: int
    early_red: int
    early_grey: int


class BudgetSummary(SQLModel, table=True):
    """The budget of one project year at dates whose latest closed month is `month`: the
    latest cumulative spending (and whether it is 超预算 / 冲减), and the light and judged period
    after / before the deadline (a judged period of 0: nothing due yet; its 序时进度 is period / 12)."""
    __tablename__ = "budget_summary"
    __table_args__ = (Index("ix_budget_summary_month", "month", "project_year_id", postgresql_include=BUDGET_COLUMNS),)
    project_year_id: int = Field(foreign_key="project_year.id", primary_key=True)
    month: int = Field(primary_key=True)
    annual_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    spent_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    over_budget: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    reduced: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    light: str | None = Field(default=None, max_length=10)
    period: int = 0
    early_light: str | None = Field(default=None, max_length=10)
    early_period: int = 0


# --------------------------------------------------------------------------- judging a moment


def level1_of(indicator_level1_std: str | None, indicator_level1: str) -> str:
    return indicator_level1_std or indicator_level1
