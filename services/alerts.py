"""Open alerts follow the domain core (DOMAIN.md §4, §9): `sync` makes the open alerts of some
project years exactly those the core says should stand as of a date — opening, updating and
closing rows (kept as history: opened_at / closed_at).

The reminder cycle syncs every project year of the current and the previous year each time it
runs, whoever has signed in; pages only read. An entry syncs its own project year.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Mapping

from sqlalchemy import select

from domain.project_year import DueAlert, derive, open_alerts
from models.actual import Alert
from models.project import ProjectYear
from services import inputs


def sync(session, project_year_ids: Iterable[int], as_of: date, now: datetime, config: Mapping,
         chunk: int = 500) -> int:
    """Bring the open alerts of these project years in line with the core as of `as_of`.
    Returns how many alerts were opened."""
    ids = sorted(set(project_year_ids))
    opened = 0
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        due = {py_id: open_alerts(derive(item.inputs), as_of)
               for py_id, item in inputs.load(session, part, config).items()}
        stored: dict[tuple, list[Alert]] = {}
        for alert in session.scalars(select(Alert).where(Alert.project_year_id.in_(part), Alert.closed_at.is_(None))):
            stored.setdefault((alert.project_year_id, alert.indicator_id, alert.kind), []).append(alert)
        for py_id, alerts in due.items():
            for wanted in alerts:
                opened += _keep_open(session, py_id, wanted, stored.pop((py_id, wanted.indicator_id, wanted.kind), []),
                                     now)
        for leftover in stored.values():
            for alert in leftover:
                alert.closed_at = now
        session.flush()
    return opened


def _keep_open(session, py_id: int, wanted: DueAlert, open_now: list[Alert], now: datetime) -> int:
    if not open_now:
        session.add(Alert(project_year_id=py_id, indicator_id=wanted.indicator_id, kind=wanted.kind,
                          month=wanted.period, light=wanted.light, opened_at=now))
        return 1
    first, *extra = open_now
    first.light, first.month = wanted.light, wanted.period     # still overdue (or red) a period later
    for alert in extra:
        alert.closed_at = now
    return 0


def current_project_years(session, today: date) -> list[int]:
    """The project years whose alerts can still change: this year's and last year's."""
    return list(session.scalars(select(ProjectYear.id).where(ProjectYear.year.in_([today.year - 1, today.year]))))

