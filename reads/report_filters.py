"""What a report is read at and for: the moment (a year and a date, judged with the settings'
entry deadline and bands), the overview's filters, and the choices of the reports' filter bars.

**As of a date.** `D` falls after the end of some month `c` of the year (the latest closed
month; none before 31 January: nothing is due yet). An indicator's light at `D` is decided by
one reporting period, the *judged period*:

- the period that ended last (`c`, or for quarterly reporting the last quarter end ≤ `c`);
- but while that period's entry window is still open (`D` on or before its deadline, the
  configured day of the next month) and its actual has not come in, the period before it: the
  unit is not late yet, so the previous period's light still stands;
- no actual for the judged period → grey (its deadline has passed); no judged period (the
  first period's window is still open) → no light yet ("未到期").

So "as of 7月31日" reads July's actuals where they are in and June's where they are not; an
indicator missing June as well is grey (DOMAIN.md §4). The rule is written once, in
domain/calendar.py; the budget follows it with spending. The report summaries
(models/summary.py) hold every month's counts after and before its deadline; the moment says
which of the two a report reads.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Mapping

from pydantic import field_validator
from sqlmodel import Session, SQLModel, select

from domain import rules
from domain.calendar import Moment, YearCalendar
from models.bounds import filter_number, filter_values
from models.org import Department, Unit
from models.project import Project, ProjectYear
from reads.scope import visible_project_years, visible_years
from models.summary import LIGHTS
from models.user import User
from services.inputs import deadline_day, thresholds

LEVEL1S = tuple(rules.LEVEL1_POINTS)          # 产出指标, 效益指标, 满意度指标


@dataclass(frozen=True)
class AsOf:
    """A report's moment: the project year and the date (Asia/Shanghai) it is read at, with the
    settings it is judged by — the entry deadline day and the bands (`AsOf.of`)."""
    year: int
    date: date
    deadline_day: int
    bands: rules.Thresholds

    @classmethod
    def of(cls, year: int, on: date, config: Mapping) -> AsOf:
        return cls(year, on, deadline_day(config), thresholds(config))

    @cached_property
    def _moment(self) -> Moment:
        return YearCalendar(self.year, rules.MONTHLY, self.deadline_day).moment(self.date)

    @property
    def month(self) -> int | None:
        """The latest closed month of the year (None: before 31 January, nothing due)."""
        return self._moment.closed

    @property
    def late(self) -> bool:
        """Whether that month's entry deadline has passed."""
        return self._moment.late

    @property
    def progress(self) -> Decimal:
        """序时进度 of the latest closed month (monthly reporting)."""
        return Decimal(self.month or 0) / 12


class ScopeFilters(SQLModel):
    """The year, 主管部门 and 实施单位 a report's query string narrows to (the overview's, the
    alert list's); a blank or malformed one is not applied."""
    year: int | None = None
    department: int | None = None
    unit: int | None = None

    @field_validator("year", "department", "unit", mode="before")
    @classmethod
    def _lenient_int(cls, value):
        return filter_number(value)

    def narrow(self, statement):
        """`statement`, joined to ProjectYear and Project, narrowed to these."""
        if self.year:
            statement = statement.where(ProjectYear.year == self.year)
        if self.department:
            statement = statement.where(ProjectYear.department_id == self.department)
        if self.unit:
            statement = statement.where(Project.unit_id == self.unit)
        return statement


class ReportFilters(ScopeFilters):
    """The overview's query string; a blank or malformed filter is not applied, but a year or an
    as_of that is malformed or out of range is a 400 (models/bounds.py): the page would show
    another moment than the one asked for."""
    as_of: date | None = None
    light: str | None = None
    level1: str | None = None

    @field_validator("light", mode="before")
    @classmethod
    def _known_light(cls, value):
        return value if value in LIGHTS else None

    @field_validator("level1", mode="before")
    @classmethod
    def _known_level1(cls, value):
        return value if value in LEVEL1S else None

    @classmethod
    def from_args(cls, args) -> "ReportFilters":
        return cls.model_validate(filter_values(cls.model_fields, args, strict=True))

    def as_args(self, **changes) -> dict:
        values = {k: getattr(self, k) for k in type(self).model_fields} | changes
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items() if v not in (None, "")}


def resolve_moment(filters: ReportFilters, years: list[int], today: date, config: Mapping) -> AsOf:
    """The year asked for; else the year of `as_of`; else the latest year in scope that has
    begun (or this year). The date: `as_of`, else today. Judged with the settings `config`."""
    if filters.year:
        year = filters.year
    elif filters.as_of:
        year = filters.as_of.year
    else:
        begun = [y for y in years if y <= today.year]
        year = begun[0] if begun else (years[-1] if years else today.year)
    return AsOf.of(year, filters.as_of or today, config)


def filter_choices(session: Session, user: User, year: int | None,
                   department: int | None) -> tuple[list[Department], list[Unit]]:
    """The filter bars' choices within the user's scope (of that year): the 主管部门, and the
    实施单位 of the chosen one (of the only one, when the scope has one)."""
    scoped = visible_project_years(select(ProjectYear.department_id), user)
    if year:
        scoped = scoped.where(ProjectYear.year == year)
    department_ids = set(session.execute(scoped.distinct()).scalars())
    departments = list(session.execute(select(Department).where(Department.id.in_(department_ids))
                                       .order_by(Department.code, Department.name)).scalars())
    if department is None and len(departments) == 1:
        department = departments[0].id
    if department is None:
        return departments, []
    unit_ids = select(Project.unit_id).join(ProjectYear, ProjectYear.project_id == Project.id).where(
        visible_years(user), ProjectYear.department_id == department, *([ProjectYear.year == year] if year else []))
    units = list(session.execute(select(Unit).where(Unit.id.in_(unit_ids)).order_by(Unit.name)).scalars())
    return departments, units
