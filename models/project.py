"""Projects and their yearly forms.

A project is identified by its 实施单位 and 项目名称; each year's 申报表 adds a
`ProjectYear` with that year's funds, texts and goals, so a three-year 项目期 is one
project with up to three years.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

FUND_SOURCES = ("total", "central", "provincial", "local", "self_raised", "other", "fiscal")


def money() -> Column:
    return Column(Numeric(18, 2), nullable=True)


class Project(SQLModel, table=True):
    __tablename__ = "project"
    __table_args__ = (UniqueConstraint("unit_id", "name", name="uq_project_unit_name"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = Field(max_length=300, index=True)
    created_at: datetime


class ProjectYear(SQLModel, table=True):
    """One year's 申报表 of a project, as last imported. Empty fund cells stay NULL (unknown)."""
    __tablename__ = "project_year"
    __table_args__ = (UniqueConstraint("project_id", "year", name="uq_project_year"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    year: int = Field(index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    periods: str = Field(default="monthly", max_length=10)   # reporting: "monthly" | "quarterly"
    attribute: str | None = Field(default=None, max_length=100)
    term: str | None = Field(default=None, max_length=40)

    period_total_yuan: Decimal | None = Field(default=None, sa_column=money())
    period_central_yuan: Decimal | None = Field(default=None, sa_column=money())
    period_provincial_yuan: Decimal | None = Field(default=None, sa_column=money())
    period_local_yuan: Decimal | None = Field(default=None, sa_column=money())
    period_self_raised_yuan: Decimal | None = Field(default=None, sa_column=money())
    period_other_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_total_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_central_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_provincial_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_local_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_self_raised_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_other_yuan: Decimal | None = Field(default=None, sa_column=money())
    # 其中：财政拨款, where the form gives it (年度-only and 上海 layouts); NULL where it does not
    period_fiscal_yuan: Decimal | None = Field(default=None, sa_column=money())
    annual_fiscal_yuan: Decimal | None = Field(default=None, sa_column=money())

    overview: str | None = Field(default=None, sa_column=Column(Text))
    basis: str | None = Field(default=None, sa_column=Column(Text))
    necessity: str | None = Field(default=None, sa_column=Column(Text))
    measures: str | None = Field(default=None, sa_column=Column(Text))
    plan: str | None = Field(default=None, sa_column=Column(Text))
    goal_period: str | None = Field(default=None, sa_column=Column(Text))
    goal_annual: str | None = Field(default=None, sa_column=Column(Text))

    owner: str | None = Field(default=None, max_length=100)
    clerk: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=60)
    filled_on: date | None = None

    form_sha256: str = Field(max_length=64)  # of the parsed form: tells changed from unchanged
    updated_at: datetime

    def funds(self, side: str) -> dict[str, Decimal | None]:
        return {k: getattr(self, f"{side}_{k}_yuan") for k in FUND_SOURCES}
