"""What is stored for speed is a cache of the domain core: rebuild it, or check it.

The caches are the judgement stored with each actual (completion, pace, light) and each
spending report (执行率, pace, light), the report summaries (light_summary, budget_summary)
and the open alerts. `rejudge` recomputes them for some project years from their inputs
(domain.project_year) and rewrites what differs, inside the caller's transaction: a write
use case calls it whenever an input changes that the entry itself did not judge — a target
changed by a re-import, a measure or reporting period changed; `rejudge_all` does it for every
project year when the light bands in settings change (`flask check --fix`). `check` compares
every project year and changes nothing (`flask check`). Given a date, both also compare the
open alerts with those the core says should stand that day, and `rejudge` with `fix` brings
them in line (services/alerts.py; a write use case syncs its own, `alerts.after_write`). They read and write plain rows with
Core statements, not ORM objects, so that a province's 1.7 million actuals take under a minute
(bench/rejudge.py); `load` gives readers the ORM objects whole, from the same assembly.
"""
from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Callable, Iterable, Mapping

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm.util import identity_key

from domain import rules
from domain.project_year import YearFacts, budget_summary_rows, derive, light_summary_rows
from models.actual import Actual, Spending
from models.project import ProjectYear
from services import alerts
from services.inputs import _ACTUAL, _SPENDING, Loaded, _load_rows

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
    from models.summary import BudgetSummary, LightSummary
    from services.summaries import stored_summaries, write_summary_changes
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


def _alert_differences(found: alerts.Changes, facts: dict[int, YearFacts]) -> list[Difference]:
    """An open alert missing, one standing that should not, or one of another light or period."""
    def name(py_id: int, indicator_id: int | None, kind: str) -> str:
        return f"项目年度{py_id} {'预算' if indicator_id is None else f'指标{indicator_id}'} 预警 {kind}"

    def shown(py_id: int, light: str, month: int) -> str:
        return f"{light} {facts[py_id].calendar.year}-{month:02d}"

    return ([Difference(name(py_id, due.indicator_id, due.kind), None, shown(py_id, due.light, due.period))
             for py_id, due in found.opened]
            + [Difference(name(row.project_year_id, row.indicator_id, row.kind),
                          shown(row.project_year_id, row.light, row.month),
                          shown(row.project_year_id, due.light, due.period)) for row, due in found.moved]
            + [Difference(name(row.project_year_id, row.indicator_id, row.kind),
                          shown(row.project_year_id, row.light, row.month), None) for row in found.closed])


def _by_key(table, rows: list[dict]) -> dict[tuple, dict]:
    from services.summaries import SUMMARY_KEYS
    return {tuple(row[name] for name in SUMMARY_KEYS[table]): row for row in rows}


def _changed(row: dict | None, other: dict | None) -> dict | None:
    if row is None or other is None:
        return row
    return {k: v for k, v in row.items() if other.get(k) != v}


def rejudge(session, project_year_ids: Iterable[int], config: Mapping, *, fix: bool = True,
            chunk: int = 500, as_of: date | None = None, now: datetime | None = None) -> list[Difference]:
    """Recompute the cached figures of these project years from their inputs, and with `as_of`
    their open alerts as of that date; with `fix`, rewrite what differs (in the caller's
    transaction; alerts opened or closed at `now`). Returns the differences found."""
    ids = sorted(set(project_year_ids))
    diffs: list[Difference] = []
    with _collector_paused():
        for start in range(0, len(ids), chunk):
            diffs += _rejudge_chunk(session, ids[start:start + chunk], config, fix, as_of, now)
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


def _rejudge_chunk(session, ids: list[int], config: Mapping, fix: bool, as_of: date | None,
                   now: datetime | None) -> list[Difference]:
    if fix:
        from services.summaries import lock
        lock(session, ids)              # before reading what the caches derive from
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
    diffs += _summary_differences(session, facts, fix)
    if as_of is not None:
        found = alerts.changes(session, facts, as_of)
        diffs += _alert_differences(found, facts)
        if fix:
            alerts.apply(session, found, now)
    return diffs


def rejudge_all(session, config: Mapping, as_of: date | None = None, now: datetime | None = None
                ) -> list[Difference]:
    """The settings-change path: after the light bands change (PACE_BANDS, LEVEL_YELLOW), every
    project year is judged again under them and every cached figure that differs is rewritten,
    with `as_of` the open alerts too, in the caller's transaction (`flask check --fix`)."""
    return rejudge(session, all_project_year_ids(session), config, fix=True, as_of=as_of, now=now)


def all_project_year_ids(session) -> list[int]:
    return list(session.scalars(select(ProjectYear.id).order_by(ProjectYear.id)))


def check(session, config: Mapping, as_of: date | None = None) -> list[Difference]:
    """Every project year's cached figures, and with `as_of` its open alerts that day, against the
    core (`flask check`); changes nothing."""
    return rejudge(session, all_project_year_ids(session), config, fix=False, as_of=as_of)

