"""Open alerts follow the domain core (DOMAIN.md §4, §8, §9): `sync` makes the open alerts of
some project years exactly those the core (domain.project_year.open_alerts) says should stand
as of a date — opening, moving on and closing rows, kept as history (opened_at / closed_at):
yellow and red lights, overdue entries, and 超额 (kind "over", light "blue", for information).

Every writer of alert rows comes through here, and nothing else decides an alert:
- the reminder cycle syncs every project year of this year and last each time it runs,
  whoever has signed in (pages only read);
- a write use case syncs what it changed, as of the write's date where the users are: an
  entry the alerts of its indicator or of the budget (`after_entry`, services/entry.py); a
  measure or a reporting period (services/tracking.py) and an import their project years
  (`after_write`);
- `flask check` compares them as of today (services/derived.py, through `changes`) and `--fix`
  carries the changes out;
- `flask demo synth` replays a synthetic year through `reconcile` and `carry_out`, at each
  simulated entry and reminder cycle, so that its history reads as the real one would.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from domain.project_year import DueAlert, YearFacts, derive, open_alerts
from models.actual import Alert
from models.db import prepared
from models.project import ProjectYear
from services import inputs, summaries

TIMEZONE = "Asia/Shanghai"        # settings.py's TIMEZONE, where a config does not say


def local_date(now: datetime, config: Mapping) -> date:
    """The date of `now` where the users are (the TIMEZONE of settings): what a write's alerts
    are synced as of."""
    if now.tzinfo is None:             # SQLite hands back naive UTC
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(ZoneInfo(config.get("TIMEZONE") or TIMEZONE)).date()


# --------------------------------------------------------------------------- what changes

@dataclass
class Changes:
    """What bringing open alerts in line with the core does: the alerts to open (project year,
    what should stand), the open rows whose light or period moves on (row, what it becomes:
    still red, or still overdue, a period later) and the open rows to close."""
    opened: list[tuple[int, DueAlert]] = field(default_factory=list)
    moved: list[tuple[object, DueAlert]] = field(default_factory=list)
    closed: list[object] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.opened or self.moved or self.closed)


def reconcile(stored_open: Mapping[int, Sequence], due: Mapping[int, Sequence[DueAlert]]) -> Changes:
    """The changes that make the open rows (`stored_open`: project year → its open alert rows,
    oldest first: Alert rows, or any object with indicator_id, kind, light, month and closed_at)
    what the core says should stand (`due`: project year → its due alerts). One open row stands
    for each due alert (an indicator's or the budget's light alert, its overdue alert); a second
    open row of the same is closed."""
    changes = Changes()
    for py_id in sorted(stored_open.keys() | due.keys()):
        rows: dict[tuple, list] = {}
        for row in stored_open.get(py_id, ()):
            rows.setdefault((row.indicator_id, row.kind), []).append(row)
        for wanted in due.get(py_id, ()):
            first, *extra = rows.pop((wanted.indicator_id, wanted.kind), None) or [None]
            if first is None:
                changes.opened.append((py_id, wanted))
            elif (first.light, first.month) != (wanted.light, wanted.period):
                changes.moved.append((first, wanted))
            changes.closed += extra
        for left in rows.values():
            changes.closed += left
    return changes


def carry_out(changes: Changes, now: datetime, row_type: type = Alert) -> list:
    """Make the changes on the rows at `now`; returns the new rows, made as `row_type` (an Alert
    for the session, or whatever a bulk writer collects its rows in)."""
    for row, wanted in changes.moved:
        row.light, row.month = wanted.light, wanted.period
    for row in changes.closed:
        row.closed_at = now
    return [row_type(project_year_id=py_id, indicator_id=wanted.indicator_id, kind=wanted.kind, month=wanted.period,
                     light=wanted.light, opened_at=now, closed_at=None)
            for py_id, wanted in changes.opened]


# --------------------------------------------------------------------------- against the database

def changes(session, facts: Mapping[int, YearFacts], as_of: date) -> Changes:
    """What `sync` would change in these project years' open alerts (`facts`: each judged by the
    core from what is stored), as of `as_of`."""
    stored: dict[int, list[Alert]] = {}
    query = (select(Alert).where(Alert.project_year_id.in_(list(facts)), Alert.closed_at.is_(None))
             .order_by(Alert.id))
    for alert in session.scalars(query):
        stored.setdefault(alert.project_year_id, []).append(alert)
    return reconcile(stored, {py_id: open_alerts(f, as_of) for py_id, f in facts.items()})


def apply(session, found: Changes, now: datetime) -> int:
    """Carry out `found` (from `changes`) in the session; returns how many alerts were opened."""
    session.add_all(carry_out(found, now))
    session.flush()
    return len(found.opened)


def sync(session, project_year_ids: Iterable[int], as_of: date, now: datetime, config: Mapping,
         chunk: int = 500) -> int:
    """Bring the open alerts of these project years in line with the core as of `as_of`.
    Returns how many alerts were opened."""
    ids = sorted(set(project_year_ids))
    opened = 0
    for start in range(0, len(ids), chunk):
        loaded = inputs._load_rows(session, ids[start:start + chunk], config)
        opened += apply(session, changes(session, {py_id: derive(item.inputs) for py_id, item in loaded.items()},
                                         as_of), now)
    return opened


def after_write(session, project_year_ids: Iterable[int], now: datetime, config: Mapping) -> int:
    """A write use case changed these project years' inputs at `now`: their alerts as of that
    day where the users are. Takes the project years' row locks first, as the summary refresh
    does, so that two writers of one project year sync one after the other, each seeing what
    the one before it committed (PostgreSQL; SQLite's write transactions are serial)."""
    ids = sorted(set(project_year_ids))
    summaries.lock(session, ids)
    return sync(session, ids, local_date(now, config), now, config)


def after_entry(session, py: ProjectYear, indicator, now: datetime, config: Mapping, judged: YearFacts) -> int:
    """An entry at `now` of one indicator's actual (`indicator`), or of the spending (None): the
    alerts it can change — that indicator's, or the budget's — as of that day where the users
    are, from the core given only what they depend on (services.inputs.load_part), not the
    whole year: an entry stays cheap (bench/entry.py). The other alerts of the project year
    stand as the last sync left them. The project year's row lock comes first, as in
    `after_write`. `judged`: the project year as the caller judged it after its write, under
    that lock (`judged_indicator`, or the summary refresh of a spending entry), which the answer to
    the entry reads too."""
    summaries.lock(session, [py.id])         # held already: the caller judged under it
    whose = indicator.id if indicator is not None else None
    due = [alert for alert in open_alerts(judged, local_date(now, config)) if alert.indicator_id == whose]
    params = {"py_id": py.id} if whose is None else {"py_id": py.id, "indicator_id": whose}
    stored = session.scalars(_open_of(whose is None), params).all()
    return apply(session, reconcile({py.id: stored}, {py.id: due}), now)


@prepared      # read by every entry
def _open_of(budget: bool):
    """The open alerts of a project year's budget, or of one of its indicators (`indicator_id`)."""
    mine = Alert.indicator_id.is_(None) if budget else Alert.indicator_id == bindparam("indicator_id")
    return (select(Alert).where(Alert.project_year_id == bindparam("py_id"), mine, Alert.closed_at.is_(None))
            .order_by(Alert.id))


def judged_indicator(session, py: ProjectYear, indicator, config: Mapping) -> YearFacts:
    """What an entry of the indicator's actual changes the alerts of — its own entries and the
    calendar — judged under the project year's lock, after the entry."""
    summaries.lock(session, [py.id])
    session.flush()
    return derive(inputs.load_part(session, py, [indicator], False, config))


def current_project_years(session, today: date) -> list[int]:
    """The project years whose alerts can still change: this year's and last year's."""
    return list(session.scalars(select(ProjectYear.id).where(ProjectYear.year.in_([today.year - 1, today.year]))))
