"""Recording actuals and budget spending on the project page (DOMAIN.md §3–§4).

Each annual indicator's row of the project page carries an inline form; htmx posts it and
swaps back the row (templates/_actual_row.html) with the new light. Without JavaScript the
same form posts the whole page and is redirected back to the row. The answers follow
templates/base.html:

* 422: bad input (letters, NaN/∞, a negative count, a unit of another base, no 偏差原因 where
  the light is not green …): the row again with the Chinese message beside the field and what
  the user typed; nothing is stored.
* 409: someone saved this value since the page was loaded (StaleEdit): the row shows who, the
  value now stored, and keeps what the user typed, with the form now based on the current
  version — saving again is a deliberate overwrite, and nothing is lost either way.
* 400: a period that is not one of the project's (month 13, another year, July of a
  quarterly project); 403: a 审核人 (reads only); 404: another unit's indicator.

Who: `may_edit_actuals` — the 实施单位's 填报人 and an admin. Everything is read through the
scope of reads/scope.py.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from domain import rules
from domain.calendar import PERIODS_LABELS, YearCalendar, period_label
from domain.indicators import effective_measure
from domain.units import SPENDING_UNITS
from models.actual import (ActualInput, EntryError, StaleEdit, actual_of, check_period, parse_period, spending_amount_yuan,
                           spending_of, validation_message)
from models.bounds import parse_year, whole_number
from models.db import get_session, transaction
from reads.actual_history import actual_history
from reads.scope import indicator_in_scope, may_edit_actuals, project_year_in_scope
from reads.wording import plain_number, user_label
from reads.tracking import entry_rows, spending_row
from services.entry import record_actual, record_spending
from services.tracking import set_measure, set_periods
from views.auth import requires
from views.clock import deadline_day, today
from views.context import entry_context
from views.entry_forms import RowState, budget_form_values, form_values
from views.projects import render_project, wants_fragment

bp = Blueprint("actuals", __name__)

EDITORS = ("admin", "manager")
ENTRY_FIELDS = ("value", "unit", "assessment", "forecast", "deviation_note", "likelihood", "note", "over_reason",
                "version")


# --------------------------------------------------------------------------- loading

def editable_indicator(session, indicator_id: int):
    """(Project, ProjectYear, Indicator) the user may record for: 404 outside the scope, 403 for
    someone who only reads it."""
    found = indicator_in_scope(session, g.user, indicator_id)
    if found is None:
        abort(404)
    if not may_edit_actuals(g.user, found[0]):
        abort(403)
    return found


def period_of(py, raw: str | None) -> int:
    """The month of a posted or requested `period` (YYYY-MM) of this project year; 400 otherwise."""
    try:
        year, month = parse_period(raw)
        check_period(py, year, month)
    except EntryError as exc:
        abort(400, description=str(exc))
    return month


def row_of(session, project, py, ind, month: int):
    return entry_rows(session, g.user, project, py, [ind], month, today(), deadline_day())[0]


def posted_entry() -> dict:
    values = {name: request.form.get(name, "") for name in ENTRY_FIELDS}
    values["deviation_reasons"] = request.form.getlist("deviation_reasons")
    return values


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Each field's Chinese message (the one mapper, models.actual.validation_message)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "value"
        errors.setdefault(name, validation_message(_OneError(error)))
    return errors


class _OneError:
    def __init__(self, error):
        self._error = error

    def errors(self):
        return [self._error]


def anchor_url(project, py, month: int, anchor: str) -> str:
    return url_for("projects.show", project_id=project.id, year=py.year,
                   period=f"{py.year}-{month:02d}") + f"#{anchor}"


def row_answer(session, project, py, ind, month: int, state: RowState, status: int = 200):
    """The row to htmx; the whole page (with this row's state) to a plain form post."""
    if wants_fragment():
        row = row_of(session, project, py, ind, month)
        state.form = state.form or form_values(row)
        return render_template("_actual_row.html", row=row, state=state, editable=True, project=project, py=py,
                               month=month, period=f"{py.year}-{month:02d}"), status
    return render_project(project.id, py.year, month, status=status, states={ind.id: state})


# --------------------------------------------------------------------------- an indicator's actual

@bp.post("/indicators/<int:indicator_id>/actual")
@requires(*EDITORS)
def record(indicator_id: int):
    session = get_session()
    project, py, ind = editable_indicator(session, indicator_id)
    month = period_of(py, request.form.get("period"))
    typed = posted_entry()
    try:
        data = ActualInput.model_validate({**typed, "version": typed["version"] or None},
                                          context={"measure": effective_measure(ind)})
    except ValidationError as exc:
        return row_answer(session, project, py, ind, month, RowState(typed, field_errors(exc)), 422)
    try:
        with transaction(session):
            actual = record_actual(session, ind, py, py.year, month, data, entry_context())
    except EntryError as exc:
        return row_answer(session, project, py, ind, month, RowState(typed, {exc.field or "value": str(exc)}), 422)
    except StaleEdit as exc:
        current = actual_of(session, ind.id, month)
        shown = current and (current.assessment or f"{plain_number(current.value)}{current.unit or ''}")
        return row_answer(session, project, py, ind, month, conflict_state(session, current, shown, typed, exc), 409)
    notice = f"已保存{period_label(py.year, month, py.periods)}的实际值"
    if wants_fragment():
        return row_answer(session, project, py, ind, month, RowState(notice=notice))
    flash(f"{ind.name}：{notice}（{_light_word(actual.light)}灯）。", "success")
    return redirect(anchor_url(project, py, month, f"ind-{ind.id}"), 303)


def conflict_state(session, current, shown: str | None, typed: dict, exc: StaleEdit) -> RowState:
    """The other person's value (`current`, the stored actual or spending, None when removed since;
    `shown`, its value as text) is what the row shows as stored; the form keeps what this user
    typed, now based on the current version, so saving it again is a deliberate overwrite."""
    if current is None:
        return RowState({**typed, "version": 0}, conflict="该数值已被他人删除。您填写的内容保留在下方，请核对后再次保存。")
    message = (f"该数值已被{user_label(session, exc.updated_by)}修改，当前为 {shown}。"
               "您填写的内容保留在下方，核对后再次保存将以您的填写为准。")
    return RowState({**typed, "version": current.version}, conflict=message)


def _light_word(light: str | None) -> str:
    return {"green": "绿", "yellow": "黄", "red": "红", "grey": "灰"}.get(light or "", "—")


@bp.post("/indicators/<int:indicator_id>/measure")
@requires(*EDITORS)
def measure(indicator_id: int):
    session = get_session()
    project, py, ind = editable_indicator(session, indicator_id)
    month = period_of(py, request.form.get("period")) if request.form.get("period") else YearCalendar(py.year, py.periods).default_month(today())
    choice = request.form.get("measure", "")
    try:
        with transaction(session):
            changed = set_measure(session, ind, py, choice, entry_context())
    except EntryError as exc:
        return row_answer(session, project, py, ind, month, RowState(errors={"measure": str(exc)}), 422)
    label = rules.MEASURE_LABELS[effective_measure(ind)]
    notice = (f"计量方式已改为{label}" + ("（默认）" if not choice else "") + "，已有的实际值已重新判断"
              if changed else f"计量方式仍为{label}")
    if wants_fragment():
        return row_answer(session, project, py, ind, month, RowState(notice=notice))
    flash(f"{ind.name}：{notice}。", "success")
    return redirect(anchor_url(project, py, month, f"ind-{ind.id}"), 303)


@bp.get("/indicators/<int:indicator_id>/history")
def history(indicator_id: int):
    session = get_session()
    found = indicator_in_scope(session, g.user, indicator_id)
    if found is None:
        abort(404)
    project, py, ind = found
    changes = actual_history(session, ind, py)
    if wants_fragment():
        response = render_template("_actual_history.html", changes=changes, ind=ind, project=project, py=py)
    else:
        month = YearCalendar(py.year, py.periods).default_month(today())
        if request.args.get("period"):
            month = period_of(py, request.args.get("period"))
        row = row_of(session, project, py, ind, month)
        response = render_template("actual_history.html", changes=changes, ind=ind, project=project, py=py, row=row,
                                   month=month)
    answer = current_app.make_response(response)
    answer.vary.add("HX-Request")
    return answer


# --------------------------------------------------------------------------- spending and periods

def editable_year(session, project_id: int, year: int):
    found = project_year_in_scope(session, g.user, project_id, year)
    if found is None:
        abort(404)
    if not may_edit_actuals(g.user, found[0]):
        abort(403)
    return found


def budget_answer(session, project, py, month: int, state: RowState, status: int = 200):
    if wants_fragment():
        budget = spending_row(session, py, month, today(), deadline_day())
        state.form = state.form or budget_form_values(budget.spending)
        return render_template("_budget.html", budget=budget, state=state, editable=True, project=project, py=py,
                               month=month, period=f"{py.year}-{month:02d}"), status
    return render_project(project.id, py.year, month, status=status, budget_state=state)


@bp.post("/projects/<int:project_id>/spending")
@requires(*EDITORS)
def spending(project_id: int):
    session = get_session()
    try:
        year, _month = parse_period(request.form.get("period"))
    except EntryError as exc:
        abort(400, description=str(exc))
    project, py = editable_year(session, project_id, year)
    month = period_of(py, request.form.get("period"))
    typed = {name: request.form.get(name, "") for name in ("amount", "unit", "note", "version")}
    try:
        amount = spending_amount_yuan(typed["amount"], typed["unit"] or "元")
        version = whole_number(typed["version"])
        with transaction(session):
            row = record_spending(session, py, py.year, month, amount, entry_context(), version, note=typed["note"])
    except EntryError as exc:
        return budget_answer(session, project, py, month, RowState(typed, {exc.field or "amount": str(exc)}), 422)
    except StaleEdit as exc:
        current = spending_of(session, py.id, month)
        shown = current and f"{plain_number(current.amount_yuan)} 元"
        return budget_answer(session, project, py, month, conflict_state(session, current, shown, typed, exc), 409)
    notice = f"已保存{period_label(py.year, month, py.periods)}的累计支出"
    if wants_fragment():
        return budget_answer(session, project, py, month, RowState(notice=notice))
    flash(f"{notice}（{_light_word(row.light)}灯）。", "success")
    return redirect(anchor_url(project, py, month, "budget"), 303)


@bp.post("/projects/<int:project_id>/periods")
@requires(*EDITORS)
def periods(project_id: int):
    session = get_session()
    year = parse_year(request.form.get("year"))
    if year is None:
        abort(400, description="请选择年度")
    project, py = editable_year(session, project_id, year)
    choice = request.form.get("periods", "")
    try:
        with transaction(session):
            set_periods(session, py, choice, entry_context())
    except EntryError as exc:
        abort(400, description=str(exc))
    flash(f"{py.year}年度改为{PERIODS_LABELS[choice]}填报。", "success")
    return redirect(url_for("projects.show", project_id=project.id, year=py.year) + "#tracking", 303)


# --------------------------------------------------------------------------- what the templates use

@bp.app_template_global("indicator_chart")
def chart_of(row, month: int, size: str = "small"):
    from views.charts import indicator_chart
    ind = row.indicator
    return indicator_chart(ind.name, row.measure, ind.annual_value, ind.annual_unit, row.points, month, size)


@bp.app_context_processor
def entry_choices() -> dict:
    from models.actual import DEVIATION_REASONS, LIKELIHOODS, SPENDING_NOTE_EXAMPLES
    from models.evidence import ACCEPT
    return {"DEVIATION_REASONS": DEVIATION_REASONS, "LIKELIHOODS": LIKELIHOODS, "ASSESSMENTS": rules.ASSESSMENTS,
            "MEASURE_LABELS": rules.MEASURE_LABELS, "PERIODS_LABELS": PERIODS_LABELS, "SPENDING_UNITS": SPENDING_UNITS,
            "SPENDING_NOTE_EXAMPLES": SPENDING_NOTE_EXAMPLES, "EVIDENCE_ACCEPT": ACCEPT}


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    from models.evidence import size_label
    return size_label(size)


@bp.app_template_filter("plain")
def plain(value) -> str:
    return plain_number(value)
