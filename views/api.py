"""The JSON API (/api/v1). Authenticated by `Authorization: Bearer TOKEN` alone.

Cookies are ignored entirely: a browser's session never authenticates a call here, so a
page on another site cannot make a signed-in browser call the API, and the blueprint needs
no CSRF token (it is exempt, see views/__init__.py). Errors are `{"error": "…"}` (views/errors.py);
another unit's object is a 404, like a missing one.
"""
from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request

from models.db import get_session, transaction
from models.queries import project_summaries
from models.user import user_for_token
from views.auth import clock

bp = Blueprint("api", __name__, url_prefix="/api/v1")

NO_TOKEN = "缺少或无效的访问令牌"


@bp.before_request
def bearer_token():
    g.user = None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        return _unauthorized()
    db, now = get_session(), clock()
    user = user_for_token(db, token, now)    # notes the last use at most once a minute
    if db.dirty:
        db.rollback()
        with transaction(db):
            user = user_for_token(db, token, now)
    if user is None:
        return _unauthorized()
    g.user = user
    return None


def _unauthorized():
    response = jsonify({"error": NO_TOKEN})
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="jixiao"'
    return response


def _year_arg() -> int | None:
    raw = request.args.get("year")
    if raw is None or raw == "":
        return None
    if not (raw.isdigit() and len(raw) == 4):
        abort(400, description="year 应为四位数的年度，例如 2023")
    return int(raw)


@bp.get("/projects")
def projects():
    year = _year_arg()
    return jsonify({"projects": [
        {"id": p.project_id, "name": p.name, "year": p.year, "department": p.department, "unit": p.unit,
         "light": None}   # the lights come with the actuals
        for p in project_summaries(get_session(), g.user, year)]})
