"""Projects: the filterable list and the project page, each within the user's scope (the
queries take the user; another unit's project is a 404). The project page carries the entry
section of one reporting period (`?period=2023-07`; views/actuals.py takes its posts, views/entry_forms.py
holds what its forms show). Also the display filters the page
templates share (money in 元, target numbers, times in Asia/Shanghai)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, current_app, g, render_template, request

from domain.calendar import YearCalendar
from models.actual import EntryError, check_period, parse_period
from models.bounds import parse_year
from models.db import get_session
from models.user import ROLES
from reads.adjustments import adjustment_history
from reads.project_list import ProjectFilters, filter_options, list_project_years
from reads.project_page import project_page, target_changes
from reads.rounds import project_monitoring
from reads.scope import may_edit_actuals, may_review_targets
from reads.target_adjustments import target_section
from reads.tracking import tracking
from reads.wording import percent_text, yuan_text
from reminders.settings import load as reminder_settings
from views.clock import deadline_day, local_time, today
from views.entry_forms import RowState, adjustment_form_values, budget_form_values, form_values

bp = Blueprint("projects", __name__)

OPS = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜", "=": "＝"}


def wants_fragment() -> bool:
    """An htmx request for a piece of the page, not a history restore (which needs it all)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


@bp.get("/projects")
def index():
    session = get_session()
    filters = ProjectFilters.from_args(request.args)
    listing = list_project_years(session, g.user, filters, as_of=today(), config=current_app.config)
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
    """The project page; `?period=2023-07` picks the reporting period of the entry rows (default:
    the latest that has ended), `?year=` the year (else the period's, else the latest)."""
    chosen, period = parse_year(request.args.get("year")), request.args.get("period")
    month = None
    if period:
        try:
            period_year, month = parse_period(period)
        except EntryError as exc:
            abort(400, description=str(exc))
        chosen = chosen or period_year
        if period_year != chosen:
            abort(400, description=f"期间 {period} 不在所选的 {chosen} 年度内")
    return render_project(project_id, chosen, month)


def render_project(project_id: int, year: int | None, month: int | None, status: int = 200,
                   states: dict | None = None, budget_state=None, adjustment_state=None, target_state=None,
                   monitoring_state: dict | None = None):
    """The project page with its entry section for one period. `states` carries a row's typed
    values and messages when a plain (non-htmx) post comes back with an error (`budget_state`,
    `adjustment_state` and `target_state` those of the budget row, the 预算调整 form and the
    目标调整 section)."""
    session = get_session()
    page = project_page(session, g.user, project_id, year)
    if page is None:
        abort(404)
    py, as_of = page.year, today()
    if month is None:
        month = YearCalendar(py.year, py.periods).default_month(as_of)
    try:
        check_period(py, py.year, month)
    except EntryError as exc:
        abort(400, description=str(exc))
    track = tracking(session, g.user, page.project, py, month, as_of, deadline_day())
    states = dict(states or {})
    for row in track.rows:
        state = states.setdefault(row.indicator.id, RowState())
        state.form = state.form or form_values(row)
    budget_state = budget_state or RowState()
    budget_state.form = budget_state.form or budget_form_values(track.spending.spending)
    monitoring = project_monitoring(session, g.user, page.project, py, as_of, current_app.config,
                                    reminder_settings(session).due_soon_days)
    return render_template("project.html", page=page, t=track, states=states, budget_state=budget_state,
                           editable=may_edit_actuals(g.user, page.project),
                           adjustments=adjustment_history(session, py, as_of),
                           adjustment_state=adjustment_state or RowState(adjustment_form_values()),
                           monitoring=monitoring, monitoring_state=monitoring_state or {},
                           **target_section_context(session, page.project, py, target_state)), status


def target_section_context(session, project, py, state: RowState | None = None) -> dict:
    """What the 目标调整 section (templates/_target_adjustments.html) needs: on the page, and
    as the answer to its own posts (views/target_adjustments.py)."""
    return {"targets": target_section(session, py), "target_history": target_changes(session, g.user, project.id),
            "target_state": state or RowState({}), "may_propose": may_edit_actuals(g.user, project),
            "may_review": may_review_targets(g.user), "project": project, "py": py}


# --------------------------------------------------------------------------- display filters

bp.app_template_filter("yuan")(yuan_text)     # reads/wording.py: one way of writing a figure
bp.app_template_filter("pct")(percent_text)


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


bp.add_app_template_filter(local_time, "local_time")   # times in TIMEZONE (views/clock.py)
bp.app_template_filter("role_words")(lambda role: ROLES.get(role, role))   # 填报人, 审核人, 管理员 (models/user.py)
