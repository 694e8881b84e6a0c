"""The 监控报告 of a 实施单位 for a monitoring round (DOMAIN.md §8): its page
(/units/<id>/monitoring-report/2023-07), where the unit's 填报人 edits the draft — first written
from the round's figures — and submits it; the printable A4 page; the .docx.

After submission the report is read-only. The 审核人 of the unit's 主管部门 reads it and may return
it with a comment (then the 填报人 edits and submits again); there is no approval step: the report
informs the 主管部门, each project's monitoring is reviewed on its own round page.

Answers as views/rounds.py: the report's region (#report) to htmx, the whole page otherwise; bad
input 422 with what was typed kept; a step that no longer fits 409 to htmx, else a redirect with
the message; a role that may not 403 (before the scope); another unit 404.
"""
from __future__ import annotations

from io import BytesIO
from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, send_file, url_for
from pydantic import ValidationError

from domain.monitoring_report import SECTIONS
from models.actual import EntryError, parse_period
from models.db import get_session, transaction
from reads.monitoring_report import (figures_date, may_edit_report, report_page, report_round, unit_in_scope)
from reads.monitoring_report_docx import report_docx
from reads.wording import day_text
from services.monitoring_report import ReportConflict, ReportInput, report_of, return_report, save_report
from views.actuals import field_errors
from views.auth import requires
from views.clock import local_time, now, today
from views.context import who
from views.projects import wants_fragment
from views.rounds import EDITORS, REVIEWERS, soon_days

bp = Blueprint("monitoring_report", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FIELDS = tuple(name for name, _heading in SECTIONS)


def _load(unit_id: int, period: str):
    """(Unit, Department, Round) of the URL within the user's scope; 404 otherwise."""
    try:
        year, month = parse_period(period)
    except EntryError as exc:
        abort(400, description=str(exc))
    session = get_session()
    found = unit_in_scope(session, g.user, unit_id)
    if found is None:
        abort(404)
    rnd = report_round(session, unit_id, year, month, current_app.config)
    if rnd is None:
        abort(404, description=f"{year}年没有截至{month}月末的监控轮次")
    return (*found, rnd)


def _page(unit, department, rnd):
    return report_page(get_session(), g.user, unit, department, rnd, today(), current_app.config, soon_days())


@bp.get("/units/<int:unit_id>/monitoring-report/<period>")
def show(unit_id: int, period: str):
    return render(*_load(unit_id, period))


def render(unit, department, rnd, status: int = 200, errors: dict | None = None, typed: dict | None = None,
           message: str | None = None, notice: str | None = None, comment: str = ""):
    page = _page(unit, department, rnd)
    if typed is not None:
        page.form = typed
    context = dict(page=page, errors=errors or {}, message=message, notice=notice, comment=comment)
    template = "_monitoring_report.html" if wants_fragment() else "monitoring_report.html"
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response


def _done(unit, department, rnd, notice: str):
    if wants_fragment():
        return render(unit, department, rnd, notice=notice)
    flash(notice, "success")
    return redirect(url_for("monitoring_report.show", unit_id=unit.id, period=rnd.key), 303)


def _conflict(unit, department, rnd, exc: ReportConflict, typed: dict | None = None):
    if wants_fragment():
        return render(unit, department, rnd, 409, message=str(exc), typed=typed)
    flash(str(exc), "error")
    return redirect(url_for("monitoring_report.show", unit_id=unit.id, period=rnd.key), 303)


@bp.post("/units/<int:unit_id>/monitoring-report/<period>")
@requires(*EDITORS)
def save(unit_id: int, period: str):
    """The 填报人's sections: 保存 (the draft) or 提交."""
    unit, department, rnd = _load(unit_id, period)
    if not may_edit_report(g.user, unit):
        abort(403)
    session = get_session()
    submit = request.form.get("action") == "submit"
    typed = {name: request.form.get(name, "") for name in (*FIELDS, "version")}
    try:
        data = ReportInput.model_validate({**typed, "version": typed["version"] or None})
        with transaction(session):
            save_report(session, unit.id, rnd, data, who(), g.user.role, now(), today(), submit=submit,
                        figures_on=figures_date(rnd, today()))
    except ValidationError as exc:
        return render(unit, department, rnd, 422, errors=field_errors(exc), typed=typed)
    except EntryError as exc:
        return render(unit, department, rnd, 422, errors={exc.field or "overview": str(exc)}, typed=typed)
    except ReportConflict as exc:
        return _conflict(unit, department, rnd, exc, typed)
    return _done(unit, department, rnd, "已提交监控报告，主管部门可以查阅。" if submit else "已保存（尚未提交）。")


@bp.post("/units/<int:unit_id>/monitoring-report/<period>/return")
@requires(*REVIEWERS)
def send_back(unit_id: int, period: str):
    """The 审核人 returns a submitted report with a comment."""
    unit, department, rnd = _load(unit_id, period)
    session = get_session()
    comment = request.form.get("comment", "")
    try:
        with transaction(session):
            row = report_of(session, unit.id, rnd.year, rnd.month)
            if row is None:
                raise ReportConflict("该单位本轮监控报告尚未提交，不能退回。")
            return_report(session, row, comment, who(), g.user.role, now())
    except EntryError as exc:
        return render(unit, department, rnd, 422, errors={"comment": str(exc)}, comment=comment)
    except ReportConflict as exc:
        return _conflict(unit, department, rnd, exc)
    return _done(unit, department, rnd, "已退回监控报告，等待实施单位修改后重新提交。")


@bp.get("/units/<int:unit_id>/monitoring-report/<period>/print")
def print_report(unit_id: int, period: str):
    return render_template("print_monitoring_report.html", page=_page(*_load(unit_id, period)))


@bp.get("/units/<int:unit_id>/monitoring-report/<period>/report.docx")
def docx(unit_id: int, period: str):
    page = _page(*_load(unit_id, period))
    signed = (day_text(date.fromisoformat(local_time(page.report.submitted_at, "%Y-%m-%d")))
              if page.state == "submitted" else None)
    response = send_file(BytesIO(report_docx(page, signed)), mimetype=DOCX, as_attachment=True,
                         download_name=f"{page.title}.docx")
    response.headers["Cache-Control"] = "private, no-store"
    return response
