"""整改 items (DOMAIN.md §8) on pages: the list (/rectifications), one item (/rectifications/<id>),
raising one from the project page's 监控与整改 section, and its steps — the unit's 填报人 answers
(整改措施, 整改结果, evidence files), the 审核人 closes it with a 整改结论 or sends it back.

Evidence files are stored as an actual's are (models/evidence.py: checked by content, written
under EVIDENCE_DIR before the transaction, removed again if it fails; downloaded through
views/evidence.py to those who may see the project).

Answers (templates/base.html): the item's region (#rectification, or the project page's
#monitoring section) to htmx, the whole page otherwise; bad input 422 with what was typed kept;
a step that no longer fits (someone acted first) 409 to htmx, else a redirect with the message;
a role that may not 403 (checked before the scope: a 填报人 cannot raise or close an item);
another 主管部门's or unit's item 404.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from models.actual import EntryError
from models.bounds import parse_year, whole_number
from models.db import get_session, transaction
from models.evidence import EvidenceError, discard, file_path
from reads.rectifications import PAGE_FILTERS, rectification_counts, rectification_lines, rectification_page
from reads.rounds import project_monitoring, round_rules
from reads.scope import may_edit_actuals, rectification_in_scope
from reminders.settings import load as reminder_settings
from services.rectifications import (MAX_FILES, AnswerInput, CloseInput, RectificationConflict, RectificationInput,
                                     SendBackInput, answer_rectification, close_rectification, raise_rectification,
                                     send_back_rectification)
from views.actuals import field_errors
from views.auth import requires
from views.clock import now, today
from views.context import posted_project_year, who
from views.evidence import evidence_dir, store_uploads
from views.projects import wants_fragment

bp = Blueprint("rectifications", __name__)

EDITORS, REVIEWERS = ("admin", "manager"), ("admin", "supervisor")


def soon_days() -> int:
    return reminder_settings(get_session()).due_soon_days


@bp.get("/rectifications")
def index():
    show = request.args.get("show") or "active"
    if show not in PAGE_FILTERS:
        abort(400, description=f"show 应为 {'、'.join(PAGE_FILTERS)} 之一")
    year = parse_year(request.args.get("year"))
    session = get_session()
    lines = rectification_lines(session, g.user, today(), soon_days(), show=show, year=year)
    counts = rectification_counts(session, g.user, today(), year=year)
    return render_template("rectifications.html", lines=lines, counts=counts, show=show, year=year,
                           filters=PAGE_FILTERS)


# --------------------------------------------------------------------------- one item

def _item(rectification_id: int, fresh: bool = False):
    found = rectification_in_scope(get_session(), g.user, rectification_id, fresh)
    if found is None:
        abort(404)
    return found


@bp.get("/rectifications/<int:rectification_id>")
def show(rectification_id: int):
    return render(rectification_id)


def render(rectification_id: int, status: int = 200, errors: dict | None = None, typed: dict | None = None,
           message: str | None = None, notice: str | None = None):
    page = rectification_page(get_session(), g.user, rectification_id, today(), soon_days(),
                              round_rules(current_app.config))
    if page is None:
        abort(404)
    context = dict(page=page, errors=errors or {}, typed=typed or {}, message=message, notice=notice,
                   max_files=MAX_FILES)
    template = "_rectification.html" if wants_fragment() else "rectification.html"
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response


def _done(rectification_id: int, notice: str):
    if wants_fragment():
        return render(rectification_id, notice=notice)
    flash(notice, "success")
    return redirect(url_for("rectifications.show", rectification_id=rectification_id), 303)


def _conflict(rectification_id: int, exc: RectificationConflict, typed: dict | None = None):
    if wants_fragment():
        return render(rectification_id, 409, message=str(exc), typed=typed)
    flash(str(exc), "error")
    return redirect(url_for("rectifications.show", rectification_id=rectification_id), 303)


@bp.post("/rectifications/<int:rectification_id>/answer")
@requires(*EDITORS)
def answer(rectification_id: int):
    """The unit's 整改措施 and 整改结果, new evidence files and files to remove (`remove`)."""
    session = get_session()
    project = _item(rectification_id)[2]
    if not may_edit_actuals(g.user, project):
        abort(403)
    typed = {name: request.form.get(name, "") for name in ("measures", "result", "version")}
    uploads = [f for f in request.files.getlist("files") if f and f.filename]
    remove = [n for n in (whole_number(v) for v in request.form.getlist("remove")) if n is not None]
    try:
        data = AnswerInput.model_validate({**typed, "version": typed["version"] or None})
    except ValidationError as exc:
        return render(rectification_id, 422, errors=field_errors(exc), typed=typed)
    if len(uploads) > MAX_FILES:
        return render(rectification_id, 422, errors={"files": f"一次最多上传 {MAX_FILES} 个文件"}, typed=typed)
    session.commit()                 # end the read: files are written outside any transaction
    try:
        stored = store_uploads(uploads)
    except EvidenceError as exc:
        return render(rectification_id, 422, errors={"files": str(exc)}, typed=typed)
    try:
        with transaction(session):
            item, _py, _project = _item(rectification_id, fresh=True)
            removed = answer_rectification(session, item, data, stored, remove, who(), g.user.role, now())
    except EntryError as exc:
        discard(stored)
        return render(rectification_id, 422, errors={exc.field or "measures": str(exc)}, typed=typed)
    except RectificationConflict as exc:
        discard(stored)
        return _conflict(rectification_id, exc, typed)
    except BaseException:
        discard(stored)
        raise
    for row in removed:              # after the commit: a failed answer keeps its files
        file_path(evidence_dir(), row).unlink(missing_ok=True)
    return _done(rectification_id, "已提交整改情况，等待主管部门审核。")


@bp.post("/rectifications/<int:rectification_id>/close")
@requires(*REVIEWERS)
def close(rectification_id: int):
    return _review(rectification_id, CloseInput, "conclusion",
                   lambda session, item, data: close_rectification(session, item, data, who(), g.user.role, now()),
                   "已关闭该整改事项。")


@bp.post("/rectifications/<int:rectification_id>/return")
@requires(*REVIEWERS)
def send_back(rectification_id: int):
    return _review(rectification_id, SendBackInput, "comment",
                   lambda session, item, data: send_back_rectification(session, item, data, who(), g.user.role, now(),
                                                                       today()),
                   "已退回整改情况，等待实施单位重新整改。")


def _review(rectification_id: int, model, field: str, act, notice: str):
    _item(rectification_id)
    session = get_session()
    typed = {name: request.form.get(name, "") for name in ("conclusion", "comment", "due")}
    try:
        data = model.model_validate({k: v for k, v in typed.items() if k in model.model_fields})
        with transaction(session):
            item, _py, _project = _item(rectification_id, fresh=True)
            act(session, item, data)
    except ValidationError as exc:
        return render(rectification_id, 422, errors=field_errors(exc), typed=typed)
    except EntryError as exc:
        return render(rectification_id, 422, errors={exc.field or field: str(exc)}, typed=typed)
    except RectificationConflict as exc:
        return _conflict(rectification_id, exc)
    return _done(rectification_id, notice)


# --------------------------------------------------------------------------- raising one on the project page

@bp.post("/projects/<int:project_id>/rectifications")
@requires(*REVIEWERS)
def create(project_id: int):
    session = get_session()
    project, py = posted_project_year(session, project_id)
    typed = {name: request.form.get(name, "") for name in ("indicator_id", "requirement", "due")}
    try:
        data = RectificationInput.model_validate(typed)
        with transaction(session):
            item = raise_rectification(session, py, project, data, who(), g.user.role, now(), today())
    except ValidationError as exc:
        return _section(project, py, 422, errors=field_errors(exc), typed=typed)
    except EntryError as exc:
        return _section(project, py, 422, errors={exc.field or "requirement": str(exc)}, typed=typed)
    notice = f"已提出整改事项（第{item.id}号），期限 {item.due.isoformat()}。"
    if wants_fragment():
        return _section(project, py, notice=notice)
    flash(notice, "success")
    return redirect(url_for("projects.show", project_id=project.id, year=py.year) + "#monitoring", 303)


def _section(project, py, status: int = 200, errors: dict | None = None, typed: dict | None = None,
             notice: str | None = None):
    """The project page's 监控与整改 section to htmx; the whole project page otherwise."""
    if not wants_fragment():
        from views.projects import render_project
        return render_project(project.id, py.year, None, status=status,
                              monitoring_state={"errors": errors or {}, "typed": typed or {}})
    monitoring = project_monitoring(get_session(), g.user, project, py, today(), current_app.config, soon_days())
    return render_template("_project_monitoring.html", monitoring=monitoring, editable=may_edit_actuals(g.user, project),
                           monitoring_state={"errors": errors or {}, "typed": typed or {}, "notice": notice}), status
