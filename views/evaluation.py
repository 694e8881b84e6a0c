"""The year-end self-evaluation page (绩效自评, DOMAIN.md §5) and its review.

`/projects/<id>/evaluation?year=` shows the score table as of the year's end (during the year:
as of today, marked provisional), the review's state and every step. Who does what:

* the unit's 填报人 (and an admin) edit weights and 偏差原因分析及改进措施 while the evaluation is
  a draft or returned, submit it, and withdraw it while it waits;
* a 审核人 in scope (and an admin) set qualitative scores within their band, approve, or return
  with a required comment; an admin may also withdraw an approved one (reopen).

Answers (templates/base.html): bad input 422 with the page and its message; a step that no
longer fits the state (another reviewer acted first) 409 to htmx, else a redirect with the
message; a role that may not 403 (checked before the scope); another unit's project 404.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from domain import rules
from domain.review import APPROVE, APPROVED, EDITABLE_STATES, RETURN, STATE_LABELS, SUBMIT, SUBMITTED, WITHDRAW
from models.actual import EntryError
from models.bounds import parse_year, whole_number
from models.db import get_session, transaction
from models.org import Department, Unit
from reads.export_scope import visible_project_year
from reads.scope import may_edit_actuals, may_evaluate
from reads.self_evaluation import review_state, review_steps, score_table
from reads.wording import user_labels
from services.self_evaluation import ReviewConflict, move_review, save_self_evaluation, set_evaluator_score
from views.auth import requires
from views.clock import now, today
from views.context import bands, who

bp = Blueprint("evaluation", __name__)

EDITORS, EVALUATORS = ("admin", "manager"), ("admin", "supervisor")
ROLE_LABELS = {"admin": "管理员", "manager": "填报人", "supervisor": "审核人"}


def evaluation_date(year: int) -> date:
    """The year's end, or today while the year runs (a provisional evaluation)."""
    return min(today(), date(year, 12, 31))


def load(project_id: int):
    """(Project, ProjectYear) of `?year=` (or the posted year; default the latest) in scope, else 404."""
    year = parse_year(request.values.get("year"))
    found = visible_project_year(get_session(), g.user, project_id, year)
    if found is None:
        abort(404)
    return found


def render(project, py, status: int = 200, error: str | None = None, form: dict | None = None):
    session = get_session()
    as_of = evaluation_date(py.year)
    table = score_table(session, py, as_of, bands())
    state = review_state(session, py)
    steps = review_steps(session, py)
    may_edit = may_edit_actuals(g.user, project)
    context = dict(
        project=project, py=py, table=table, state=state, state_label=STATE_LABELS[state], steps=steps,
        labels=user_labels(session, [s.who for s in steps]), role_labels=ROLE_LABELS,
        unit=session.get(Unit, project.unit_id), department=session.get(Department, py.department_id),
        may_edit=may_edit and state in EDITABLE_STATES, may_submit=may_edit and state in EDITABLE_STATES,
        may_withdraw=(may_edit and state == SUBMITTED) or (g.user.role == "admin" and state in (SUBMITTED, APPROVED)),
        may_review=may_evaluate(g.user) and state == SUBMITTED,
        may_score=may_evaluate(g.user) and state != APPROVED,
        provisional=as_of < date(py.year, 12, 31), error=error, form=form or {}, bands=bands())
    return render_template("evaluation.html", **context), status


@bp.get("/projects/<int:project_id>/evaluation")
def show(project_id: int):
    project, py = load(project_id)
    return render(project, py)


def _done(project, py, message: str):
    flash(message, "success")
    return redirect(url_for("evaluation.show", project_id=project.id, year=py.year), 303)


def _conflict(project, py, exc: ReviewConflict):
    if request.headers.get("HX-Request") == "true":
        return render(project, py, 409, str(exc))
    flash(str(exc), "error")
    return redirect(url_for("evaluation.show", project_id=project.id, year=py.year), 303)


def _posted(prefix: str) -> dict[int, str]:
    values = {}
    for key, value in request.form.items():
        indicator_id = whole_number(key[len(prefix):]) if key.startswith(prefix) else None
        if indicator_id is not None:
            values[indicator_id] = value
    return values


@bp.post("/projects/<int:project_id>/evaluation")
@requires(*EDITORS)
def save(project_id: int):
    """The 填报人's weights and 偏差原因分析及改进措施."""
    project, py = load(project_id)
    if not may_edit_actuals(g.user, project):
        abort(403)
    weights, notes = _posted("weight_"), _posted("note_")
    session = get_session()
    try:
        with transaction(session):
            save_self_evaluation(session, py, weights, notes, who(), now(), evaluation_date(py.year))
    except EntryError as exc:
        return render(project, py, 422, str(exc), {"weights": weights, "notes": notes})
    except ReviewConflict as exc:
        return _conflict(project, py, exc)
    return _done(project, py, "已保存权重和偏差原因分析。")


@bp.post("/projects/<int:project_id>/evaluation/scores")
@requires(*EVALUATORS)
def scores(project_id: int):
    """The 审核人's scores of qualitative indicators, each within its band (blank: the band's top)."""
    project, py = load(project_id)
    session = get_session()
    posted = _posted("score_")
    try:
        with transaction(session):
            if review_state(session, py) == APPROVED:
                raise ReviewConflict("自评已通过，评分已锁定；如需修改，请管理员先撤回。")
            from models.indicator import Indicator
            for indicator_id, raw in posted.items():
                ind = session.get(Indicator, indicator_id)
                if ind is None or ind.project_year_id != py.id:
                    continue
                raw = raw.strip()
                current = None if ind.eval_score is None else rules.for_display(ind.eval_score)
                if (raw or None) is None and current is None:
                    continue
                try:
                    value = None if not raw else rules.for_display(raw)
                except ValueError as exc:
                    raise EntryError(f"“{ind.name}”的评分：{exc}", "score") from exc
                if value == current:
                    continue
                set_evaluator_score(session, py, ind, value, evaluation_date(py.year))
    except EntryError as exc:
        return render(project, py, 422, str(exc), {"scores": posted})
    except ReviewConflict as exc:
        return _conflict(project, py, exc)
    return _done(project, py, "已保存评分。")


def _step(project_id: int, action: str, allowed, message: str):
    project, py = load(project_id)
    if not allowed(project):
        abort(403)
    session = get_session()
    try:
        with transaction(session):
            move_review(session, py, action, who(), g.user.role, now(), request.form.get("comment"))
    except EntryError as exc:
        return render(project, py, 422, str(exc), {"comment": request.form.get("comment", "")})
    except ReviewConflict as exc:
        return _conflict(project, py, exc)
    return _done(project, py, message)


@bp.post("/projects/<int:project_id>/evaluation/submit")
@requires(*EDITORS)
def submit(project_id: int):
    return _step(project_id, SUBMIT, lambda p: may_edit_actuals(g.user, p), "已提交自评，等待审核人审核。")


@bp.post("/projects/<int:project_id>/evaluation/approve")
@requires(*EVALUATORS)
def approve(project_id: int):
    return _step(project_id, APPROVE, lambda p: True, "已通过该项目的绩效自评。")


@bp.post("/projects/<int:project_id>/evaluation/return")
@requires(*EVALUATORS)
def send_back(project_id: int):
    return _step(project_id, RETURN, lambda p: True, "已退回该项目的绩效自评。")


@bp.post("/projects/<int:project_id>/evaluation/withdraw")
@requires(*EDITORS)
def withdraw(project_id: int):
    """The 填报人 takes back a submission that waits; an admin also reopens an approved one."""
    project, py = load(project_id)
    if g.user.role != "admin" and review_state(get_session(), py) == APPROVED:
        return _conflict(project, py, ReviewConflict("自评已通过，只有管理员可以撤回。"))
    return _step(project_id, WITHDRAW, lambda p: may_edit_actuals(g.user, p), "已撤回自评，可以继续修改。")
