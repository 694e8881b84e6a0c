"""Budget adjustments on the project page (DOMAIN.md §7): the 预算调整 section's form posts here.

htmx swaps the section back and, out of band, the budget row of the entry section (its
调整后预算数, 执行率 and light follow the adjustment); without JavaScript the whole page comes
back (303 to the section). As templates/base.html decides: 422 with the section again, each
message beside its field and what was typed kept, nothing stored; 400 for a year or period that
is not the project's; 403 for someone who only reads the project (a 审核人); 404 outside the
scope. Who: the 实施单位's 填报人 and admins (`may_edit_actuals`), as on the API.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from pydantic import ValidationError

from domain.calendar import YearCalendar
from models.actual import EntryError
from models.db import get_session, transaction
from reads.adjustments import adjustment_history
from reads.tracking import spending_row
from reads.wording import wan_text
from services.adjustment import (AMOUNT_UNITS, FIELD_NAMES, KINDS, AdjustmentInput, record_adjustment,
                                 typed_amount_yuan)
from views.actuals import editable_posted_year, field_errors, period_of
from views.auth import requires
from views.clock import deadline_day, now, today
from views.context import who
from views.entry_forms import RowState, adjustment_form_values, budget_form_values
from views.projects import render_project, wants_fragment

bp = Blueprint("adjustments", __name__)

FIELDS = ("kind", "amount", "unit", "date", "doc_no", "reason")
_FORM_FIELD = {"amount_yuan": "amount"}          # the input's field → the form's


@bp.post("/projects/<int:project_id>/budget-adjustments")
@requires("admin", "manager")
def record(project_id: int):
    session = get_session()
    project, py = editable_posted_year(session, project_id)
    month = (period_of(py, request.form.get("period")) if request.form.get("period")
             else YearCalendar(py.year, py.periods).default_month(today()))
    typed = {name: request.form.get(name, "").strip() for name in FIELDS}
    try:
        amount = typed_amount_yuan(typed["kind"], typed["amount"], typed["unit"])
        data = AdjustmentInput.model_validate({"amount_yuan": amount, "date": typed["date"],
                                               "doc_no": typed["doc_no"], "reason": typed["reason"]})
        with transaction(session):
            recorded = record_adjustment(session, py, data, who(), now(), current_app.config)
    except EntryError as exc:
        return answer(session, project, py, month, RowState(typed, {_FORM_FIELD.get(exc.field, exc.field): str(exc)}),
                      422)
    except ValidationError as exc:
        errors = {_FORM_FIELD.get(name, name): message for name, message in field_errors(exc, FIELD_NAMES).items()}
        return answer(session, project, py, month, RowState(typed, errors), 422)
    row = recorded.adjustment
    notice = (f"已登记{typed['kind']} {wan_text(abs(row.amount_yuan))} 万元（{row.effective_on.isoformat()}起，"
              f"{row.doc_no}）；今天的调整后预算数为 {wan_text(recorded.annual_yuan)} 万元")
    if wants_fragment():
        return answer(session, project, py, month, RowState(adjustment_form_values(), notice=notice))
    flash(notice, "success")
    return redirect(url_for("projects.show", project_id=project.id, year=py.year, period=f"{py.year}-{month:02d}")
                    + "#adjustments", 303)


def answer(session, project, py, month: int, state: RowState, status: int = 200):
    """The section, and the entry section's budget row out of band, to htmx; the whole page with
    the section's state to a plain form post."""
    if not wants_fragment():
        return render_project(project.id, py.year, month, status=status, adjustment_state=state)
    section = render_template("_adjustments.html", adjustments=adjustment_history(session, py, today()),
                              adjustment_state=state, editable=True, project=project, py=py,
                              period=f"{py.year}-{month:02d}")
    budget = spending_row(session, py, month, today(), deadline_day())
    row = render_template("_budget.html", budget=budget, state=RowState(budget_form_values(budget.spending)),
                          editable=True, project=project, py=py, month=month, period=f"{py.year}-{month:02d}",
                          oob=True)
    return section + row, status


@bp.app_context_processor
def adjustment_choices() -> dict:
    return {"ADJUSTMENT_KINDS": KINDS, "ADJUSTMENT_UNITS": AMOUNT_UNITS}


bp.app_template_filter("wan")(wan_text)        # reads/wording.py: 元 written as 万元
