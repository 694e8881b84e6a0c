"""The reports part of the JSON API (/api/v1/reports), with the same bearer-token check as
views/api.py (cookies ignored; errors `{"error": …}`).

`GET /api/v1/reports/overview?year=YYYY&as_of=D` answers the overview of the caller's scope
(INTERFACES.md) from the very function the overview page renders (reads/overview.py), so the
two always show the same numbers. Besides `year` and `as_of` it takes the page's filters
`department`, `unit` (ids), `light` and `level1`.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, g, request

from models.bounds import whole_number
from models.db import get_session
from models.summary import LIGHTS
from reads.project_list import visible_year_numbers
from reads.report_filters import LEVEL1S, ReportFilters, resolve_moment
from reads import api_answers as answers
from views.api import bearer_token, send
from views.reports import today

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports")
bp.before_request(bearer_token)


def _filters() -> ReportFilters:
    """The query string, strictly: a malformed value is a 400 in Chinese, not silently ignored
    (year and as_of are checked by ReportFilters itself, as on the page)."""
    args = request.args
    for name in ("department", "unit"):
        if args.get(name) and whole_number(args[name]) is None:
            abort(400, description=f"{name} 应为编号（整数）")
    if args.get("light") and args["light"] not in LIGHTS:
        abort(400, description=f"light 应为 {'、'.join(LIGHTS)} 之一")
    if args.get("level1") and args["level1"] not in LEVEL1S:
        abort(400, description=f"level1 应为 {'、'.join(LEVEL1S)} 之一")
    return ReportFilters.from_args(args)


@bp.get("/overview")
def overview_answer():
    session = get_session()
    filters = _filters()
    moment = resolve_moment(filters, visible_year_numbers(session, g.user), today(), current_app.config)
    return send(answers.overview(session, g.user, filters, moment))
