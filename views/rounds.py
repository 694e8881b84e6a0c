"""Monitoring rounds (DOMAIN.md §8): the list of a round's projects (/monitoring), and one
project's page for a round (/projects/<id>/monitoring/2023-07), where the unit's 填报人 writes and
submits 总体目标执行情况, 偏差原因 and 改进（纠偏）措施 (prefilled from the entries) and the 审核人
reviews: 通过, 退回 with a comment, or 需要整改 with 整改 items.

Answers (templates/base.html): the round's region (#round) to htmx, the whole page otherwise;
bad input 422 with what was typed kept and the message beside its field; a step that no longer
fits (someone acted first, or saved meanwhile) 409 to htmx, else a redirect with the message; a
role that may not 403 (checked before the scope); another unit's project 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from domain.monitoring import APPROVE, REQUIRE_RECTIFICATION, RETURN, Round
from models.actual import EntryError, parse_period
from models.bounds import parse_year
from models.db import get_session, transaction
from reads.monitoring_report import report_lines
from reads.rectifications import rectification_lines
from reads.rounds import is_off_track, round_list, round_of_month, round_page
from reads.monitoring import monitoring_sheet, sheet_month
from reads.project_list import visible_year_numbers
from reads.scope import may_edit_actuals, may_review_monitoring, project_year_in_scope
from reminders.settings import load as reminder_settings
from services.rectifications import RectificationInput
from services.rounds import RoundConflict, RoundInput, save_round, review_round, submission_of
from views.actuals import field_errors
from views.auth import requires
from views.clock import now, today
from views.context import who
from views.projects import wants_fragment

bp = Blueprint("rounds", __name__)

EDITORS, REVIEWERS = ("admin", "manager"), ("admin", "supervisor")
DECISIONS = {"approve": APPROVE, "return": RETURN, "rectify": REQUIRE_RECTIFICATION}
ITEM_ROWS = 3            # 整改 items one review may raise at once (blank rows are skipped)
DONE = {APPROVE: "已通过该项目本轮的监控。", RETURN: "已退回该项目本轮的监控，等待填报人修改后重新提交。",
        REQUIRE_RECTIFICATION: "已要求整改：整改事项已发给实施单位。"}


def soon_days() -> int:
    return reminder_settings(get_session()).due_soon_days


@bp.get("/monitoring")
def index():
    """A round's projects and where each stands; for a 审核人 also the 整改 answers waiting for them."""
    session = get_session()
    years = visible_year_numbers(session, g.user)
    year = parse_year(request.args.get("year")) or (today().year if today().year in years or not years else max(years))
    month = request.args.get("round", type=int)
    listing = round_list(session, g.user, year, month, today(), current_app.config)
    reviewer = may_review_monitoring(g.user)
    items = rectification_lines(session, g.user, today(), soon_days(), show="active", year=year)
    reports = report_lines(session, year, listing.round.month,
                           {line.project.unit_id: line.unit for line in listing.lines}) if listing.round else []
    return render_template("monitoring.html", listing=listing, years=years or [year], reviewer=reviewer,
                           items=items, today=today(), reports=reports)


def _load(project_id: int, period: str):
    """(Project, ProjectYear, Round) of the URL within the user's scope; 404 otherwise."""
    try:
        year, month = parse_period(period)
    except EntryError as exc:
        abort(400, description=str(exc))
    session = get_session()
    found = project_year_in_scope(session, g.user, project_id, year)
    if found is None:
        abort(404)
    project, py = found
    rnd = round_of_month(session, py, month, current_app.config)
    if rnd is None:
        abort(404, description=f"{year}年没有截至{month}月末的监控轮次")
    return project, py, rnd


@bp.get("/projects/<int:project_id>/monitoring/<period>")
def show(project_id: int, period: str):
    return render(*_load(project_id, period))


def render(project, py, rnd: Round, status: int = 200, errors: dict | None = None, typed: dict | None = None,
           message: str | None = None, review: dict | None = None, notice: str | None = None):
    """The round's page, or its region to htmx; `typed` keeps what the 填报人 wrote, `review` what
    the 审核人 wrote, after a refusal."""
    page = round_page(get_session(), g.user, project, py, rnd, today(), current_app.config, soon_days())
    if typed is not None:
        page.form = typed
    context = dict(page=page, errors=errors or {}, message=message, review=review or {}, item_rows=ITEM_ROWS,
                   notice=notice)
    template = "_round.html" if wants_fragment() else "round.html"
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response


def _done(project, py, rnd: Round, notice: str):
    if wants_fragment():
        return render(project, py, rnd, notice=notice)
    flash(notice, "success")
    return redirect(url_for("rounds.show", project_id=project.id, period=rnd.key), 303)


def _conflict(project, py, rnd: Round, exc: RoundConflict, typed: dict | None = None):
    if wants_fragment():
        return render(project, py, rnd, 409, message=str(exc), typed=typed)
    flash(str(exc), "error")
    return redirect(url_for("rounds.show", project_id=project.id, period=rnd.key), 303)


@bp.post("/projects/<int:project_id>/monitoring/<period>")
@requires(*EDITORS)
def save(project_id: int, period: str):
    """The 填报人's texts: 保存 (a draft) or 提交审核."""
    project, py, rnd = _load(project_id, period)
    if not may_edit_actuals(g.user, project):
        abort(403)
    session = get_session()
    submit = request.form.get("action") == "submit"
    typed = {name: request.form.get(name, "") for name in ("goal_progress", "deviation", "correction", "version")}
    sheet = monitoring_sheet(session, project, py, sheet_month(py, rnd.month), today(), current_app.config)
    try:
        data = RoundInput.model_validate({**typed, "version": typed["version"] or None})
        with transaction(session):
            save_round(session, py, rnd, data, who(), g.user.role, now(), today(), submit=submit,
                       off_track=is_off_track(sheet))
    except ValidationError as exc:
        return render(project, py, rnd, 422, errors=field_errors(exc), typed=typed)
    except EntryError as exc:
        return render(project, py, rnd, 422, errors={exc.field or "goal_progress": str(exc)}, typed=typed)
    except RoundConflict as exc:
        return _conflict(project, py, rnd, exc, typed)
    return _done(project, py, rnd, "已提交本轮监控，等待主管部门审核。" if submit else "已保存（尚未提交）。")


@bp.post("/projects/<int:project_id>/monitoring/<period>/review")
@requires(*REVIEWERS)
def review(project_id: int, period: str):
    """The 审核人's decision: 通过, 退回 (comment required) or 需要整改 (整改 items required)."""
    project, py, rnd = _load(project_id, period)
    action = DECISIONS.get(request.form.get("decision", ""))
    if action is None:
        abort(400, description="请选择审核结论：通过、退回或需要整改")
    session = get_session()
    posted = {key: value for key, value in request.form.items() if key != "csrf_token"}
    items, errors = _items() if action == REQUIRE_RECTIFICATION else ([], {})
    if errors:
        return render(project, py, rnd, 422, errors=errors, review=posted)
    try:
        with transaction(session):
            row = submission_of(session, py.id, rnd.month)
            if row is None:
                raise RoundConflict("该项目本轮监控尚未提交，不能审核。")
            review_round(session, row, py, project, action, request.form.get("comment"), items, who(), g.user.role,
                         now(), today())
    except EntryError as exc:
        field = {"requirement": "requirement_1", "due": "due_1", "indicator_id": "indicator_1"}.get(exc.field, exc.field)
        return render(project, py, rnd, 422, errors={field or "comment": str(exc)}, review=posted)
    except RoundConflict as exc:
        return _conflict(project, py, rnd, exc)
    return _done(project, py, rnd, DONE[action])


def _items() -> tuple[list[RectificationInput], dict[str, str]]:
    """The 整改 rows of the review form that were filled in (`requirement_N`, `due_N`, `indicator_N`),
    and each refused field's message, named by its row."""
    items, errors = [], {}
    for n in range(1, ITEM_ROWS + 1):
        requirement, due = request.form.get(f"requirement_{n}", ""), request.form.get(f"due_{n}", "")
        if not requirement.strip() and not due.strip():
            continue
        try:
            items.append(RectificationInput.model_validate(
                {"indicator_id": request.form.get(f"indicator_{n}") or None, "requirement": requirement, "due": due}))
        except ValidationError as exc:
            errors |= {f"{'indicator' if name == 'indicator_id' else name}_{n}": message
                       for name, message in field_errors(exc).items()}
    return items, errors
