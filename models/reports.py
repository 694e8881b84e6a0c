"""Reports: the overview by 主管部门 → 实施单位 → project, the open-alert list and a project's
drill-down — and the two summary tables that let the overview answer at province scale.

**As of a date.** `D` falls after the end of some month `c` of the year (the latest closed
month; none before 31 January: nothing is due yet). An indicator's light at `D` is decided by
one reporting period, the *judged period*:

- the period that ended last (`c`, or for quarterly reporting the last quarter end ≤ `c`);
- but while that period's entry window is still open (`D` on or before its deadline, the 5th
  of the next month) and its actual has not come in, the period before it: the unit is not
  late yet, so the previous period's light still stands;
- no actual for the judged period → grey (its deadline has passed); no judged period (the
  first period's window is still open) → no light yet ("未到期").

So "as of 7月31日" reads July's actuals where they are in and June's where they are not; an
indicator missing June as well is grey (DOMAIN.md §4). The rule is written once, in
domain/calendar.py; the budget follows it with spending (the amount is the latest cumulative
spending reported by then).

**The summary tables.** The state of every project year at every closed month is known from
what is stored, so `light_summary` holds, per project year, calendar month `c` and 一级指标, how
many indicators are green/yellow/red/grey after `c`'s deadline and, as `early_*`, before it;
`budget_summary` the same for the budget, with the amounts in fen (exact integer sums in
SQLite). The overview for any date is then one indexed read of one month's rows — ~30,000 rows
for 10,000 projects — instead of 1.8 million actuals. The rows are a cache of the domain core
(domain.project_year), kept current by the write use cases through services/summaries.py and
checked by `flask check`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Container

from pydantic import field_validator
from sqlalchemy import and_, case, false, func, or_
from sqlmodel import Session, SQLModel, select

from domain.calendar import YearCalendar
from importers.values import Target, split_unit
from domain import rules
from models.actual import DEFAULT_DEADLINE_DAY, Alert, annual_target, entry_deadline, last_closed_month
from models.bounds import filter_number, filter_values
from models.indicator import Indicator
from models.org import Department, Unit, department_label
from models.project import Project, ProjectYear
from models.scope import visible_years
from models.summary import ALL_LEVELS, LIGHTS, BudgetSummary, LightSummary, level1_of  # noqa: F401
from models.user import User

LIGHT_LABELS = {rules.GREEN: "绿灯", rules.YELLOW: "黄灯", rules.RED: "红灯", rules.GREY: "灰灯"}
LEVEL1S = tuple(rules.LEVEL1_POINTS)          # 产出指标, 效益指标, 满意度指标
FEN = 100


def _fen(yuan) -> int | None:
    return None if yuan is None else int((Decimal(str(yuan)) * FEN).to_integral_value())


# --------------------------------------------------------------------------- the moment

@dataclass(frozen=True)
class AsOf:
    """A report's moment: the project year and the date (Asia/Shanghai) it is read at."""
    year: int
    date: date
    deadline_day: int = DEFAULT_DEADLINE_DAY

    @cached_property
    def month(self) -> int | None:
        """The latest closed month of the year (None: before 31 January, nothing due)."""
        return last_closed_month(self.year, self.date, rules.MONTHLY)

    @cached_property
    def late(self) -> bool:
        """Whether that month's entry deadline has passed."""
        return self.month is not None and self.date > entry_deadline(self.year, self.month, self.deadline_day)

    @property
    def progress(self) -> Decimal:
        """序时进度 of the latest closed month (monthly reporting)."""
        return Decimal(self.month or 0) / 12

    def judged(self, entered: Container[int], periods: str) -> int | None:
        if self.month is None:
            return None
        cal = YearCalendar(self.year, periods, self.deadline_day)
        return cal.judged(cal.month_moment(self.month, self.late), entered)


# --------------------------------------------------------------------------- filters

class ReportFilters(SQLModel):
    """The overview's query string; a blank or malformed filter is not applied, but a year or an
    as_of that is malformed or out of range is a 400 (models/bounds.py): the page would show
    another moment than the one asked for."""
    year: int | None = None
    as_of: date | None = None
    department: int | None = None
    unit: int | None = None
    light: str | None = None
    level1: str | None = None

    @field_validator("year", "department", "unit", mode="before")
    @classmethod
    def _lenient_int(cls, value):
        return filter_number(value)

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


def resolve_moment(filters: ReportFilters, years: list[int], today: date) -> AsOf:
    """The year asked for; else the year of `as_of`; else the latest year in scope that has
    begun (or this year). The date: `as_of`, else today."""
    if filters.year:
        year = filters.year
    elif filters.as_of:
        year = filters.as_of.year
    else:
        begun = [y for y in years if y <= today.year]
        year = begun[0] if begun else (years[-1] if years else today.year)
    return AsOf(year, filters.as_of or today)


# --------------------------------------------------------------------------- the overview

@dataclass
class Counts:
    green: int = 0
    yellow: int = 0
    red: int = 0
    grey: int = 0
    indicators: int = 0

    @property
    def pending(self) -> int:
        """Indicators without a light yet (the first period's window is still open)."""
        return self.indicators - self.green - self.yellow - self.red - self.grey

    def add(self, other: "Counts") -> None:
        self.green += other.green
        self.yellow += other.yellow
        self.red += other.red
        self.grey += other.grey
        self.indicators += other.indicators

    def of(self, light: str) -> int:
        return getattr(self, light)

    def as_dict(self) -> dict:
        return {light: self.of(light) for light in LIGHTS}


@dataclass
class Budget:
    """Budget execution of a group: sums over its projects with a known budget > 0."""
    annual_fen: int = 0
    spent_fen: int = 0
    expected_fen12: int = 0      # Σ annual × judged period month (÷ 12 gives the 序时 amount)
    projects: int = 0            # with a known budget
    initial_fen: int = 0         # Σ 年初预算数 of those projects (annual: the budgets in force, DOMAIN §7)

    def add_project(self, annual_fen: int | None, spent_fen: int | None, period: int) -> None:
        if not annual_fen or annual_fen <= 0:
            return
        self.annual_fen += annual_fen
        self.spent_fen += spent_fen or 0
        self.expected_fen12 += annual_fen * period
        self.projects += 1

    def add(self, other: "Budget") -> None:
        self.annual_fen += other.annual_fen
        self.spent_fen += other.spent_fen
        self.expected_fen12 += other.expected_fen12
        self.projects += other.projects
        self.initial_fen += other.initial_fen

    @property
    def annual_yuan(self) -> Decimal | None:
        return Decimal(self.annual_fen) / FEN if self.projects else None

    @property
    def spent_yuan(self) -> Decimal | None:
        return Decimal(self.spent_fen) / FEN if self.projects else None

    @property
    def initial_yuan(self) -> Decimal | None:
        return Decimal(self.initial_fen) / FEN if self.projects else None

    @property
    def execution_rate(self) -> Decimal | None:
        return rules.execution_rate(self.spent_fen, self.annual_fen) if self.projects else None

    @property
    def progress(self) -> Decimal | None:
        """序时进度 of the group: of each project's judged period, weighted by its budget."""
        return Decimal(self.expected_fen12) / (12 * self.annual_fen) if self.projects else None

    @property
    def pace(self) -> Decimal | None:
        rate, progress = self.execution_rate, self.progress
        return None if rate is None or not progress else rate / progress

    @property
    def light(self) -> str | None:
        if not self.projects or not self.expected_fen12:
            return None          # nothing due yet
        return rules.budget_light(self.spent_fen, self.annual_fen, min(self.progress, Decimal(1)))

    def as_dict(self) -> dict:
        """元 to the fen; the rates as the page rounds them (4 places, half up)."""
        if not self.projects:
            return dict.fromkeys(("annual_yuan", "spent_yuan", "execution_rate", "light", "progress"))
        return {"annual_yuan": _yuan_json(self.annual_fen), "spent_yuan": _yuan_json(self.spent_fen),
                "execution_rate": _json(self.execution_rate, 4), "light": self.light,
                "progress": _json(self.progress, 4)}


_PLACES = {n: Decimal(1).scaleb(-n) for n in range(0, 7)}


def _json(value: Decimal | None, places: int = 2):
    """A Decimal as a JSON number, rounded half up (rules.for_display) — without its checks,
    as the API turns a thousand of them per answer."""
    if value is None:
        return None
    rounded = value.quantize(_PLACES[places], rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _yuan_json(fen: int):
    return fen // FEN if fen % FEN == 0 else fen / FEN


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
    budget_light: str | None
    period: int
    name: str = ""
    unit: str = ""

    @property
    def budget(self) -> Budget:
        budget = Budget()
        budget.add_project(self.annual_fen, self.spent_fen, self.period)
        return budget

    @property
    def is_red(self) -> bool:
        return self.counts.red > 0 or self.budget_light == rules.RED


@dataclass
class Group:
    """A 主管部门 or 实施单位 with what its projects add up to."""
    id: int
    name: str
    code: str | None = None
    counts: Counts = field(default_factory=Counts)
    budget: Budget = field(default_factory=Budget)
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

    def as_dict(self) -> dict:
        """The `reports/overview` answer of INTERFACES.md (and a little more)."""
        return {"year": self.moment.year, "as_of": self.moment.date.isoformat(),
                "progress": _json(self.moment.progress, 4),
                "totals": {"projects": self.totals.projects, "indicators": self.totals.counts.indicators,
                           "counts": self.totals.counts.as_dict(), "budget": self.totals.budget.as_dict()},
                "departments": [d.as_dict() for d in self.departments]}


RED_LIST_LENGTH = 10


def overview(session: Session, user: User, filters: ReportFilters, moment: AsOf, red_list: int = RED_LIST_LENGTH,
             ) -> Overview:
    """The overview for the user's scope as of `moment`, narrowed by the filters. The page and
    the API both render this. Three grouped reads of one month's summary rows: the sums per
    主管部门/实施单位, the red projects (the first `red_list` of them), and — narrowed to a
    主管部门 or 实施单位 — its projects."""
    departments = unit_groups(session, user, filters, moment)
    totals = Group(0, "合计")
    for dept in departments:
        totals.counts.add(dept.counts)
        totals.budget.add(dept.budget)
        totals.projects += dept.projects
    red, red_total = _red_projects(session, user, filters, moment, red_list)
    listed = None
    if filters.department or filters.unit:
        listed = _project_lines(session, user, filters, moment)
        _name_projects(session, listed)
        listed.sort(key=lambda line: (line.unit, -line.counts.red, -line.counts.yellow, line.name))
    _name_projects(session, red)
    return Overview(moment, filters, departments, totals, red, red_total, listed)


def _level(filters: ReportFilters) -> str:
    return filters.level1 or ALL_LEVELS


def _scoped(statement, user: User, filters: ReportFilters, moment: AsOf):
    """The joins and conditions every read of the overview shares: the user's scope, the
    year, the filters, and one month's summary rows (one per project year)."""
    s, b, py = LightSummary, BudgetSummary, ProjectYear
    row_month = moment.month or 1        # before anything is due: month 1 still counts the indicators
    statement = (statement.select_from(py)
                 .join(Project, Project.id == py.project_id)
                 .outerjoin(s, and_(s.project_year_id == py.id, s.month == row_month, s.level1 == _level(filters)))
                 .outerjoin(b, and_(b.project_year_id == py.id, b.month == row_month))
                 .where(visible_years(user), py.year == moment.year))
    if filters.department:
        statement = statement.where(py.department_id == filters.department)
    if filters.unit:
        statement = statement.where(Project.unit_id == filters.unit)
    if filters.light:
        if moment.month is None:
            return statement.where(false())
        statement = statement.where(_light_column(filters.light, moment) > 0)
    return statement


def _light_column(light: str, moment: AsOf):
    return getattr(LightSummary, ("" if moment.late else "early_") + light)


def _budget_columns(moment: AsOf):
    b = BudgetSummary
    return (b.light, b.period) if moment.late else (b.early_light, b.early_period)


def unit_groups(session: Session, user: User, filters: ReportFilters, moment: AsOf) -> list[Group]:
    """Each 主管部门 with its 实施单位 and what their project years add up to (one grouped read,
    the names joined in)."""
    s, b, py = LightSummary, BudgetSummary, ProjectYear
    _light, period = _budget_columns(moment)
    budgeted = b.annual_fen > 0
    statement = select(
        py.department_id, Department.name, Department.code, Project.unit_id, Unit.name, func.count(py.id),
        *(func.coalesce(func.sum(_light_column(light, moment)), 0) for light in LIGHTS),
        func.coalesce(func.sum(s.indicators), 0),
        func.count(case((budgeted, 1))), func.sum(case((budgeted, b.annual_fen))),
        func.sum(case((budgeted, func.coalesce(b.spent_fen, 0)))), func.sum(case((budgeted, b.annual_fen * period))),
        func.sum(case((budgeted, func.coalesce(py.annual_total_yuan, 0) * FEN))))
    statement = (_scoped(statement, user, filters, moment)
                 .join(Department, Department.id == py.department_id).join(Unit, Unit.id == Project.unit_id)
                 .group_by(py.department_id, Department.name, Department.code, Project.unit_id, Unit.name))
    departments: dict[int, Group] = {}
    for d_id, d_name, d_code, u_id, u_name, *numbers in session.execute(statement):
        # sums come back as Decimal on PostgreSQL (sum of bigint is numeric): whole numbers here
        projects, g, y, r, grey, n, budgets, annual, spent, expected, initial = (int(v or 0) for v in numbers)
        unit = Group(u_id, u_name, projects=projects)
        unit.counts = Counts(g, y, r, grey, n) if moment.month else Counts(indicators=n)
        unit.budget = Budget(annual or 0, (spent or 0) if moment.month else 0, expected or 0, budgets, initial)
        dept = departments.setdefault(d_id, Group(d_id, d_name, d_code))
        dept.units.append(unit)
        dept.counts.add(unit.counts)
        dept.budget.add(unit.budget)
        dept.projects += projects
    ordered = sorted(departments.values(), key=lambda d: (d.code is None, d.code or "", d.name))
    for dept in ordered:
        dept.units.sort(key=lambda u: u.name)
    return ordered


def _line_select(moment: AsOf):
    s, b, py = LightSummary, BudgetSummary, ProjectYear
    budget_light, period = _budget_columns(moment)
    return select(py.id, py.project_id, Project.unit_id, py.department_id,
                  *(_light_column(light, moment) for light in LIGHTS), s.indicators,
                  b.annual_fen, b.spent_fen, budget_light, period)


def _line(row, moment: AsOf) -> ProjectLine:
    py_id, p_id, u_id, d_id, g, y, r, grey, n, annual, spent, light, period = row[:13]
    if moment.month is None:
        return ProjectLine(py_id, p_id, u_id, d_id, Counts(indicators=n or 0), annual, None, None, 0)
    return ProjectLine(py_id, p_id, u_id, d_id, Counts(g or 0, y or 0, r or 0, grey or 0, n or 0), annual, spent,
                       light, period or 0)


def _project_lines(session: Session, user: User, filters: ReportFilters, moment: AsOf) -> list[ProjectLine]:
    statement = _scoped(_line_select(moment), user, filters, moment)
    return [_line(row, moment) for row in session.execute(statement)]


def _red_projects(session: Session, user: User, filters: ReportFilters, moment: AsOf,
                  limit: int) -> tuple[list[ProjectLine], int]:
    """Project years with a red indicator or a red budget: most red indicators first, a red
    budget before none; and how many there are in all."""
    if moment.month is None or not limit:
        return [], 0
    red = _light_column(rules.RED, moment)
    budget_light, _period = _budget_columns(moment)
    statement = (_scoped(_line_select(moment).add_columns(func.count().over()), user, filters, moment)
                 .where(or_(red > 0, budget_light == rules.RED))
                 .order_by(red.desc(), case((budget_light == rules.RED, 0), else_=1), ProjectYear.id)
                 .limit(limit))
    rows = session.execute(statement).all()
    return [_line(row, moment) for row in rows], (rows[0][-1] if rows else 0)


def _name_projects(session: Session, lines: list[ProjectLine]) -> None:
    if not lines:
        return
    names = {p_id: (name, unit) for p_id, name, unit in session.execute(
        select(Project.id, Project.name, Unit.name).join(Unit, Unit.id == Project.unit_id)
        .where(Project.id.in_({line.project_id for line in lines})))}
    for line in lines:
        line.name, line.unit = names[line.project_id]


# --------------------------------------------------------------------------- open alerts

ALERT_KINDS = {"red": "红灯", "yellow": "黄灯", "overdue": "逾期未填报"}
_ALERT_RANK = case((Alert.light == rules.RED, 0), (Alert.light == rules.YELLOW, 1), else_=2)


class AlertFilters(SQLModel):
    year: int | None = None
    department: int | None = None
    unit: int | None = None
    kind: str | None = None
    page: int = 1

    @field_validator("year", "department", "unit", mode="before")
    @classmethod
    def _lenient_int(cls, value):
        return filter_number(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value):
        return value if value in ALERT_KINDS else None

    @field_validator("page", mode="before")
    @classmethod
    def _page_from_one(cls, value):
        return max(1, filter_number(value) or 1)

    @classmethod
    def from_args(cls, args) -> "AlertFilters":
        return cls.model_validate(filter_values(cls.model_fields, args, strict=False))

    def as_args(self, **changes) -> dict:
        values = {k: getattr(self, k) for k in type(self).model_fields} | changes
        if values.get("page") == 1:
            values["page"] = None
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass
class AlertLine:
    alert: Alert
    project_id: int
    project: str
    year: int
    unit: str
    department: str
    indicator: str | None       # None: the budget


@dataclass
class AlertPage:
    lines: list[AlertLine]
    total: int
    by_kind: dict[str, int]
    page: int
    pages: int


def _alert_scope(user: User, filters: AlertFilters):
    """Open alerts of project years in the user's scope, narrowed by the filters (no kind)."""
    statement = (select(Alert.id).join(ProjectYear, ProjectYear.id == Alert.project_year_id)
                 .join(Project, Project.id == ProjectYear.project_id)
                 .where(Alert.closed_at.is_(None), visible_years(user)))
    if filters.year:
        statement = statement.where(ProjectYear.year == filters.year)
    if filters.department:
        statement = statement.where(ProjectYear.department_id == filters.department)
    if filters.unit:
        statement = statement.where(Project.unit_id == filters.unit)
    return statement


def _kind_condition(kind: str):
    if kind == "overdue":
        return Alert.kind == "overdue"
    return and_(Alert.kind == "light", Alert.light == kind)


def open_alerts(session: Session, user: User, filters: AlertFilters, page_size: int = 100) -> AlertPage:
    """Open alerts in the user's scope: red first, then yellow, then overdue; within each, the
    longest open first."""
    scoped = _alert_scope(user, filters)
    by_kind = {kind: 0 for kind in ALERT_KINDS}
    count_statement = (scoped.with_only_columns(Alert.kind, Alert.light, func.count())
                       .group_by(Alert.kind, Alert.light))
    for kind, light, n in session.execute(count_statement):
        key = "overdue" if kind == "overdue" else light
        if key in by_kind:
            by_kind[key] += n
    total = by_kind[filters.kind] if filters.kind else sum(by_kind.values())
    pages = max(1, -(-total // page_size))
    page = min(filters.page, pages)
    statement = scoped.where(_kind_condition(filters.kind)) if filters.kind else scoped
    statement = (statement.order_by(_ALERT_RANK, Alert.opened_at, Alert.id)
                 .offset((page - 1) * page_size).limit(page_size))
    ids = list(session.execute(statement).scalars())
    return AlertPage(_alert_lines(session, ids), total, by_kind, page, pages)


def _alert_lines(session: Session, ids: list[int]) -> list[AlertLine]:
    if not ids:
        return []
    rows = session.execute(
        select(Alert, Project.id, Project.name, ProjectYear.year, Unit.name, Department.code, Department.name,
               Indicator.annual_level3, Indicator.period_level3)
        .join(ProjectYear, ProjectYear.id == Alert.project_year_id)
        .join(Project, Project.id == ProjectYear.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .join(Department, Department.id == ProjectYear.department_id)
        .outerjoin(Indicator, Indicator.id == Alert.indicator_id)
        .where(Alert.id.in_(ids))).all()
    order = {alert_id: n for n, alert_id in enumerate(ids)}
    lines = [AlertLine(alert, p_id, name, year, unit, department_label(code, dept),
                       None if alert.indicator_id is None else (annual or period or ""))
             for alert, p_id, name, year, unit, code, dept, annual, period in rows]
    return sorted(lines, key=lambda line: order[line.alert.id])


# --------------------------------------------------------------------------- one project

@dataclass
class TrendPoint:
    month: int
    value: Decimal | None         # in the target's unit; None for qualitative
    assessment: str | None
    light: str


@dataclass
class IndicatorReport:
    indicator: Indicator
    level1: str
    measure: str
    target: Target
    light: str | None
    period: int | None            # the judged period
    value: Decimal | None         # its actual, in the target's unit
    assessment: str | None
    completion: Decimal | None
    pace: Decimal | None
    points: list[TrendPoint]

    @property
    def name(self) -> str:
        return self.indicator.name


@dataclass
class ProjectReport:
    project: Project
    year: ProjectYear
    unit: Unit
    department: Department
    years: list[int]
    moment: AsOf
    counts: Counts
    budget: Budget
    budget_light: str | None
    spending: list[tuple[int, Decimal, str | None]]     # (month, cumulative 元, light)
    indicators: list[IndicatorReport]


def _in_target_unit(value: Decimal | None, unit: str | None, target_unit: str | None) -> Decimal | None:
    if value is None:
        return None
    return value * split_unit(unit)[0] / split_unit(target_unit)[0]


def project_report(session: Session, user: User, project_id: int, year: int | None,
                   as_of: date) -> ProjectReport | None:
    """One project year as of a date, with every indicator's monthly trend; None when the user
    may not see it (or it has no such year). Without a year: the latest that has begun."""
    rows = session.execute(select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                           .where(Project.id == project_id, visible_years(user))).all()
    years = sorted({py.year for _p, py in rows})
    if year is None and years:
        year = max([y for y in years if y <= as_of.year] or years[:1])
    chosen = next((py for _p, py in rows if py.year == year), None)
    if chosen is None:
        return None
    project, moment = rows[0][0], AsOf(year, as_of)
    from reads.project_year import year_state
    state = year_state(session, chosen, as_of, moment.deadline_day)
    closed = state.as_of.moment.closed
    reports, counts = [], Counts()
    for own in state.indicators:
        ind, status, target = own.indicator, own.status, annual_target(own.indicator)
        actual = own.actual if status.period is not None and status.period == status.shown else None
        counts.indicators += 1
        if status.light:
            setattr(counts, status.light, counts.of(status.light) + 1)
        judged = state.facts.judgements.get(ind.id, {})
        entries = state.facts.inputs.entries.get(ind.id, {})
        points = [TrendPoint(m, _in_target_unit(e.value, e.unit or target.unit, target.unit), e.assessment,
                             judged[m].light if m in judged else rules.GREY)
                  for m, e in sorted(entries.items()) if closed is not None and m <= closed
                  and state.facts.calendar.is_period(m)]
        reports.append(IndicatorReport(
            ind, level1_of(ind.level1_std, ind.level1), own.measure, target, status.light, status.period,
            _in_target_unit(actual.value, actual.unit, target.unit) if actual else None,
            actual.assessment if actual else None, own.completion if actual else None,
            own.pace if actual else None, points))
    budget_status = state.budget.status
    known = sorted(m for m in state.spending if closed is not None and m <= closed
                   and state.facts.calendar.is_period(m))
    budget = Budget()
    budget.add_project(_fen(state.budget.annual_yuan), _fen(state.spending[known[-1]].amount_yuan) if known else None,
                       budget_status.period or 0)
    series = [(m, state.spending[m].amount_yuan, state.facts.spending[m].light) for m in known]
    return ProjectReport(project, chosen, session.get(Unit, project.unit_id),
                         session.get(Department, chosen.department_id), years, moment, counts, budget,
                         budget_status.light, series, reports)


def filter_choices(session: Session, user: User, year: int | None,
                   department: int | None) -> tuple[list[Department], list[Unit]]:
    """The filter bars' choices within the user's scope (of that year): the 主管部门, and the
    实施单位 of the chosen one (of the only one, when the scope has one)."""
    scoped = (select(ProjectYear.department_id).join(Project, Project.id == ProjectYear.project_id)
              .where(visible_years(user)))
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
