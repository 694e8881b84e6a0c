"""The overview by 主管部门 → 实施单位 → project as of a date, within the user's scope: what the
overview page and `GET /api/v1/reports/overview` both show.

It reads the report summaries (models/summary.py: per project year, calendar month and 一级指标,
the lights after the month's deadline and, as `early_*`, before it; the budget likewise), a
cache of the domain core kept current by the write use cases (services/summaries.py) and
checked by `flask check`. The overview for any date is then one indexed read of one month's
rows — ~30,000 rows for 10,000 projects — instead of 1.8 million actuals. What is added up
here is judged with the settings' bands (reads/report_sums.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, bindparam, case, false, func, or_
from sqlmodel import Session, select

from domain import rules
from domain.project_year import mark_words
from models.db import prepared, rows
from models.org import Department, Unit, department_label
from models.project import Project, ProjectYear
from reads.scope import scope_clause, user_scope
from models.summary import ALL_LEVELS, LIGHTS, BudgetSummary, LightSummary
from models.user import User
from reads.report_filters import AsOf, ReportFilters
from reads.rectifications import RectificationCounts, rectification_counts
from reads.report_sums import FEN, Budget, Counts, ProjectBudget, json_number


@dataclass
class ProjectLine:
    """One project year in the overview."""
    project_year_id: int
    project_id: int
    unit_id: int
    department_id: int
    counts: Counts
    annual_fen: int | None
    spent_fen: int | None
    budget_light: str | None      # as the domain core judged it (the summary row)
    period: int
    name: str = ""
    unit: str = ""
    spending_marks: tuple[str, ...] = ()      # 超预算 / 冲减 of the spending shown

    @property
    def budget(self) -> ProjectBudget:
        return ProjectBudget.of(self.annual_fen, self.spent_fen, self.period, self.budget_light)

    @property
    def worst_light(self) -> str | None:
        """The project's worst light: of its indicators and its budget (rules.worst_light)."""
        lit = [light for light in LIGHTS if self.counts.of(light)]
        return rules.worst_light(lit + [self.budget_light])

    @property
    def is_red(self) -> bool:
        return self.counts.red > 0 or self.budget_light == rules.RED


@dataclass
class Group:
    """A 主管部门 or 实施单位 (or the total) with what its projects add up to."""
    id: int
    name: str
    budget: Budget
    code: str | None = None
    counts: Counts = field(default_factory=Counts)
    projects: int = 0
    units: list["Group"] = field(default_factory=list)
    lines: list[ProjectLine] = field(default_factory=list)

    @property
    def label(self) -> str:
        return department_label(self.code, self.name)

    def as_dict(self, with_units: bool = True) -> dict:
        out = {"id": self.id, "name": self.name}
        if with_units:
            out["code"] = self.code
        out |= {"projects": self.projects, "indicators": self.counts.indicators,
                "counts": self.counts.as_dict(), "budget": self.budget.as_dict()}
        if with_units:
            out["units"] = [u.as_dict(with_units=False) for u in self.units]
        return out


@dataclass
class Overview:
    moment: AsOf
    filters: ReportFilters
    departments: list[Group]
    totals: Group
    red_projects: list[ProjectLine]
    red_total: int
    projects: list[ProjectLine] | None     # listed when narrowed to one 主管部门 or 实施单位
    rectifications: RectificationCounts | None = None    # 整改 items of the year (the page; not the API)

    def as_dict(self) -> dict:
        """The `reports/overview` answer of INTERFACES.md (and a little more)."""
        return {"year": self.moment.year, "as_of": self.moment.date.isoformat(),
                "progress": json_number(self.moment.progress, 4),
                "totals": {"projects": self.totals.projects, "indicators": self.totals.counts.indicators,
                           "counts": self.totals.counts.as_dict(), "budget": self.totals.budget.as_dict()},
                "departments": [d.as_dict() for d in self.departments]}


RED_LIST_LENGTH = 10


def overview(session: Session, user: User, filters: ReportFilters, moment: AsOf, red_list: int = RED_LIST_LENGTH,
             today: date | None = None) -> Overview:
    """The overview for the user's scope as of `moment`, narrowed by the filters. The page and
    the API both render this. Three grouped reads of one month's summary rows: the sums per
    主管部门/实施单位, the red projects (the first `red_list` of them), and — narrowed to a
    主管部门 or 实施单位 — its projects. With `today`, also how many 整改 items of the year stand
    open (late against `today`), answered or closed."""
    departments = unit_groups(session, user, filters, moment)
    totals = Group(0, "合计", Budget(bands=moment.bands, elapsed=_elapsed(moment)))
    for dept in departments:
        totals.counts.add(dept.counts)
        totals.budget.add(dept.budget)
        totals.projects += dept.projects
    red, red_total = _red_projects(session, user, filters, moment, red_list)
    listed = None
    if filters.department or filters.unit:
        listed = project_lines(session, user, filters, moment)
        _name_projects(session, listed)
        listed.sort(key=lambda line: (line.unit, -line.counts.red, -line.counts.yellow, line.name))
    _name_projects(session, red)
    counts = None if today is None else rectification_counts(
        session, user, today, year=moment.year, department=filters.department, unit=filters.unit)
    return Overview(moment, filters, departments, totals, red, red_total, listed, counts)


def _elapsed(moment: AsOf):
    """The 序时进度 a group shows: the share of the year gone (None before anything is due)."""
    return moment.progress if moment.month else None


@dataclass(frozen=True)
class _Shape:
    """What the overview's reads are built for (one construct each, `models.db.prepared`; the
    rest are bound parameters: `_shape`): the user's scope, before or after the month's entry
    deadline, whether anything is due yet, and which filters apply."""
    scope: str
    late: bool
    due: bool
    department: bool = False
    unit: bool = False
    light: str | None = None


def _shape(user: User, filters: ReportFilters, moment: AsOf) -> tuple[_Shape, dict]:
    """The reads' shape and their parameters: the year, one month's summary rows (before
    anything is due, month 1 still counts the indicators), the 一级指标 (ALL_LEVELS: all),
    the scope's id and the filters' ids."""
    scope, scope_id = user_scope(user)
    shape = _Shape(scope, moment.late, moment.month is not None, bool(filters.department), bool(filters.unit),
                   filters.light or None)
    params = {"year": moment.year, "row_month": moment.month or 1, "level": filters.level1 or ALL_LEVELS}
    if scope_id is not None:
        params["scope_id"] = scope_id
    if filters.department:
        params["department"] = filters.department
    if filters.unit:
        params["unit"] = filters.unit
    return shape, params


def _scoped(statement, shape: _Shape):
    """The joins and conditions every read of the overview shares: the user's scope, the
    year, the filters, and one month's summary rows (one per project year)."""
    s, b, py = LightSummary, BudgetSummary, ProjectYear
    row_month = bindparam("row_month")
    statement = (statement.select_from(py)
                 .join(Project, Project.id == py.project_id)
                 .outerjoin(s, and_(s.project_year_id == py.id, s.month == row_month, s.level1 == bindparam("level")))
                 .outerjoin(b, and_(b.project_year_id == py.id, b.month == row_month))
                 .where(scope_clause(shape.scope, bindparam("scope_id")), py.year == bindparam("year")))
    if shape.department:
        statement = statement.where(py.department_id == bindparam("department"))
    if shape.unit:
        statement = statement.where(Project.unit_id == bindparam("unit"))
    if shape.light:
        if not shape.due:
            return statement.where(false())
        statement = statement.where(_light_column(shape.light, shape.late) > 0)
    return statement


def _light_column(light: str, late: bool):
    return getattr(LightSummary, ("" if late else "early_") + light)


def _budget_columns(late: bool):
    b = BudgetSummary
    return (b.light, b.period) if late else (b.early_light, b.early_period)


@prepared
def _unit_sums(shape: _Shape):
    """What the project years of each 实施单位 add up to, with its 主管部门: grouped by the two
    ids, the names joined to the thousand groups afterwards (grouping ten thousand rows by their
    names as well took PostgreSQL twice as long)."""
    s, b, py = LightSummary, BudgetSummary, ProjectYear
    _light, period = _budget_columns(shape.late)
    budgeted = b.annual_fen > 0
    sums = select(
        py.department_id.label("department_id"), Project.unit_id.label("unit_id"), func.count(py.id),
        *(func.coalesce(func.sum(_light_column(light, shape.late)), 0) for light in LIGHTS),
        func.coalesce(func.sum(s.indicators), 0),
        func.count(case((budgeted, 1))), func.sum(case((budgeted, b.annual_fen))),
        func.sum(case((budgeted, func.coalesce(b.spent_fen, 0)))), func.sum(case((budgeted, b.annual_fen * period))),
        func.sum(case((budgeted, func.coalesce(py.annual_total_yuan, 0) * FEN))))
    sums = _scoped(sums, shape).group_by(py.department_id, Project.unit_id).subquery()
    return (select(sums.c.department_id, Department.name, Department.code, sums.c.unit_id, Unit.name,
                   *list(sums.c)[2:])
            .join(Department, Department.id == sums.c.department_id).join(Unit, Unit.id == sums.c.unit_id))


def unit_groups(session: Session, user: User, filters: ReportFilters, moment: AsOf) -> list[Group]:
    """Each 主管部门 with its 实施单位 and what their project years add up to (one grouped read,
    the names joined in)."""
    shape, params = _shape(user, filters, moment)
    departments: dict[int, Group] = {}
    for d_id, d_name, d_code, u_id, u_name, *numbers in rows(session, _unit_sums(shape), params):
        # sums come back as Decimal on PostgreSQL (sum of bigint is numeric): whole numbers here
        projects, g, y, r, grey, n, budgets, annual, spent, expected, initial = (int(v or 0) for v in numbers)
        unit = Group(u_id, u_name, Budget(annual or 0, (spent or 0) if moment.month else 0, expected or 0, budgets,
                                          initial, bands=moment.bands, elapsed=_elapsed(moment)), projects=projects)
        unit.counts = Counts(g, y, r, grey, n) if moment.month else Counts(indicators=n)
        dept = departments.setdefault(d_id, Group(d_id, d_name, Budget(bands=moment.bands, elapsed=_elapsed(moment)),
                                                  d_code))
        dept.units.append(unit)
        dept.counts.add(unit.counts)
        dept.budget.add(unit.budget)
        dept.projects += projects
    ordered = sorted(departments.values(), key=lambda d: (d.code is None, d.code or "", d.name))
    for dept in ordered:
        dept.units.sort(key=lambda u: u.name)
    return ordered


def _line_select(late: bool):
    s, b, py = LightSummary, BudgetSummary, ProjectYear
    budget_light, period = _budget_columns(late)
    return select(py.id, py.project_id, Project.unit_id, py.department_id,
                  *(_light_column(light, late) for light in LIGHTS), s.indicators,
                  b.annual_fen, b.spent_fen, budget_light, period, b.over_budget, b.reduced)


def _line(row, moment: AsOf) -> ProjectLine:
    py_id, p_id, u_id, d_id, g, y, r, grey, n, annual, spent, light, period, over_budget, reduced = row[:15]
    if moment.month is None:
        return ProjectLine(py_id, p_id, u_id, d_id, Counts(indicators=n or 0), annual, None, None, 0)
    return ProjectLine(py_id, p_id, u_id, d_id, Counts(g or 0, y or 0, r or 0, grey or 0, n or 0), annual, spent,
                       light, period or 0, spending_marks=mark_words(bool(over_budget), bool(reduced)))


@prepared
def _lines(shape: _Shape, by_id: bool = False):
    statement = _scoped(_line_select(shape.late), shape)
    return statement.where(ProjectYear.id.in_(bindparam("ids", expanding=True))) if by_id else statement


def project_lines(session: Session, user: User, filters: ReportFilters, moment: AsOf) -> list[ProjectLine]:
    """Every project year in scope under the filters, as of `moment`, unnamed and unsorted."""
    shape, params = _shape(user, filters, moment)
    return [_line(row, moment) for row in rows(session, _lines(shape), params)]


def project_lines_of(session: Session, user: User, moment: AsOf, project_year_ids) -> dict[int, ProjectLine]:
    """These project years of `moment.year` in the user's scope, as of `moment`, by id — what the
    overview says of each (the project list's light and budget columns)."""
    shape, params = _shape(user, ReportFilters(), moment)
    found = rows(session, _lines(shape, by_id=True), params | {"ids": list(project_year_ids)})
    return {line.project_year_id: line for line in (_line(row, moment) for row in found)}


@prepared
def _red(shape: _Shape):
    red = _light_column(rules.RED, shape.late)
    budget_light, _period = _budget_columns(shape.late)
    return (_scoped(_line_select(shape.late).add_columns(func.count().over()), shape)
            .where(or_(red > 0, budget_light == rules.RED))
            .order_by(red.desc(), case((budget_light == rules.RED, 0), else_=1), ProjectYear.id)
            .limit(bindparam("limit")))


def _red_projects(session: Session, user: User, filters: ReportFilters, moment: AsOf,
                  limit: int) -> tuple[list[ProjectLine], int]:
    """Project years with a red indicator or a red budget: most red indicators first, a red
    budget before none; and how many there are in all."""
    if moment.month is None or not limit:
        return [], 0
    shape, params = _shape(user, filters, moment)
    found = rows(session, _red(shape), params | {"limit": limit})
    return [_line(row, moment) for row in found], (found[0][-1] if found else 0)


def _name_projects(session: Session, lines: list[ProjectLine]) -> None:
    if not lines:
        return
    names = {p_id: (name, unit) for p_id, name, unit in session.execute(
        select(Project.id, Project.name, Unit.name).join(Unit, Unit.id == Project.unit_id)
        .where(Project.id.in_({line.project_id for line in lines})))}
    for line in lines:
        line.name, line.unit = names[line.project_id]
