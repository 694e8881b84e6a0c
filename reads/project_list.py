"""The project list: its filters, the choices they offer and one page of project years, all
within the user's scope; and the years the user may see, which every year chooser offers."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping

from pydantic import field_validator
from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, select

from models.bounds import filter_number, filter_values
from models.indicator import Indicator
from models.org import Department, Unit
from models.project import Project, ProjectYear
from models.user import User
from reads.overview import project_lines_of
from reads.report_filters import AsOf
from reads.report_sums import ProjectBudget
from reads.scope import visible_project_years, visible_years


class ProjectFilters(SQLModel):
    """The list's query string. A filter that is blank or malformed is simply not applied."""
    year: int | None = None
    department: int | None = None
    unit: int | None = None
    q: str = ""
    page: int = 1

    @field_validator("year", "department", "unit", mode="before")
    @classmethod
    def _lenient_int(cls, value):
        return filter_number(value)

    @field_validator("page", mode="before")
    @classmethod
    def _page_from_one(cls, value):
        return max(1, filter_number(value) or 1)

    @field_validator("q", mode="before")
    @classmethod
    def _trimmed(cls, value):
        return " ".join(str(value or "").split())[:100]

    @classmethod
    def from_args(cls, args) -> "ProjectFilters":
        return cls.model_validate(filter_values(cls.model_fields, args, strict=False))

    def as_args(self, **changes) -> dict:
        values = {"year": self.year, "department": self.department, "unit": self.unit, "q": self.q or None,
                  "page": self.page if self.page > 1 else None} | changes
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class FilterOptions:
    years: list[int]
    departments: list[Department]
    units: list[tuple[Department, list[Unit]]]   # grouped by 主管部门 for <optgroup>


@dataclass
class ProjectRow:
    project_id: int
    name: str
    year: int
    department: str
    department_code: str | None
    unit: str
    annual_total_yuan: Decimal | None
    annual_indicators: int
    project_year_id: int = 0
    light: str | None = None                 # the worst light as of the list's date (the overview's)
    budget: ProjectBudget | None = None      # 执行率 against 序时进度 as of that date


@dataclass
class ProjectList:
    rows: list[ProjectRow]
    total: int
    page: int
    pages: int


def filter_options(session: Session, user: User) -> FilterOptions:
    """The choices of the list's filters: only years, 主管部门 and 实施单位 the user can see."""
    scoped = (select(ProjectYear.year, ProjectYear.department_id, Project.unit_id)
              .join(Project, Project.id == ProjectYear.project_id).where(visible_years(user)).subquery())
    years = list(session.exec(select(scoped.c.year).distinct().order_by(scoped.c.year.desc())))
    units = list(session.exec(select(Unit).where(Unit.id.in_(select(scoped.c.unit_id))).order_by(Unit.name)))
    department_ids = set(session.exec(select(scoped.c.department_id).distinct())) | {u.department_id for u in units}
    departments = list(session.exec(select(Department).where(Department.id.in_(department_ids))
                                    .order_by(Department.code, Department.name)))
    grouped = [(d, [u for u in units if u.department_id == d.id]) for d in departments]
    return FilterOptions(years, departments, [(d, us) for d, us in grouped if us])


def _annual_counts():
    """Active indicators with a 年度 side, per project year."""
    return (select(Indicator.project_year_id, func.count().label("n"))
            .where(Indicator.retired_at.is_(None),
                   or_(Indicator.annual_level3.is_not(None), Indicator.annual_raw.is_not(None)))
            .group_by(Indicator.project_year_id).subquery())


def list_project_years(session: Session, user: User, filters: ProjectFilters, page_size: int = 100,
                       as_of: date | None = None, config: Mapping | None = None) -> ProjectList:
    """One page of the list; with `as_of` (and the settings `config`) each row also carries its
    worst light and its budget as the overview reads them at that date."""
    counts = _annual_counts()
    statement = (
        select(Project.id, Project.name, ProjectYear.year, Department.name, Department.code, Unit.name,
               ProjectYear.annual_total_yuan, func.coalesce(counts.c.n, 0), ProjectYear.id)
        .join(ProjectYear, ProjectYear.project_id == Project.id)
        .join(Unit, Unit.id == Project.unit_id)
        .join(Department, Department.id == ProjectYear.department_id)
        .outerjoin(counts, counts.c.project_year_id == ProjectYear.id)
        .where(visible_years(user))
    )
    if filters.year:
        statement = statement.where(ProjectYear.year == filters.year)
    if filters.department:
        statement = statement.where(ProjectYear.department_id == filters.department)
    if filters.unit:
        statement = statement.where(Project.unit_id == filters.unit)
    if filters.q:
        statement = statement.where(Project.name.contains(filters.q, autoescape=True))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    pages = max(1, math.ceil(total / page_size))
    page = min(filters.page, pages)
    statement = (statement.order_by(ProjectYear.year.desc(), Department.code, Department.name, Unit.name, Project.name)
                 .offset((page - 1) * page_size).limit(page_size))
    rows = [ProjectRow(*r) for r in session.exec(statement)]
    if as_of is not None:
        _add_standing(session, user, rows, as_of, config or {})
    return ProjectList(rows, total, page, pages)


def _add_standing(session: Session, user: User, rows: list[ProjectRow], as_of: date, config: Mapping) -> None:
    """Each row's light and budget from the overview's reader (one read per year shown)."""
    for year in {row.year for row in rows}:
        moment = AsOf.of(year, as_of, config)
        lines = project_lines_of(session, user, moment, [r.project_year_id for r in rows if r.year == year])
        for row in rows:
            line = lines.get(row.project_year_id)
            if row.year == year and line is not None and moment.month:
                row.light, row.budget = line.worst_light, line.budget


def visible_year_numbers(session: Session, user: User) -> list[int]:
    """The years of the project years the user may see, newest first."""
    statement = visible_project_years(select(ProjectYear.year), user).distinct().order_by(ProjectYear.year.desc())
    return list(session.exec(statement))
