"""A project year's inputs, loaded from the database for the domain core: the targets in force,
each indicator's measure, the actuals, the spending, the budget and its adjustments, the calendar
and the settings' bands. Every reader and every cache rebuild loads them through here."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Callable, Iterable, Mapping

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Row

from domain import rules
from domain.calendar import DEFAULT_DEADLINE_DAY, YearCalendar
from domain.project_year import Adjustment, Entry, IndicatorInput, YearInputs, budget_in_force
from domain.indicators import annual_target, effective_measure
from models.actual import Actual, Spending
from models.adjustment import BudgetAdjustment
from models.db import prepared, rows
from models.indicator import Indicator, indicator_name
from models.project import ProjectYear


def thresholds(config: Mapping) -> rules.Thresholds:
    """The bands of DOMAIN.md §4–§5 and §8 from settings (PACE_BANDS, LEVEL_YELLOW, GRADE_BANDS,
    OVER_BANDS); what is not set keeps its default."""
    d = rules.DEFAULT_THRESHOLDS
    pace = config.get("PACE_BANDS") or {}
    grades = config.get("GRADE_BANDS") or {}
    over = config.get("OVER_BANDS") or {}
    return rules.Thresholds(
        pace_green=pace.get("green", d.pace_green), pace_yellow=pace.get("yellow", d.pace_yellow),
        level_yellow=config.get("LEVEL_YELLOW", d.level_yellow),
        grade_excellent=grades.get("优", d.grade_excellent), grade_good=grades.get("良", d.grade_good),
        grade_fair=grades.get("中", d.grade_fair),
        over=over.get("mark", d.over), over_reason=over.get("reason", d.over_reason))


def current_config() -> Mapping:
    """The running app's settings; defaults outside an app (a bare script)."""
    from flask import current_app, has_app_context
    return current_app.config if has_app_context() else {}


def deadline_day(config: Mapping) -> int:
    return int(config.get("ENTRY_DEADLINE_DAY") or DEFAULT_DEADLINE_DAY)


def level1_of(ind) -> str:
    return ind.level1_std or ind.level1


def indicator_input(ind) -> IndicatorInput:
    """`ind`: an Indicator, or a row with its columns (what `load` reads)."""
    return IndicatorInput(ind.id, level1_of(ind), effective_measure(ind), annual_target(ind), indicator_name(ind))


# --------------------------------------------------------------------------- loading the inputs

@dataclass
class Loaded:
    """One project year as stored: its inputs, and the rows whose cached figures derive from them.
    From `load`, the ORM objects whole (what a page reads); from `rejudge`'s own reading, plain
    rows of the columns it compares (`year`: id, year, periods, annual_total_yuan)."""
    year: ProjectYear | Row
    inputs: YearInputs
    actuals: list
    spending: list


def load(session, project_year_ids: Iterable[int], config: Mapping) -> dict[int, Loaded]:
    """These project years' inputs, with their stored rows as ORM objects."""
    ids = sorted(set(project_year_ids))
    if not ids:
        return {}
    years = session.scalars(select(ProjectYear).where(ProjectYear.id.in_(ids))).all()
    indicators = session.scalars(select(Indicator).where(Indicator.project_year_id.in_(ids))
                                 .order_by(Indicator.project_year_id, Indicator.position)).all()
    actuals = session.execute(select(Indicator.project_year_id, Actual)
                              .join(Indicator, Indicator.id == Actual.indicator_id)
                              .where(Indicator.project_year_id.in_(ids))).all()
    spending = session.scalars(select(Spending).where(Spending.project_year_id.in_(ids))).all()
    return _assemble(years, indicators, actuals, spending, adjustments_of(session, ids), config,
                     attrgetter("indicator_id", "month", "value", "unit", "assessment"))


# Set in `session.info` by a migration that refreshes the summaries with today's code before
# migration 0016 has made the budget_adjustment table (0012): there are no adjustments yet.
BEFORE_ADJUSTMENTS = "before_budget_adjustments"


def adjustments_of(session, project_year_ids: Iterable[int]) -> dict[int, tuple[Adjustment, ...]]:
    """The budget adjustments of these project years (DOMAIN §7), as the core takes them."""
    ids = sorted(set(project_year_ids))
    found: dict[int, list[Adjustment]] = defaultdict(list)
    if ids and not session.info.get(BEFORE_ADJUSTMENTS):
        for py_id, on, amount in rows(session, _adjustments_select(), {"ids": ids}):
            found[py_id].append(Adjustment(on, amount))
    return {py_id: tuple(items) for py_id, items in found.items()}


def budget_on(session, py, on: date) -> Decimal | None:
    """全年预算数 of a project year on a date: 年度资金总额 plus the adjustments dated by then."""
    return budget_in_force(py.annual_total_yuan, adjustments_of(session, [py.id]).get(py.id, ()), on)


def load_spending(session, py: ProjectYear) -> tuple[YearInputs, list[Spending]]:
    """One project year's spending and budget alone (no indicators), with its spending rows: what
    the 超预算 / 冲减 check of a spending entry reads (domain.project_year.year_spending_marks)."""
    reports = list(session.scalars(select(Spending).where(Spending.project_year_id == py.id)))
    adjustments = adjustments_of(session, [py.id]).get(py.id, ())     # 超预算 is of the budget in force (§7)
    return _inputs(py, [], (), reports, adjustments, rules.DEFAULT_THRESHOLDS, DEFAULT_DEADLINE_DAY), reports


# Rejudging reads plain rows of the columns it needs, not ORM objects: `rejudge_all` reads every
# actual of a province (1.7 million for 10,000 projects), and an ORM object per row costs more
# than judging it.
_YEAR = (ProjectYear.id, ProjectYear.year, ProjectYear.periods, ProjectYear.annual_total_yuan)
_INDICATOR = (Indicator.id, Indicator.project_year_id, Indicator.level1, Indicator.level1_std, Indicator.annual_level3,
              Indicator.period_level3, Indicator.annual_raw, Indicator.annual_kind, Indicator.annual_op,
              Indicator.annual_value, Indicator.annual_unit, Indicator.measure_override, Indicator.retired_at)
_ACTUAL = (Indicator.project_year_id, Actual.indicator_id, Actual.month, Actual.value, Actual.unit, Actual.assessment,
           Actual.id, Actual.completion, Actual.pace, Actual.light)     # [0]: the project year, [1:6]: the entry
_SPENDING = (Spending.id, Spending.project_year_id, Spending.month, Spending.amount_yuan, Spending.execution_rate,
             Spending.pace, Spending.light)


@prepared      # read by every project answer and spending entry
def _adjustments_select():
    return (select(BudgetAdjustment.project_year_id, BudgetAdjustment.effective_on, BudgetAdjustment.amount_yuan)
            .where(BudgetAdjustment.project_year_id.in_(bindparam("ids", expanding=True)))
            .order_by(BudgetAdjustment.effective_on, BudgetAdjustment.id))


@prepared
def _rows_of(kind: str):
    """The plain rows `_load_rows` reads of the project years `ids`: "years", "indicators",
    "actuals" or "spending"."""
    ids = bindparam("ids", expanding=True)
    if kind == "years":
        return select(*_YEAR).where(ProjectYear.id.in_(ids))
    if kind == "indicators":
        return (select(*_INDICATOR).where(Indicator.project_year_id.in_(ids))
                .order_by(Indicator.project_year_id, Indicator.position))
    if kind == "actuals":
        return select(*_ACTUAL).join(Indicator, Indicator.id == Actual.indicator_id).where(Indicator.project_year_id.in_(ids))
    return select(*_SPENDING).where(Spending.project_year_id.in_(ids))


def _load_rows(session, ids: list[int], config: Mapping, with_indicators: bool = True) -> dict[int, Loaded]:
    """Without `with_indicators`: the budget's inputs alone (no indicator, no actual). Plain rows
    (`models.db.rows`, which flushes what the session holds first: an input too): the ORM's row
    handling doubles the cost."""
    params = {"ids": ids}
    years = rows(session, _rows_of("years"), params)
    indicators, actuals = [], []
    if with_indicators:
        indicators = rows(session, _rows_of("indicators"), params)
        actuals = rows(session, _rows_of("actuals"), params)
    spending = rows(session, _rows_of("spending"), params)
    return _assemble(years, indicators, ((row[0], row) for row in actuals), spending, adjustments_of(session, ids),
                     config, itemgetter(slice(1, 6)))


@prepared      # read by every project page, API answer and entry
def _entries_of():
    return (select(Actual.indicator_id, Actual.month, Actual.value, Actual.unit, Actual.assessment)
            .where(Actual.indicator_id.in_(bindparam("ids", expanding=True)), Actual.month <= bindparam("through")))


@prepared
def _spending_of():
    return select(Spending.month, Spending.amount_yuan).where(Spending.project_year_id == bindparam("py_id"))


def load_part(session, py: ProjectYear, indicators: Iterable, budget: bool, config: Mapping,
              spending: list | None = None, through: int | None = None) -> YearInputs:
    """One project year's inputs restricted to some of its indicators, with or without the
    spending: what the core needs for the figures of just those (an indicator's light depends
    on its own entries and the calendar only; the budget's on the spending). One entry's alerts
    are judged from this (services/alerts.py), not from the whole year; a page reads its whole
    year through here too, with its indicators and spending rows as ORM objects it has already
    read (`spending`: rows with .month and .amount_yuan). With `through`, only the periods up to
    that month (domain.project_year.YearInputs.through): what a reader as of a moment closing
    it needs."""
    counted = [indicator_input(ind) for ind in indicators if ind.retired_at is None and ind.annual_raw is not None]
    last = 12 if through is None else through
    entries = rows(session, _entries_of(), {"ids": [ind.id for ind in counted], "through": last}) if counted else []
    if spending is None:
        spending = rows(session, _spending_of(), {"py_id": py.id}) if budget else []
    adjustments = adjustments_of(session, [py.id]).get(py.id, ()) if budget else ()
    return _inputs(py, counted, entries, spending, adjustments, thresholds(config), deadline_day(config)).through(last)


def _assemble(years, indicators, actuals: Iterable[tuple[int, object]], spending,
              adjustments: Mapping[int, tuple[Adjustment, ...]], config: Mapping,
              entry_of: Callable[[object], tuple]) -> dict[int, Loaded]:
    """Loaded project years from their rows (ORM objects or plain rows alike): `actuals` as
    (project year id, row), `entry_of` a row's (indicator id, month, value, unit, assessment);
    `adjustments` by project year."""
    bands, day = thresholds(config), deadline_day(config)
    counted: dict[int, list[IndicatorInput]] = defaultdict(list)
    for ind in indicators:
        if ind.retired_at is None and ind.annual_raw is not None:
            counted[ind.project_year_id].append(indicator_input(ind))
    rows: dict[int, list] = defaultdict(list)
    for py_id, actual in actuals:
        rows[py_id].append(actual)
    reports: dict[int, list] = defaultdict(list)
    for report in spending:
        reports[report.project_year_id].append(report)
    return {py.id: Loaded(py, _inputs(py, counted[py.id], map(entry_of, rows[py.id]), reports[py.id],
                                      adjustments.get(py.id, ()), bands, day),
                          rows[py.id], reports[py.id])
            for py in years}


def _inputs(py, indicators: list[IndicatorInput], entries: Iterable[tuple], spending: list,
            adjustments: tuple[Adjustment, ...], bands: rules.Thresholds, day: int) -> YearInputs:
    active = {ind.id for ind in indicators}
    by_indicator: dict[int, dict[int, Entry]] = defaultdict(dict)
    for indicator_id, month, value, unit, assessment in entries:
        if indicator_id in active:        # a retired indicator's actuals are history
            by_indicator[indicator_id][month] = Entry(month, value, unit, assessment)
    return YearInputs(YearCalendar(py.year, py.periods, day), tuple(indicators), dict(by_indicator),
                      {s.month: s.amount_yuan for s in spending}, py.annual_total_yuan, adjustments, bands)
