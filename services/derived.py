"""What is stored for speed is a cache of the domain core: rebuild it, or check it.

The caches are the judgement stored with each actual (completion, pace, light) and each
spending report (执行率, pace, light), the report summaries (light_summary, budget_summary)
and the open alerts. `rejudge` recomputes them for some project years from their inputs
(domain.project_year) and rewrites what differs, inside the caller's transaction: a write
use case calls it whenever an input changes that the entry itself did not judge — a target
changed by a re-import, a measure or reporting period changed, a band changed in settings.
`check` does the same for every project year and reports the differences (`flask check`).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from sqlalchemy import select

from domain import rules
from domain.calendar import DEFAULT_DEADLINE_DAY, YearCalendar
from domain.project_year import (Entry, IndicatorInput, YearFacts, YearInputs, budget_summary_rows, derive,
                                 light_summary_rows)
from models.actual import Actual, Spending, annual_target, effective_measure
from models.indicator import Indicator
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


def level1_of(ind: Indicator) -> str:
    return ind.level1_std or ind.level1


def indicator_input(ind: Indicator) -> IndicatorInput:
    return IndicatorInput(ind.id, level1_of(ind), effective_measure(ind), annual_target(ind), ind.name)


# --------------------------------------------------------------------------- loading the inputs

@dataclass
class Loaded:
    """One project year as stored: its inputs, and the rows whose cached figures derive from them."""
    year: ProjectYear
    inputs: YearInputs
    actuals: list[Actual]
    spending: list[Spending]


def load(session, project_year_ids: Iterable[int], config: Mapping, *, indicators: bool = True) -> dict[int, Loaded]:
    """The inputs of these project years; `indicators` False: the budget's alone (spending)."""
    with_indicators = indicators
    ids = sorted(set(project_year_ids))
    if not ids:
        return {}
    bands, day = thresholds(config), deadline_day(config)
    years = {py.id: py for py in session.scalars(select(ProjectYear).where(ProjectYear.id.in_(ids)))}
    indicators: dict[int, list[Indicator]] = defaultdict(list)
    all_indicators: dict[int, Indicator] = {}
    chosen = select(Indicator).where(Indicator.project_year_id.in_(ids)).order_by(Indicator.position)
    for ind in session.scalars(chosen) if with_indicators else ():
        all_indicators[ind.id] = ind
        if ind.retired_at is None and ind.annual_raw is not None:
            indicators[ind.project_year_id].append(ind)
    actuals: dict[int, list[Actual]] = defaultdict(list)
    if all_indicators:
        for actual in session.scalars(select(Actual).where(Actual.indicator_id.in_(list(all_indicators)))):
            actuals[all_indicators[actual.indicator_id].project_year_id].append(actual)
    spending: dict[int, list[Spending]] = defaultdict(list)
    for row in session.scalars(select(Spending).where(Spending.project_year_id.in_(ids))):
        spending[row.project_year_id].append(row)
    loaded = {}
    for py_id, py in years.items():
        active = {ind.id for ind in indicators[py_id]}
        entries: dict[int, dict[int, Entry]] = defaultdict(dict)
        for a in actuals[py_id]:
            if a.indicator_id in active:
                entries[a.indicator_id][a.month] = Entry(a.month, a.value, a.unit, a.assessment)
        inputs = YearInputs(YearCalendar(py.year, py.periods, day),
                            tuple(indicator_input(ind) for ind in indicators[py_id]), dict(entries),
                            {s.month: s.amount_yuan for s in spending[py_id]}, py.annual_total_yuan, (), bands)
        loaded[py_id] = Loaded(py, inputs, actuals[py_id], spending[py_id])
    return loaded


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


def _same_ratio(a: Decimal | None, b: Decimal | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(Decimal(a) - Decimal(b)) <= _RATIO_TOLERANCE


def _actual_figures(facts: YearFacts, actual: Actual, measures: dict[int, IndicatorInput]):
    """What the actual row should cache: (completion, pace, light); a retired indicator's or an
    unjudgeable entry's row keeps no ratio and reads grey."""
    judgement = facts.judgements.get(actual.indicator_id, {}).get(actual.month)
    if actual.indicator_id not in measures:
        return None          # a retired indicator's actual: history, not judged any more
    if judgement is None:
        return None, None, rules.GREY
    return judgement.completion, judgement.pace, judgement.light


def _rows_differences(loaded: Loaded, facts: YearFacts, fix: bool) -> list[Difference]:
    diffs = []
    py = loaded.year
    measures = {ind.id: ind for ind in loaded.inputs.indicators}
    for actual in loaded.actuals:
        figures = _actual_figures(facts, actual, measures)
        if figures is None:
            continue
        completion, pace, light = figures
        label = f"项目年度{py.id} 指标{actual.indicator_id} {py.year}-{actual.month:02d}"
        for name, derived in (("completion", completion), ("pace", pace)):
            if not _same_ratio(getattr(actual, name), derived):
                diffs.append(Difference(f"{label} {name}", getattr(actual, name), derived))
                if fix:
                    setattr(actual, name, derived)
        if actual.light != light:
            diffs.append(Difference(f"{label} light", actual.light, light))
            if fix:
                actual.light = light
    for row in loaded.spending:
        judged = facts.spending[row.month]
        label = f"项目年度{py.id} 支出 {py.year}-{row.month:02d}"
        for name, derived in (("execution_rate", judged.rate), ("pace", judged.pace)):
            if not _same_ratio(getattr(row, name), derived):
                diffs.append(Difference(f"{label} {name}", getattr(row, name), derived))
                if fix:
                    setattr(row, name, derived)
        if row.light != judged.light:
            diffs.append(Difference(f"{label} light", row.light, judged.light))
            if fix:
                row.light = judged.light
    return diffs


def _summary_differences(session, loaded: dict[int, Loaded], facts: dict[int, YearFacts], fix: bool) -> list[Difference]:
    from models.reports import BudgetSummary, LightSummary
    from services.summaries import write_summaries
    ids = list(loaded)
    wanted_lights = [row for py_id in ids for row in light_summary_rows(py_id, facts[py_id])]
    wanted_budget = [row for py_id in ids for row in budget_summary_rows(py_id, facts[py_id])]
    diffs = []
    for table, key, wanted in ((LightSummary, ("project_year_id", "month", "level1"), wanted_lights),
                               (BudgetSummary, ("project_year_id", "month"), wanted_budget)):
        columns = table.__table__.columns
        stored = {tuple(r[k] for k in key): dict(r) for r in session.execute(
            select(*columns).where(columns["project_year_id"].in_(ids))).mappings()}
        want = {tuple(r[k] for k in key): r for r in wanted}
        for k in sorted(stored.keys() | want.keys(), key=str):
            if stored.get(k) != want.get(k):
                diffs.append(Difference(f"{table.__tablename__} {k}", _changed(stored.get(k), want.get(k)),
                                        _changed(want.get(k), stored.get(k))))
    if fix and diffs:
        write_summaries(session, ids, wanted_lights, wanted_budget)
    return diffs


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
    from services.summaries import lock
    for start in range(0, len(ids), chunk):
        if fix:
            lock(session, ids[start:start + chunk])     # before reading what the caches derive from
        loaded = load(session, ids[start:start + chunk], config)
        facts = {py_id: derive(item.inputs) for py_id, item in loaded.items()}
        for py_id, item in loaded.items():
            diffs += _rows_differences(item, facts[py_id], fix)
        if fix:
            session.flush()
        diffs += _summary_differences(session, loaded, facts, fix)
    return diffs


def all_project_year_ids(session) -> list[int]:
    return list(session.scalars(select(ProjectYear.id).order_by(ProjectYear.id)))


def check(session, config: Mapping, *, fix: bool = False) -> list[Difference]:
    """Every project year's cached figures against the core (`flask check [--fix]`)."""
    return rejudge(session, all_project_year_ids(session), config, fix=fix)

