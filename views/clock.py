"""Today, from one place: `config["CLOCK"]` (a callable tests and demos set) or the real time.

Everything that depends on the date — the current reporting period, entry deadlines, overdue
alerts, the login limit — asks here and passes `now`/`as_of` on to the models, which never read
the clock themselves (STYLE.md). Dates are Asia/Shanghai (`TIMEZONE`).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def now() -> datetime:
    """The current moment (aware, UTC), or the one set in config["CLOCK"]."""
    override = current_app.config.get("CLOCK")
    return override() if override else datetime.now(timezone.utc)


def today() -> date:
    """Today's date where the users are (Asia/Shanghai)."""
    return _where_users_are(now()).date()


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment as the users read it (the `local_time` filter of the templates)."""
    return _where_users_are(value).strftime(fmt) if value is not None else ""


def _where_users_are(moment: datetime) -> datetime:
    if moment.tzinfo is None:          # SQLite hands back naive UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def deadline_day() -> int:
    """The day of the following month by which a period's actual is due (ENTRY_DEADLINE_DAY)."""
    return int(current_app.config.get("ENTRY_DEADLINE_DAY", 5))
