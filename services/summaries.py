"""The report summaries (light_summary, budget_summary: models/summary.py) kept current,
explicitly: each write use case calls one of these inside its transaction, after its own
writes — `after_entry` for an actual (adds its light's change to the rows), `refresh` for
spending, imports and anything else that changes what the rows are made of. The rows are
the domain core's (domain.project_year.light_summary_rows / budget_summary_rows), so
`flask check` can rebuild and compare them.

Every refresh first takes the project years' row locks (in id order): writers of one project
year then bring its summary up to date one after another, each reading what the ones before
it committed. Without the lock, PostgreSQL's READ COMMITTED would let two entries in one
project year (two indicators, or an indicator and the spending) each work from a view without
the other's entry, and the last to commit would undo the first. (SQLite's write transactions
are serial already.)
"""
from __future__ import annotations

from collections import defaultdict
from operator import itemgetter
from typing import Iterable

from sqlalchemy import and_, bindparam, case, delete, insert, select, update
from sqlmodel import Session

from domain import project_year as core
from domain.calendar import YearCalendar
from models.actual import Actual
from models.db import by_key, held, prepared, rewrite_by_key, rows
from models.indicator import Indicator
from models.project import ProjectYear
from models.summary import ALL_LEVELS, LIGHTS, BudgetSummary, LightSummary, level1_of

ABSENT = "absent"               # an actual's light before it was entered, or after it was removed


def refresh(session: Session, project_year_ids: Iterable[int], chunk: int = 400, *,
            lights: bool = True, budget: bool = True) -> None:
    """Bring the summary rows of these project years in line with the domain core (`lights`:
    the indicators', `budget`: the spending's): rows are derived afresh, and only those that
    differ from the stored ones are written. The caller holds the transaction."""
    ids = sorted(set(project_year_ids))
    lock(session, ids)
    for start in range(0, len(ids), chunk):
        _refresh_part(session, ids[start:start + chunk], lights, budget)


def refresh_one(session: Session, project_year_id: int, *, lights: bool = True,
                budget: bool = True) -> core.YearFacts:
    """`refresh` of one project year, returning the year it judged: what a caller that judges
    the same inputs next (the budget's alerts and the answer after a spending entry) reads."""
    lock(session, [project_year_id])
    return _refresh_part(session, [project_year_id], lights, budget)[project_year_id]


def _refresh_part(session: Session, ids: list[int], lights: bool, budget: bool) -> dict[int, core.YearFacts]:
    facts = _facts(session, ids, indicators=lights)    # the budget's rows need no indicator
    if lights:
        derived = [row for py_id, f in facts.items() for row in core.light_summary_rows(py_id, f)]
        _write_changed(session, LightSummary, ("project_year_id", "month", "level1"), list(facts), derived)
    if budget:
        derived = [row for py_id, f in facts.items() for row in core.budget_summary_rows(py_id, f)]
        _write_changed(session, BudgetSummary, ("project_year_id", "month"), list(facts), derived)
    return facts


# The reads and writes of a summary refresh (after every entry), built once with bound
# parameters (models.db.prepared says why).

@prepared
def _indicator_lights():
    counted = case((and_(Indicator.retired_at.is_(None), Indicator.annual_raw.is_not(None)), True), else_=False)
    return (select(Indicator.id, Indicator.project_year_id, ProjectYear.periods,
                   Indicator.level1_std, Indicator.level1, counted.label("counted"),
                   Actual.month, Actual.light)
            .join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
            .outerjoin(Actual, Actual.indicator_id == Indicator.id)
            .where(Indicator.id.in_(bindparam("ids", expanding=True))))


@prepared
def _add_lights():
    columns = [prefix + light for prefix in ("", "early_") for light in LIGHTS]
    return (update(LightSummary)
            .where(LightSummary.project_year_id == bindparam("row_py_id"),
                   LightSummary.month == bindparam("row_month"),
                   LightSummary.level1.in_([bindparam("row_level1"), ALL_LEVELS]))
            .values({c: getattr(LightSummary, c) + bindparam(f"d_{c}") for c in columns}))


@prepared
def _lock():
    # FOR NO KEY UPDATE: writers queue on it, while the foreign-key checks of their own
    # inserts (an alert, a history row: FOR KEY SHARE) pass, so two writers never deadlock.
    return (select(ProjectYear.id).where(ProjectYear.id.in_(bindparam("ids", expanding=True)))
            .order_by(ProjectYear.id).with_for_update(key_share=True))


@prepared
def _stored(table):
    return (select(*(column for column in table.__table__.columns))
            .where(table.__table__.c.project_year_id.in_(bindparam("ids", expanding=True))))


def _facts(session: Session, ids: list[int], indicators: bool = True) -> dict[int, core.YearFacts]:
    """These project years judged by the domain core from what is stored, read as plain rows of
    the columns the core needs: a migration that refreshes the summaries (0006, 0012) then runs
    whatever columns later migrations add to `indicator` or `actual`. Without `indicators`, the
    budget's inputs alone."""
    from services import inputs
    return {py_id: core.derive(item.inputs)
            for py_id, item in inputs._load_rows(session, ids, inputs.current_config(), indicators).items()}


SUMMARY_KEYS = {LightSummary: ("project_year_id", "month", "level1"), BudgetSummary: ("project_year_id", "month")}


def _write_changed(session: Session, table, key: tuple[str, ...], project_year_ids: list[int],
                   rows: list[dict]) -> None:
    """Make the stored rows of these project years equal `rows`, writing only the difference
    (a new actual changes a few counts of a few months, not a year of rows)."""
    write_summary_changes(session, table, stored_summaries(session, table, project_year_ids), rows)


def stored_summaries(session: Session, table, project_year_ids: list[int]) -> dict[tuple, dict]:
    """The stored summary rows of these project years, by their key."""
    found = rows(session, _stored(table), {"ids": project_year_ids})
    if not found:
        return {}
    names = list(found[0]._fields)
    key_of = itemgetter(*(names.index(name) for name in SUMMARY_KEYS[table]))
    return {key_of(row): dict(zip(names, row)) for row in found}


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
    changed = [by_key(key, row) for k, row in wanted.items() if k in stored and stored[k] != row]
    if changed:
        session.execute(rewrite_by_key(table), changed)


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
    refresh(session, ids)
    return len(ids)


# --------------------------------------------------------------------------- keeping them current

def lock(session, project_year_ids: Iterable[int]) -> None:
    """Take the project years' row locks (in id order) before reading what their summaries are
    made of. Writers of one project year then bring its summary up to date one after another,
    each reading what the ones before it committed; without the lock, PostgreSQL's READ
    COMMITTED would let two entries in one project year (two indicators, or an indicator and the
    spending) each work from a view without the other's entry, and the last to commit would
    undo the first. (SQLite's write transactions are serial already.) A project year this
    transaction has locked already is not locked again."""
    locked = held(session).setdefault("project_years", set())
    wanted = sorted(set(project_year_ids) - locked)
    if wanted:
        session.execute(_lock(), {"ids": wanted})
        locked.update(wanted)


def after_entry(session: Session, project_year_id: int, indicator_id: int, month: int, before: str | None,
                now: str | None) -> None:
    """An entry of one indicator's period changed its light from `before` to `now` (ABSENT:
    none, before a first entry or after a removal): add what that changes to the summary rows
    instead of rebuilding the project year (a corrected value with the same light writes
    nothing). The caller holds the transaction and has flushed the entry; the project year's
    lock is taken before its lights are read, so that two entries at once add up."""
    if before == now:
        return
    lock(session, [project_year_id])
    rebuild = _apply_light_changes(session, {(indicator_id, month): [before, now]})
    if rebuild:
        refresh(session, rebuild, budget=False)


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
    for ind_id, py_id, periods, l1_std, l1, active, month, light in rows(
            session, _indicator_lights(), {"ids": list(by_indicator)}):
        meta[ind_id] = (py_id, periods, level1_of(l1_std, l1), active)
        if month is not None:
            after[ind_id][month] = light
    columns = [prefix + light for prefix in ("", "early_") for light in LIGHTS]
    deltas: dict[tuple[int, str, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(columns, 0))
    for ind_id, months in by_indicator.items():
        if ind_id not in meta or not meta[ind_id][3]:
            continue                       # gone, retired or without a 年度 target: not counted
        py_id, periods, level1, _active = meta[ind_id]
        valid = set(YearCalendar(2000, periods).months)
        now = {m: light for m, light in after[ind_id].items() if m in valid}
        before = dict(now)
        for month, (old, _new) in months.items():
            if month not in valid:
                continue
            if old == ABSENT:
                before.pop(month, None)
            else:
                before[month] = old
        for month in range(1, 13):
            for prefix, late in (("", True), ("early_", False)):
                cal = YearCalendar(2000, periods)
                old, new = core.light_at_month(cal, before, month, late), core.light_at_month(cal, now, month, late)
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
        result = session.execute(_add_lights(), params)
        if result.rowcount != 2:          # its 一级指标's row and the row over all of them
            rebuild.add(py_id)
    return rebuild
