"""What is stored for speed is a cache of the domain core: rebuild it, or check it.

The caches are the judgement stored with each actual (completion, pace, light) and each
spending report (执行率, pace, light), the report summaries (light_summary, budget_summary)
and the open alerts. `rejudge` recomputes them for some project years from their inputs
(domain.project_year) and rewrites what differs, inside the caller's transaction: a write
use case calls it whenever an input changes that the entry itself did not judge — a target
changed by a re-import, a measure or reporting period changed; `rejudge_all` does it for every
project year when the light bands in settings change (`flask check --fix`). `check` compares
every project year and changes nothing (`flask check`). They read and write plain rows with
Core statements, not ORM objects, so that a province's 1.7 million actuals take under a minute
(bench/rejudge.py); `load` gives readers the ORM objects whole, from the same assembly.
"""
from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Callable, Iterable, Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm.util import identity_key

from domain import rules
from domain.calendar import DEFAULT_DEADLINE_DAY, YearCalendar
from domain.project_year import (Entry, IndicatorInput, YearFacts, YearInputs, budget_summary_rows, derive,
                                 light_summary_rows)
from models.actual import Actual, Spending, annual_target, effective_measure
from models.indicator import Indicator, indicator_name
from models.project import ProjectYear

_RATIO_TOLERANCE = Decimal("1e-9")     # the ratio columns keep 10 decimals


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
    return _assemble(years, indicators, actuals, spending, config,
                     attrgetter("indicator_id", "month", "value", "unit", "assessment"))


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


def _load_rows(session, ids: list[int], config: Mapping) -> dict[int, Loaded]:
    session.flush()                    # what the session holds is an input too
    read = session.connection().execute          # Core rows: the ORM's row handling doubles the cost
    years = read(select(*_YEAR).where(ProjectYear.id.in_(ids))).all()
    indicators = read(select(*_INDICATOR).where(Indicator.project_year_id.in_(ids))
                      .order_by(Indicator.project_year_id, Indicator.position)).all()
    actuals = read(select(*_ACTUAL).join(Indicator, Indicator.id == Actual.indicator_id)
                   .where(Indicator.project_year_id.in_(ids))).all()
    spending = read(select(*_SPENDING).where(Spending.project_year_id.in_(ids))).all()
    return _assemble(years, indicators, ((row[0], row) for row in actuals), spending, config, itemgetter(slice(1, 6)))


def _assemble(years, indicators, actuals: Iterable[tuple[int, object]], spending, config: Mapping,
              entry_of: Callable[[object], tuple]) -> dict[int, Loaded]:
    """Loaded project years from their rows (ORM objects or plain rows alike): `actuals` as
    (project year id, row), `entry_of` a row's (indicator id, month, value, unit, assessment)."""
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
    return {py.id: Loaded(py, _inputs(py, counted[py.id], map(entry_of, rows[py.id]), reports[py.id], bands, day),
                          rows[py.id], reports[py.id])
            for py in years}


def _inputs(py, indicators: list[IndicatorInput], entries: Iterable[tuple], spending: list,
            bands: rules.Thresholds, day: int) -> YearInputs:
    active = {ind.id for ind in indicators}
    by_indicator: dict[int, dict[int, Entry]] = defaultdict(dict)
    for indicator_id, month, value, unit, assessment in entries:
        if indicator_id in active:        # a retired indicator's actuals are history
            by_indicator[indicator_id][month] = Entry(month, value, unit, assessment)
    return YearInputs(YearCalendar(py.year, py.periods, day), tuple(indicators), dict(by_indicator),
                      {s.month: s.amount_yuan for s in spending}, py.annual_total_yuan, (), bands)


# --------------------------------------------------------------------------- comparing and rewriting

@dataclass(frozen=True)
class Difference:
    what: str        # e.g. "actual 12 (2023-07) light"
    stored: object
    derived: object

    def __str__(self) -> str:
        return f"{self.what}: 存储为 {_show(self.stored)}，应为 {_show(self.derived)}"


def _show(value) -> str:
    return "空" if value is None else str(value)


def _differs(stored, derived) -> bool:
    """A light differs unless equal; a ratio by more than the columns keep."""
    if stored is None or derived is None or isinstance(derived, str):
        return stored != derived
    return abs(stored - derived) > _RATIO_TOLERANCE


class _Cache:
    """One table's cached figures (two ratios and the light), where its rows read by `load` hold
    them, and how a changed row is written."""

    def __init__(self, table: type, columns: tuple[str, str, str], read: tuple):
        self.table, self.columns = table, columns
        names = [column.key for column in read]
        self.stored = itemgetter(*(names.index(name) for name in columns))     # a row's stored figures

    def rewrite(self):
        """UPDATE of the cached figures of one row by its id: an executemany of the changed rows."""
        table = self.table.__table__
        return (update(table).where(table.c.id == bindparam("k_id"))
                .values({name: bindparam(f"v_{name}") for name in self.columns}))


_ACTUALS = _Cache(Actual, ("completion", "pace", "light"), _ACTUAL)
_SPENDINGS = _Cache(Spending, ("execution_rate", "pace", "light"), _SPENDING)
_UNJUDGEABLE = (None, None, rules.GREY)      # what the row of an entry the target cannot judge caches


def _compare(cache: _Cache, row: Row, derived: tuple, diffs: list[Difference], label: Callable[[], str]) -> dict | None:
    """Add the differences of one row's cached figures to `diffs` (`label` names the row; made
    only for a row that differs); returns the row's rewrite when any."""
    stored = cache.stored(row)
    if stored == derived or not any(map(_differs, stored, derived)):      # equal: a qualitative entry's
        return None
    text = label()
    diffs += [Difference(f"{text} {name}", old, new)
              for name, old, new in zip(cache.columns, stored, derived) if _differs(old, new)]
    return {"k_id": row.id} | {f"v_{name}": value for name, value in zip(cache.columns, derived)}


def _rows_differences(loaded: Loaded, facts: YearFacts) -> tuple[list[Difference], dict[_Cache, list[dict]]]:
    """The differences of the project year's actual and spending rows, and the rewrites by table.
    A retired indicator's actuals are history, judged no more; an entry the target in force
    cannot judge keeps no ratio and reads grey."""
    diffs: list[Difference] = []
    actuals, spending = [], []
    py = loaded.year
    for actual in loaded.actuals:
        judged = facts.judgements.get(actual.indicator_id)          # None: retired
        if judged is None:
            continue
        judgement = judged.get(actual.month)
        figures = _UNJUDGEABLE if judgement is None else judgement[:3]      # completion, pace, light
        if rewrite := _compare(_ACTUALS, actual, figures, diffs,
                               lambda a=actual: f"项目年度{py.id} 指标{a.indicator_id} {py.year}-{a.month:02d}"):
            actuals.append(rewrite)
    for row in loaded.spending:
        judged = facts.spending[row.month]
        if rewrite := _compare(_SPENDINGS, row, (judged.rate, judged.pace, judged.light), diffs,
                               lambda r=row: f"项目年度{py.id} 支出 {py.year}-{r.month:02d}"):
            spending.append(rewrite)
    return diffs, {_ACTUALS: actuals, _SPENDINGS: spending}


def _rewrite_rows(session, cache: _Cache, rows: list[dict]) -> None:
    """Write the changed rows (Core, keyed by id) and expire those figures of any such object the
    session holds, so that it reads what was written, not what it held."""
    if not rows:
        return
    session.connection().execute(cache.rewrite(), rows)
    for row in rows:
        held = session.identity_map.get(identity_key(cache.table, row["k_id"]))
        if held is not None:
            session.expire(held, list(cache.columns))


def _summary_differences(session, facts: dict[int, YearFacts], fix: bool) -> list[Difference]:
    from models.reports import BudgetSummary, LightSummary, stored_summaries, write_summary_changes
    ids = list(facts)
    wanted = {LightSummary: [row for py_id in ids for row in light_summary_rows(py_id, facts[py_id])],
              BudgetSummary: [row for py_id in ids for row in budget_summary_rows(py_id, facts[py_id])]}
    diffs = []
    for table, rows in wanted.items():
        stored, want = stored_summaries(session, table, ids), _by_key(table, rows)
        differing = sorted((key for key in stored.keys() | want.keys() if stored.get(key) != want.get(key)), key=str)
        diffs += [Difference(f"{table.__tablename__} {key}", _changed(stored.get(key), want.get(key)),
                             _changed(want.get(key), stored.get(key))) for key in differing]
        if fix and differing:
            write_summary_changes(session, table, {key: stored[key] for key in differing if key in stored},
                                  [want[key] for key in differing if key in want])
    return diffs


def _by_key(table, rows: list[dict]) -> dict[tuple, dict]:
    from models.reports import SUMMARY_KEYS
    return {tuple(row[name] for name in SUMMARY_KEYS[table]): row for row in rows}


def _changed(row: dict | None, other: dict | None) -> dict | None:
    if row is None or other is None:
        return row
    return {k: v for k, v in row.items() if other.get(k) != v}


def rejudge(session, project_year_ids: Iterable[int], config: Mapping, *, fix: bool = True,
            chunk: int = 500) -> list[Difference]:
    """Recompute the cached figures of these project years from their inputs; with `fix`,
    rewrite what differs (in the caller's transaction). Returns the differences found."""
    ids = sorted(set(project_year_ids))
    diffs: list[Difference] = []
    with _collector_paused():
        for start in range(0, len(ids), chunk):
            diffs += _rejudge_chunk(session, ids[start:start + chunk], config, fix)
    return diffs


@contextmanager
def _collector_paused():
    """Python's cycle collector off while a batch is judged: the rows, entries and judgements
    are freed by reference counting, and with a chunk's million objects alive each collector
    pass walks them all (a fifth of the time of `rejudge_all`, measured)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _rejudge_chunk(session, ids: list[int], config: Mapping, fix: bool) -> list[Difference]:
    loaded = _load_rows(session, ids, config)
    facts = {py_id: derive(item.inputs) for py_id, item in loaded.items()}
    diffs: list[Difference] = []
    rewrites: dict[_Cache, list[dict]] = defaultdict(list)
    for py_id, item in loaded.items():
        found, rows = _rows_differences(item, facts[py_id])
        diffs += found
        for cache, changed in rows.items():
            rewrites[cache] += changed
    if fix:
        for cache, rows in rewrites.items():
            _rewrite_rows(session, cache, rows)
    return diffs + _summary_differences(session, facts, fix)


def rejudge_all(session, config: Mapping) -> list[Difference]:
    """The settings-change path: after the light bands change (PACE_BANDS, LEVEL_YELLOW), every
    project year is judged again under them and every cached figure that differs is rewritten,
    in the caller's transaction (`flask check --fix`)."""
    return rejudge(session, all_project_year_ids(session), config, fix=True)


def all_project_year_ids(session) -> list[int]:
    return list(session.scalars(select(ProjectYear.id).order_by(ProjectYear.id)))


def check(session, config: Mapping) -> list[Difference]:
    """Every project year's cached figures against the core (`flask check`); changes nothing."""
    return rejudge(session, all_project_year_ids(session), config, fix=False)

