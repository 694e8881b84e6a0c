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
indicator missing June as well is grey (DOMAIN.md §4). `models.actual.judged_month`, which the
project page and the API use through `indicator_states`, applies the same rule to one project.
The budget follows the same rule with spending; the amount is the latest cumulative spending
reported by then.

**The summary tables.** A light never changes after it is stored (models/actual.py judges it
when written), so the state of every project year at every closed month is known in advance:
`light_summary` holds, per project year, calendar month `c` and 一级指标, how many indicators
are green/yellow/red/grey after `c`'s deadline and, as `early_*`, before it; `budget_summary`
the same for the budget, with the amounts in fen (exact integer sums in SQLite). The overview
for any date is then one indexed read of one month's rows — ~30,000 rows for 10,000 projects —
instead of 1.8 million actuals. The rows are derived data, rebuilt per project year by
`refresh_summaries` from what is stored; a session hook (`_note_changes`/`_refresh_before_commit`)
does that inside the same transaction whenever an Actual, Spending, Indicator or ProjectYear is
written through the ORM — record_actual, record_spending, imports that add or retire
indicators, a changed budget or reporting period. Bulk writers that bypass the ORM
(`flask demo synth`) call `summary_rows` and insert the rows themselves.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property
from itertools import chain
from operator import itemgetter
from typing import Container, Iterable, Mapping

from pydantic import field_validator
from sqlalchemy import (BigInteger, Column, Index, and_, bindparam, case, delete, event, false, func, insert, inspect,
                        or_, update)
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm.util import identity_key
from sqlmodel import Field, Session, SQLModel, select

from importers.values import Target, split_unit
from models import rules
from models.actual import (DEFAULT_DEADLINE_DAY, Actual, Alert, Spending, annual_target, effective_measure,
                           entry_deadline, last_closed_month)
from models.indicator import Indicator
from models.org import Department, Unit
from models.project import Project, ProjectYear
from models.queries import _int_or_none, department_label, filter_values, visible_years
from models.user import User

LIGHTS = (rules.GREEN, rules.YELLOW, rules.RED, rules.GREY)
LIGHT_LABELS = {rules.GREEN: "绿灯", rules.YELLOW: "黄灯", rules.RED: "红灯", rules.GREY: "灰灯"}
LEVEL1S = tuple(rules.LEVEL1_POINTS)          # 产出指标, 效益指标, 满意度指标
ALL_LEVELS = ""                                # light_summary.level1 of the row over all of them
FEN = 100


# --------------------------------------------------------------------------- the summary tables

class LightSummary(SQLModel, table=True):
    """Indicator lights of one project year and 一级指标 at dates whose latest closed month is
    `month`: after that month's entry deadline (green … grey) and before it (early_*).
    Indicators without a light (nothing due yet) are `indicators` minus the four. The row with
    level1 "" (ALL_LEVELS) adds up the others, so that every project year has exactly one row
    per month to read when no 一级指标 is chosen (also one with no indicators at all)."""
    __tablename__ = "light_summary"
    # The overview and the project list read one month's rows of every project year in scope.
    __table_args__ = (Index("ix_light_summary_month", "month", "level1", "project_year_id"),)
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
    latest cumulative spending, and the light and judged period after / before the deadline
    (a judged period of 0: nothing due yet; its 序时进度 is period / 12)."""
    __tablename__ = "budget_summary"
    __table_args__ = (Index("ix_budget_summary_month", "month", "project_year_id"),)
    project_year_id: int = Field(foreign_key="project_year.id", primary_key=True)
    month: int = Field(primary_key=True)
    annual_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    spent_fen: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    light: str | None = Field(default=None, max_length=10)
    period: int = 0
    early_light: str | None = Field(default=None, max_length=10)
    early_period: int = 0


# --------------------------------------------------------------------------- judging a moment

def _step(periods: str) -> int:
    return 3 if periods == rules.QUARTERLY else 1


def judged_period(entered: Container[int], month: int, late: bool, periods: str) -> int | None:
    """The reporting period whose entry decides the light at a date whose latest closed month
    is `month`, before (`late` False) or after that month's entry deadline; None: nothing due."""
    step = _step(periods)
    due = month - month % step
    if due <= 0:
        return None
    if due in entered or late or due != month:   # a quarter that ended earlier is past its deadline
        return due
    previous = due - step
    return previous if previous > 0 else None


def light_at(lights: Mapping[int, str | None], period: int | None) -> str | None:
    """The stored light of the judged period; grey when nothing was entered for it."""
    if period is None:
        return None
    return lights[period] if period in lights else rules.GREY


def light_as_of(lights: Mapping[int, str | None], month: int, late: bool, periods: str) -> str | None:
    return light_at(lights, judged_period(lights, month, late, periods))


def _fen(yuan) -> int | None:
    return None if yuan is None else int((Decimal(str(yuan)) * FEN).to_integral_value())


def summary_rows(project_year_id: int, periods: str, annual_total_yuan,
                 indicators: Iterable[tuple[int, str]], lights: Mapping[int, Mapping[int, str]],
                 spending: Mapping[int, tuple]) -> tuple[list[dict], list[dict]]:
    """The summary rows of one project year, from what is stored: `indicators` are the active
    annual ones as (id, 一级指标), `lights` indicator id → {period month: light}, `spending`
    period month → (cumulative amount in 元, light). Months outside the reporting periods
    (a monthly entry of a now quarterly project) do not count."""
    return (light_summary_rows(project_year_id, periods, indicators, lights),
            budget_summary_rows(project_year_id, periods, annual_total_yuan, spending))


def light_summary_rows(project_year_id: int, periods: str, indicators: Iterable[tuple[int, str]],
                       lights: Mapping[int, Mapping[int, str]]) -> list[dict]:
    valid = set(range(_step(periods), 13, _step(periods)))
    by_level: dict[str, list[dict]] = defaultdict(list)
    for indicator_id, level1 in indicators:
        by_level[level1].append({m: light for m, light in lights.get(indicator_id, {}).items() if m in valid})
    light_rows = []
    columns = [prefix + light for prefix in ("", "early_") for light in LIGHTS]
    for month in range(1, 13):
        total = {"project_year_id": project_year_id, "month": month, "level1": ALL_LEVELS, "indicators": 0}
        total |= {column: 0 for column in columns}
        for level1, members in by_level.items():
            row = {"project_year_id": project_year_id, "month": month, "level1": level1,
                   "indicators": len(members)} | {column: 0 for column in columns}
            for prefix, late in (("", True), ("early_", False)):
                for own in members:
                    light = light_as_of(own, month, late, periods)
                    if light is not None:
                        row[prefix + light] += 1
            for key in ("indicators", *columns):
                total[key] += row[key]
            light_rows.append(row)
        light_rows.append(total)
    return light_rows


def budget_summary_rows(project_year_id: int, periods: str, annual_total_yuan,
                        spending: Mapping[int, tuple]) -> list[dict]:
    valid = set(range(_step(periods), 13, _step(periods)))
    amounts = {m: amount for m, (amount, _light) in spending.items() if m in valid}
    budget_lights = {m: light for m, (_amount, light) in spending.items() if m in valid}
    annual_fen = _fen(annual_total_yuan)
    budget_rows = []
    for month in range(1, 13):
        known = [m for m in amounts if m <= month]
        late_period = judged_period(budget_lights, month, True, periods)
        early_period = judged_period(budget_lights, month, False, periods)
        budget_rows.append({
            "project_year_id": project_year_id, "month": month, "annual_fen": annual_fen,
            "spent_fen": _fen(amounts[max(known)]) if known else None,
            "light": light_at(budget_lights, late_period), "period": late_period or 0,
            "early_light": light_at(budget_lights, early_period), "early_period": early_period or 0})
    return budget_rows


def level1_of(indicator_level1_std: str | None, indicator_level1: str) -> str:
    return indicator_level1_std or indicator_level1


def refresh_summaries(session: Session, project_year_ids: Iterable[int], chunk: int = 400, *,
                      lights: bool = True, budget: bool = True) -> None:
    """Bring the summary rows of these project years in line with the stored actuals (`lights`)
    and spending (`budget`): rows are computed afresh, and only those that differ from the
    stored ones are written. The caller holds the transaction."""
    ids = sorted(set(project_year_ids))
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        if lights:
            _refresh_lights(session, part)
        if budget:
            _refresh_budget(session, part)


class _Statements:
    """The reads of a summary refresh (after every entry), built once with bound parameters
    (models/queries.py says why)."""

    def __init__(self):
        ids = bindparam("ids", expanding=True)
        active = and_(Indicator.project_year_id == ProjectYear.id, Indicator.retired_at.is_(None),
                      Indicator.annual_raw.is_not(None))
        self.lights = (select(ProjectYear.id, ProjectYear.periods, Indicator.id, Indicator.level1_std,
                              Indicator.level1, Actual.month, Actual.light)
                       .select_from(ProjectYear).outerjoin(Indicator, active)
                       .outerjoin(Actual, Actual.indicator_id == Indicator.id)
                       .where(ProjectYear.id.in_(ids)))
        self.budget = (select(ProjectYear.id, ProjectYear.periods, ProjectYear.annual_total_yuan,
                              Spending.month, Spending.amount_yuan, Spending.light)
                       .select_from(ProjectYear).outerjoin(Spending, Spending.project_year_id == ProjectYear.id)
                       .where(ProjectYear.id.in_(ids)))
        counted = case((and_(Indicator.retired_at.is_(None), Indicator.annual_raw.is_not(None)), True), else_=False)
        self.indicator_lights = (select(Indicator.id, Indicator.project_year_id, ProjectYear.periods,
                                        Indicator.level1_std, Indicator.level1, counted.label("counted"),
                                        Actual.month, Actual.light)
                                 .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                                 .outerjoin(Actual, Actual.indicator_id == Indicator.id)
                                 .where(Indicator.id.in_(ids)))
        columns = [prefix + light for prefix in ("", "early_") for light in LIGHTS]
        self.add_lights = (update(LightSummary)
                           .where(LightSummary.project_year_id == bindparam("row_py_id"),
                                  LightSummary.month == bindparam("row_month"),
                                  LightSummary.level1.in_([bindparam("row_level1"), ALL_LEVELS]))
                           .values({c: getattr(LightSummary, c) + bindparam(f"d_{c}") for c in columns}))
        # FOR NO KEY UPDATE: writers queue on it, while the foreign-key checks of their own
        # inserts (an alert, a history row: FOR KEY SHARE) pass, so two writers never deadlock.
        self.lock = (select(ProjectYear.id).where(ProjectYear.id.in_(ids)).order_by(ProjectYear.id)
                     .with_for_update(key_share=True))
        # A changed row written back by its key: Core's executemany, not the ORM's bulk update.
        self.rewrite = {table: update(table.__table__)
                        .where(*(column == bindparam(f"k_{column.name}") for column in table.__table__.primary_key))
                        .values({column.name: bindparam(f"v_{column.name}") for column in table.__table__.columns
                                 if not column.primary_key})
                        for table in (LightSummary, BudgetSummary)}
        self.stored = {table: select(*(column for column in table.__table__.columns))
                       .where(table.__table__.c.project_year_id.in_(ids))
                       for table in (LightSummary, BudgetSummary)}


@cache
def _statements() -> _Statements:
    return _Statements()


def _refresh_lights(session: Session, ids: list[int]) -> None:
    periods: dict[int, str] = {}
    indicators: dict[int, dict[int, str]] = defaultdict(dict)     # py → {indicator id: 一级指标}
    lights: dict[int, dict[int, str]] = defaultdict(dict)
    for py_id, py_periods, ind_id, l1_std, l1, month, light in session.execute(_statements().lights, {"ids": ids}):
        periods[py_id] = py_periods
        if ind_id is not None:
            indicators[py_id][ind_id] = level1_of(l1_std, l1)
            if month is not None:
                lights[ind_id][month] = light
    rows = [row for py_id, py_periods in periods.items()
            for row in light_summary_rows(py_id, py_periods, indicators[py_id].items(), lights)]
    _write_changed(session, LightSummary, list(periods), rows)


def _refresh_budget(session: Session, ids: list[int]) -> None:
    years: dict[int, tuple] = {}
    spending: dict[int, dict[int, tuple]] = defaultdict(dict)
    for py_id, py_periods, annual, month, amount, light in session.execute(_statements().budget, {"ids": ids}):
        years[py_id] = (py_periods, annual)
        if month is not None:
            spending[py_id][month] = (amount, light)
    rows = [row for py_id, (py_periods, annual) in years.items()
            for row in budget_summary_rows(py_id, py_periods, annual, spending[py_id])]
    _write_changed(session, BudgetSummary, list(years), rows)


def _write_changed(session: Session, table, project_year_ids: list[int], rows: list[dict]) -> None:
    """Make the stored rows of these project years equal `rows`, writing only the difference
    (a new actual changes a few counts of a few months, not a year of rows)."""
    write_summary_changes(session, table, stored_summaries(session, table, project_year_ids), rows)


SUMMARY_KEYS = {LightSummary: ("project_year_id", "month", "level1"), BudgetSummary: ("project_year_id", "month")}


def stored_summaries(session: Session, table, project_year_ids: list[int]) -> dict[tuple, dict]:
    """The stored summary rows of these project years, by their key."""
    result = session.connection().execute(_statements().stored[table], {"ids": project_year_ids})
    names = list(result.keys())
    key_of = itemgetter(*(names.index(name) for name in SUMMARY_KEYS[table]))
    return {key_of(row): dict(zip(names, row)) for row in result.all()}


def write_summary_changes(session: Session, table, stored: dict[tuple, dict], rows: list[dict]) -> None:
    """Turn the `stored` rows (as `stored_summaries` read them, or only those of the keys that
    differ) into `rows`: delete, insert and rewrite (one executemany by key) only what differs."""
    key = SUMMARY_KEYS[table]
    wanted = {tuple(row[name] for name in key): row for row in rows}
    for k in stored.keys() - wanted.keys():
        session.execute(delete(table).where(*[getattr(table, name) == value for name, value in zip(key, k)]))
    new = [row for k, row in wanted.items() if k not in stored]
    if new:
        session.execute(insert(table), new)
    changed = [{(f"k_{name}" if name in key else f"v_{name}"): value for name, value in row.items()}
               for k, row in wanted.items() if k in stored and stored[k] != row]
    if changed:
        session.execute(_statements().rewrite[table], changed)


def write_summaries(session: Session, project_year_ids: list[int], light_rows: list[dict],
                    budget_rows: list[dict]) -> None:
    """Replace the summary rows of these project years (bulk writers: no rows to compare with)."""
    session.execute(delete(LightSummary).where(LightSummary.project_year_id.in_(project_year_ids)))
    session.execute(delete(BudgetSummary).where(BudgetSummary.project_year_id.in_(project_year_ids)))
    if light_rows:
        session.execute(insert(LightSummary), light_rows)
    if budget_rows:
        session.execute(insert(BudgetSummary), budget_rows)


def rebuild_all_summaries(session: Session) -> int:
    """Every project year's summary from scratch (after a migration, or to repair)."""
    ids = list(session.execute(select(ProjectYear.id)).scalars())
    refresh_summaries(session, ids)
    return len(ids)


# --------------------------------------------------------------------------- keeping them current

_PENDING = "summary_pending"
_ABSENT = "absent"               # an actual's light before it was entered, or after it was deleted


def _pending(session) -> dict:
    """session.info's note of what the transaction changed: project years whose lights or
    budget must be rebuilt, indicators whose actuals changed in a way only a rebuild can follow,
    and the light changes of actuals as {(indicator id, month): [light before, light now]}."""
    return session.info.setdefault(_PENDING, {"lights": set(), "budget": set(), "indicator": set(), "actuals": {}})


@event.listens_for(OrmSession, "after_flush")
def _note_changes(session, _flush_context) -> None:
    """Remember which project years a flush touched, and which of their summaries: an indicator
    changes the lights, spending the budget, the project year itself both. An actual changes the
    lights only if its light changed (a corrected value with the same light changes nothing);
    that change is kept as such, for `_apply_light_changes`. (The attribute history still holds
    the values from before the flush here.)"""
    for obj, state in chain(((o, "new") for o in session.new), ((o, "dirty") for o in session.dirty),
                            ((o, "deleted") for o in session.deleted)):
        if isinstance(obj, Actual):
            _note_actual(session, obj, state)
        elif isinstance(obj, ProjectYear):
            _pending(session)["lights"].add(obj.id)
            _pending(session)["budget"].add(obj.id)
        elif isinstance(obj, Spending):
            _pending(session)["budget"].add(obj.project_year_id)
        elif isinstance(obj, Indicator):
            _pending(session)["lights"].add(obj.project_year_id)


def _note_actual(session, actual: Actual, state: str) -> None:
    attrs, pending = inspect(actual).attrs, _pending(session)
    history = attrs.light.history
    moved = state == "dirty" and (attrs.indicator_id.history.has_changes() or attrs.month.history.has_changes())
    unknown = (state == "dirty" and history.has_changes() and not history.deleted) or \
        (state == "deleted" and "light" not in actual.__dict__)
    if moved or unknown:           # only a rebuild can follow these
        pending["indicator"].update({*attrs.indicator_id.history.deleted, actual.indicator_id})
        return
    if state == "new":
        before, now = _ABSENT, actual.light
    elif state == "deleted":
        before, now = (history.deleted or [actual.light])[0], _ABSENT
    elif history.has_changes():
        before, now = history.deleted[0], actual.light
    else:
        return
    change = pending["actuals"].setdefault((actual.indicator_id, actual.month), [before, now])
    change[1] = now          # several flushes in one transaction: the first light before, the last now


def _project_years_of(session, indicator_ids: Iterable[int]) -> dict[int, int]:
    """The project year of each of these indicators: from the session where it holds them loaded."""
    found, missing = {}, []
    for indicator_id in indicator_ids:
        ind = session.identity_map.get(identity_key(Indicator, indicator_id))
        if ind is not None and "project_year_id" in ind.__dict__:
            found[indicator_id] = ind.__dict__["project_year_id"]
        else:
            missing.append(indicator_id)
    if missing:
        found.update(session.execute(select(Indicator.id, Indicator.project_year_id)
                                     .where(Indicator.id.in_(missing))).all())
    return found


def _lock(session, project_year_ids: set[int]) -> None:
    """Take the project years' row locks (in id order) before reading what their summaries are
    made of. Writers of one project year then bring its summary up to date one after another,
    each reading what the ones before it committed; without the lock, PostgreSQL's READ
    COMMITTED would let two entries in one project year (two indicators, or an indicator and the
    spending) each work from a view without the other's entry, and the last to commit would
    undo the first. (SQLite's write transactions are serial already.)"""
    if project_year_ids:
        session.execute(_statements().lock, {"ids": sorted(project_year_ids)})


@event.listens_for(OrmSession, "before_commit")
def _refresh_before_commit(session) -> None:
    """Bring the touched project years' summaries up to date inside the committing transaction."""
    if not (session.info.get(_PENDING) or session.new or session.dirty or session.deleted):
        return
    session.flush()
    while pending := session.info.pop(_PENDING, None):
        lights = {i for i in pending["lights"] if i is not None}
        if pending["indicator"]:
            lights |= set(_project_years_of(session, pending["indicator"]).values())
        budget = {i for i in pending["budget"] if i is not None}
        changes = pending["actuals"]
        changed_in = _project_years_of(session, {indicator_id for indicator_id, _month in changes})
        _lock(session, lights | budget | set(changed_in.values()))
        # A project year rebuilt anyway needs no light changes; the others take only those.
        changes = {key: change for key, change in changes.items() if changed_in.get(key[0]) not in lights}
        lights |= _apply_light_changes(session, changes)
        refresh_summaries(session, lights & budget)
        refresh_summaries(session, lights - budget, budget=False)
        refresh_summaries(session, budget - lights, lights=False)


@event.listens_for(OrmSession, "after_rollback")
def _forget_changes(session) -> None:
    session.info.pop(_PENDING, None)


def _apply_light_changes(session, changes: dict[tuple[int, int], list]) -> set[int]:
    """Add to the light_summary rows what these actuals' new lights change, instead of
    rebuilding the project year: for each changed indicator, its lights at every month's end
    with and without the transaction's changes (its stored actuals, read under the project
    year's lock, with the changes undone), and the difference added to its 一级指标's row and
    the row over all of them. Returns the project years to rebuild instead, whose rows were not
    all there to add to."""
    if not changes:
        return set()
    by_indicator: dict[int, dict[int, list]] = defaultdict(dict)
    for (indicator_id, month), change in changes.items():
        by_indicator[indicator_id][month] = change
    meta, after = {}, defaultdict(dict)
    for ind_id, py_id, periods, l1_std, l1, active, month, light in session.execute(
            _statements().indicator_lights, {"ids": list(by_indicator)}):
        meta[ind_id] = (py_id, periods, level1_of(l1_std, l1), active)
        if month is not None:
            after[ind_id][month] = light
    columns = [prefix + light for prefix in ("", "early_") for light in LIGHTS]
    deltas: dict[tuple[int, str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(columns, 0))
    for ind_id, months in by_indicator.items():
        if ind_id not in meta or not meta[ind_id][3]:
            continue                       # gone, retired or without a 年度 target: not counted
        py_id, periods, level1, _active = meta[ind_id]
        valid = set(range(_step(periods), 13, _step(periods)))
        now = {m: light for m, light in after[ind_id].items() if m in valid}
        before = dict(now)
        for month, (old, _new) in months.items():
            if month not in valid:
                continue
            if old == _ABSENT:
                before.pop(month, None)
            else:
                before[month] = old
        for month in range(1, 13):
            for prefix, late in (("", True), ("early_", False)):
                old, new = light_as_of(before, month, late, periods), light_as_of(now, month, late, periods)
                if old != new:
                    row = deltas[(py_id, level1, month)]
                    if old is not None:
                        row[prefix + old] -= 1
                    if new is not None:
                        row[prefix + new] += 1
    rebuild = set()
    for (py_id, level1, month), delta in deltas.items():
        if not any(delta.values()):
            continue
        params = {"row_py_id": py_id, "row_month": month, "row_level1": level1,
                  **{f"d_{column}": n for column, n in delta.items()}}
        result = session.execute(_statements().add_lights, params)
        if result.rowcount != 2:          # its 一级指标's row and the row over all of them
            rebuild.add(py_id)
    return rebuild


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
        return None if self.month is None else judged_period(entered, self.month, self.late, periods)


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
        return _int_or_none(value)

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

    @property
    def annual_yuan(self) -> Decimal | None:
        return Decimal(self.annual_fen) / FEN if self.projects else None

    @property
    def spent_yuan(self) -> Decimal | None:
        return Decimal(self.spent_fen) / FEN if self.projects else None

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
        func.sum(case((budgeted, func.coalesce(b.spent_fen, 0)))), func.sum(case((budgeted, b.annual_fen * period))))
    statement = (_scoped(statement, user, filters, moment)
                 .join(Department, Department.id == py.department_id).join(Unit, Unit.id == Project.unit_id)
                 .group_by(py.department_id, Department.name, Department.code, Project.unit_id, Unit.name))
    departments: dict[int, Group] = {}
    for d_id, d_name, d_code, u_id, u_name, *numbers in session.execute(statement):
        # sums come back as Decimal on PostgreSQL (sum of bigint is numeric): whole numbers here
        projects, g, y, r, grey, n, budgets, annual, spent, expected = (int(v or 0) for v in numbers)
        unit = Group(u_id, u_name, projects=projects)
        unit.counts = Counts(g, y, r, grey, n) if moment.month else Counts(indicators=n)
        unit.budget = Budget(annual or 0, (spent or 0) if moment.month else 0, expected or 0, budgets)
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
        return _int_or_none(value)

    @field_validator("kind", mode="before")
    @classmethod
    def _known_kind(cls, value):
        return value if value in ALERT_KINDS else None

    @field_validator("page", mode="before")
    @classmethod
    def _page_from_one(cls, value):
        return max(1, _int_or_none(value) or 1)

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
    indicators = list(session.execute(
        select(Indicator).where(Indicator.project_year_id == chosen.id, Indicator.retired_at.is_(None),
                                Indicator.annual_raw.is_not(None)).order_by(Indicator.position)).scalars())
    actuals: dict[int, dict[int, Actual]] = defaultdict(dict)
    valid = set(range(_step(chosen.periods), 13, _step(chosen.periods)))
    if indicators:
        for actual in session.execute(select(Actual).where(Actual.indicator_id.in_([i.id for i in indicators]))
                                      .order_by(Actual.month)).scalars():
            if actual.month in valid:
                actuals[actual.indicator_id][actual.month] = actual
    reports, counts = [], Counts()
    for ind in indicators:
        own = actuals[ind.id]
        period = moment.judged(own, chosen.periods)
        light = light_at({m: a.light for m, a in own.items()}, period)
        actual = own.get(period) if period else None
        target = annual_target(ind)
        counts.indicators += 1
        if light:
            setattr(counts, light, counts.of(light) + 1)
        shown = [a for m, a in own.items() if moment.month is not None and m <= moment.month]
        reports.append(IndicatorReport(
            ind, level1_of(ind.level1_std, ind.level1), effective_measure(ind), target, light, period,
            _in_target_unit(actual.value, actual.unit, target.unit) if actual else None,
            actual.assessment if actual else None, actual.completion if actual else None,
            actual.pace if actual else None,
            [TrendPoint(a.month, _in_target_unit(a.value, a.unit, target.unit), a.assessment, a.light)
             for a in shown]))
    spending = {row.month: row for row in session.execute(
        select(Spending).where(Spending.project_year_id == chosen.id)).scalars() if row.month in valid}
    period = moment.judged(spending, chosen.periods)
    budget_light = light_at({m: s.light for m, s in spending.items()}, period)
    known = [m for m in spending if moment.month is not None and m <= moment.month]
    budget = Budget()
    budget.add_project(_fen(chosen.annual_total_yuan), _fen(spending[max(known)].amount_yuan) if known else None,
                       period or 0)
    series = [(m, spending[m].amount_yuan, spending[m].light) for m in sorted(known)]
    return ProjectReport(project, chosen, session.get(Unit, project.unit_id),
                         session.get(Department, chosen.department_id), years, moment, counts, budget,
                         budget_light, series, reports)


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
