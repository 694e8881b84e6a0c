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

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Mapping

from sqlalchemy import select

from domain import rules
from domain.project_year import IndicatorInput, YearFacts, budget_summary_rows, derive, light_summary_rows
from models.actual import Actual
from models.project import ProjectYear
# The inputs are loaded by services/inputs.py; its names stay reachable from here for callers.
from services.inputs import Loaded, current_config, deadline_day, indicator_input, level1_of, load, thresholds  # noqa: F401

_RATIO_TOLERANCE = Decimal("1e-9")     # the ratio columns keep 10 decimals


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
    from models.summary import BudgetSummary, LightSummary
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

