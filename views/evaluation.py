"""The year-end self-evaluation page (绩效自评, DOMAIN.md §5) and its review.

`/projects/<id>/evaluation?year=` shows the score table as of the year's end (during the year:
as of today, marked provisional), the review's state and every step. Who does what:

* the unit's 填报人 (and an admin) edit weights, 偏差原因分析及改进措施, the reason for a 执行率
  below 90 %, why periods were not entered and the form's texts (the 年度总体目标's 实际完成情况,
  评价结论, 存在问题, 改进措施; everyone in scope reads them) while the evaluation is a draft or returned,
  submit it, and withdraw it while it waits;
* a 审核人 in scope (and an admin) — the evaluator — set qualitative scores within their band
  (until then the band's middle is suggested, marked 建议), deduct for a target set too low on a
  超额 indicator, change the 一级 weights with a reason, approve, or return with a required
  comment; an admin may also withdraw an approved one (reopen);
* submitting and approving wait until nothing is missing: the page lists what (422 with the list).

Answers (templates/base.html): bad input 422 with the page and its message; a step that no
longer fits the state (another reviewer acted first) 409 to htmx, else a redirect with the
message; a role that may not 403 (checked before the scope); another unit's project 404.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from domain.review import APPROVE, APPROVED, EDITABLE_STATES, RETURN, STATE_LABELS, SUBMIT, SUBMITTED, WITHDRAW
from models.actual import EntryError
from models.bounds import parse_year, whole_number
from models.db import get_session, transaction
from models.org import Department, Unit
from models.user import ROLES
from reads.export_scope import visible_project_year
from reads.scope import may_edit_actuals, may_evaluate
from reads.self_evaluation import review_state, review_steps, score_table
from reads.wording import user_labels
from models.evaluation import STATEMENT_TEXTS, WEIGHT_COLUMNS
from services.self_evaluation import (NotReady, ReviewConflict, move_review, save_evaluator_part, save_self_evaluation,
                                      set_level_weights)
from views.auth import requires
from views.clock import now, today
from views.context import bands, who

bp = Blueprint("evaluation", __name__)

EDITORS, EVALUATORS = ("admin", "manager"), ("admin", "supervisor")
# the 自评表's texts the 填报人 writes in the panel below the table (the 执行率's reason is in it)
FORM_TEXTS = {column: label for column, label in STATEMENT_TEXTS.items() if column != "execution_reason"}


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


def render(project, py, status: int = 200, error: str | None = None, form: dict | None = None,
           problems: list[str] | None = None):
    session = get_session()
    as_of = evaluation_date(py.year)
    table = score_table(session, py, as_of, bands())
    state = review_state(session, py)
    steps = review_steps(session, py)
    may_edit = may_edit_actuals(g.user, project)
    context = dict(
        project=project, py=py, table=table, state=state, state_label=STATE_LABELS[state], steps=steps,
        labels=user_labels(session, [s.who for s in steps] + [w.set_by for w in table.weights_history]),
        role_labels=ROLES,
        unit=session.get(Unit, project.unit_id), department=session.get(Department, py.department_id),
        may_edit=may_edit and state in EDITABLE_STATES, may_submit=may_edit and state in EDITABLE_STATES,
        may_withdraw=(may_edit and state == SUBMITTED) or (g.user.role == "admin" and state in (SUBMITTED, APPROVED)),
        may_review=may_evaluate(g.user) and state == SUBMITTED,
        may_score=may_evaluate(g.user) and state != APPROVED,
        provisional=as_of < date(py.year, 12, 31), error=error, problems=problems or [], form=form or {},
        bands=bands(), weight_columns=WEIGHT_COLUMNS, form_texts=FORM_TEXTS)
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
    """The 填报人's weights, 偏差原因分析及改进措施, the reason for a low 执行率, why periods
    were not entered, and the form's texts (实际完成情况, 评价结论, 存在问题, 改进措施)."""
    project, py = load(project_id)
    if not may_edit_actuals(g.user, project):
        abort(403)
    weights, notes, explanations = _posted("weight_"), _posted("note_"), _posted("gap_")
    reason = request.form.get("execution_reason")
    texts = {column: request.form[column] for column in FORM_TEXTS if column in request.form}
    session = get_session()
    try:
        with transaction(session):
            save_self_evaluation(session, py, weights, notes, who(), now(), evaluation_date(py.year), reason,
                                 explanations, texts)
    except EntryError as exc:
        return render(project, py, 422, str(exc), {"weights": weights, "notes": notes, "gaps": explanations,
                                                   "execution_reason": reason, "texts": texts})
    except ReviewConflict as exc:
        return _conflict(project, py, exc)
    return _done(project, py, "已保存权重、偏差原因分析和说明。")


@bp.post("/projects/<int:project_id>/evaluation/scores")
@requires(*EVALUATORS)
def scores(project_id: int):
    """The evaluator's scores of qualitative indicators, each within its band (blank: the band's
    suggested middle), and deductions for a target set too low on 超额 indicators, with a reason."""
    project, py = load(project_id)
    session = get_session()
    posted = _posted("score_")
    deductions = {ind_id: (raw, request.form.get(f"deduct_reason_{ind_id}", ""))
                  for ind_id, raw in _posted("deduct_").items()}
    try:
        with transaction(session):
            save_evaluator_part(session, py, posted, deductions, evaluation_date(py.year))
    except EntryError as exc:
        return render(project, py, 422, str(exc), {"scores": posted, "deductions": deductions})
    except ReviewConflict as exc:
        return _conflict(project, py, exc)
    return _done(project, py, "已保存评分。")


@bp.post("/projects/<int:project_id>/evaluation/weights")
@requires(*EVALUATORS)
def level_weights(project_id: int):
    """A 审核人's 一级 weights for this project year, with the reason (together 100)."""
    project, py = load(project_id)
    session = get_session()
    posted = {name: request.form.get(column, "").strip() for name, column in WEIGHT_COLUMNS.items()}
    reason = request.form.get("weights_reason", "")
    try:
        with transaction(session):
            set_level_weights(session, py, posted, reason, who(), g.user.role, now(), evaluation_date(py.year))
    except EntryError as exc:
        return render(project, py, 422, str(exc), {"level_weights": posted, "weights_reason": reason})
    except ReviewConflict as exc:
        return _conflict(project, py, exc)
    return _done(project, py, "已调整一级指标分值。")


def _step(project_id: int, action: str, allowed, message: str):
    project, py = load(project_id)
    if not allowed(project):
        abort(403)
    session = get_session()
    try:
        with transaction(session):
            move_review(session, py, action, who(), g.user.role, now(), request.form.get("comment"),
                        evaluation_date(py.year))
    except NotReady as exc:
        return render(project, py, 422, f"自评尚不能{exc.action}，请先补齐以下内容：", problems=exc.problems)
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
