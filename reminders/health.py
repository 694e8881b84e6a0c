"""Is the scheduler running when it should? For /healthz (views/health.py).

Late means: reminders are enabled, and no scheduled cycle has succeeded within LATE_AFTER of
the later of (a) the last successful one and (b) the moment reminders were switched on (the
migration switches them on at installation). LATE_AFTER is a day plus two hours' grace: a
daily run may be a little late (a long cycle, a slow SMTP server, a restart around the run
time), but a whole missed day is not. So a fresh installation answers "ok" for its first 26
hours even though the scheduler has not run yet, and a scheduler that never starts is reported
from then on; runs of `flask reminders send` do not count, only the scheduler process's.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from models.outbox import last_scheduled_run
from reminders.settings import enabled_since, load

LATE_AFTER = timedelta(hours=26)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def scheduler_health(session: Session, now: datetime) -> dict:
    """{"status": "ok" | "late" | "disabled", "last_run": ISO time or None, "late_after": …}"""
    last = last_scheduled_run(session, succeeded=True)
    info = {"status": "ok", "last_run": _iso(last.started_at if last else None)}
    if not load(session).enabled:
        info["status"] = "disabled"
        return info
    since = [moment for moment in (last.started_at if last else None, enabled_since(session)) if moment]
    if since:
        late_after = max(since) + LATE_AFTER
        info["late_after"] = late_after.isoformat()
        if now > late_after:
            info["status"] = "late"
    return info
