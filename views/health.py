"""GET /healthz: the app and its database answer, and the reminder scheduler runs.

200 {"status": "ok", "database": "ok", "scheduler": {"status", "last_run", "late_after"}};
503 with "status": "error" when the database does not answer, or when reminders are enabled
and the scheduler is late (reminders/health.py says when that is). A scheduler "disabled" by
the admins' setting is not an error.
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from models.db import get_session
from reminders.health import scheduler_health
from views.auth import clock, public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    session = get_session()
    try:
        session.exec(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report, not to raise
        return jsonify({"status": "error", "database": str(exc.__class__.__name__)}), 503
    try:
        scheduler = scheduler_health(session, clock())
    except Exception as exc:
        scheduler = {"status": "error", "error": exc.__class__.__name__}
    if scheduler["status"] in ("late", "error"):
        return jsonify({"status": "error", "database": "ok", "scheduler": scheduler}), 503
    return jsonify({"status": "ok", "database": "ok", "scheduler": scheduler})
