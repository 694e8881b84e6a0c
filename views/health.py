"""GET /healthz: the app and its database answer."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from models.db import get_session
from views.auth import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz():
    try:
        get_session().exec(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report, not to raise
        return jsonify({"status": "error", "database": str(exc.__class__.__name__)}), 503
    return jsonify({"status": "ok", "database": "ok"})
