"""Projects: the filterable list and the project page, each within the user's scope (the
queries take the user; another unit's project is a 404). Also the display filters the page
templates share (money in 元, target numbers, times in Asia/Shanghai)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from models.db import get_session
from models.queries import ProjectFilters, filter_options, list_project_years, project_page

bp = Blueprint("projects", __name__)

OPS = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜", "=": "＝"}


def wants_fragment() -> bool:
    """An htmx request for a piece of the page, not a history restore (which needs it all)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


@bp.get("/")
def root():
    return redirect(url_for("projects.index"))


@bp.get("/projects")
def index():
    session = get_session()
    filters = ProjectFilters.from_args(request.args)
    listing = list_project_years(session, g.user, filters)
    if wants_fragment():
        response = current_app.make_response(
            render_template("_project_table.html", listing=listing, filters=filters))
    else:
        response = current_app.make_response(
            render_template("projects.html", listing=listing, filters=filters, options=filter_options(session, g.user)))
    response.vary.add("HX-Request")   # one URL, two bodies: caches must keep them apart
    return response


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    year = request.args.get("year", "")
    page = project_page(get_session(), g.user, project_id, int(year) if year.isdigit() and len(year) == 4 else None)
    if page is None:
        abort(404)
    return render_template("project.html", page=page)


# --------------------------------------------------------------------------- display filters

@bp.app_template_filter("yuan")
def yuan(value) -> str:
    """37000000 → 37,000,000.00 (元, two decimals as in accounts); None → 空 (unknown, not 0)."""
    if value is None:
        return "空"
    return f"{Decimal(str(value)):,.2f}"


@bp.app_template_filter("num")
def num(value) -> str:
    """A target's number as written: 70, 77.11, 800 — no trailing zeros from storage."""
    if value is None:
        return ""
    try:
        return format(Decimal(str(value)).normalize(), ",f")
    except InvalidOperation:
        return str(value)


@bp.app_template_filter("op")
def op(value) -> str:
    return OPS.get(value or "", value or "")


@bp.app_template_filter("local_time")
def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)
