"""目标调整 on the project page (DOMAIN.md §7): the 填报人's proposal form, the 审核人's approve
and return buttons, in the 目标调整 section (templates/_target_adjustments.html).

A proposal and a return change only the section: htmx swaps it back, and without JavaScript the
whole page comes back (303 to the section). An approval changes the targets, the lights and
the alerts of the whole page: it is a plain post, answered 303 to the page. As templates/base.html
decides: 422 with the section again, each message beside its field and what was typed kept,
nothing stored; 409 when the proposal was decided meanwhile, its targets changed since, or an
indicator is in another pending proposal. Who: the unit's 填报人 (and admins) propose
(`may_edit_actuals`), a 审核人 of the 主管部门 (and admins) decide (`may_review_targets`): 403 for
anyone else who may see the project, 404 outside the scope.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from pydantic import ValidationError

from importers import taxonomy
from models.actual import EntryError
from models.db import get_session, transaction
from models.target_adjustment import APPROVED
from reads.scope import may_edit_actuals, may_review_targets, target_adjustment_in_scope
from reads.target_adjustments import target_section
from services.target_adjustment import (AdjustmentConflict, ProposalInput, ReturnInput, approve, propose, refusal,
                                        return_proposal)
from views.auth import requires
from views.clock import now
from views.context import posted_project_year, who
from views.entry_forms import RowState
from views.projects import render_project, target_section_context, wants_fragment

bp = Blueprint("target_adjustments", __name__)

ADD_FIELDS = ("add_level1", "add_level2", "add_level3", "add_target")
_ITEM_FIELD = re.compile(r"changes\[(\d+)\]\.(\w+)")


# --------------------------------------------------------------------------- the 填报人's proposal

@bp.post("/projects/<int:project_id>/target-adjustments")
@requires("admin", "manager")
def propose_targets(project_id: int):
    session = get_session()
    project, py = posted_project_year(session, project_id)
    if not may_edit_actuals(g.user, project):
        abort(403)
    typed, changes, fields = _posted_changes(session, py)
    try:
        data = ProposalInput.model_validate({"reason": typed["reason"], "changes": changes})
        with transaction(session):
            adjustment = propose(session, py, data, who(), now(), current_app.config)
    except ValidationError as exc:
        return _answer(session, project, py, _refused(typed, refusal(exc), fields), 422)
    except EntryError as exc:
        return _answer(session, project, py, _refused(typed, exc, fields), 422)
    except AdjustmentConflict as exc:
        return _answer(session, project, py, RowState(typed, conflict=str(exc)), 409)
    return _done(session, project, py, f"已提出目标调整第{adjustment.id}号，等待主管部门审核；审核前原指标值继续有效")


def _posted_changes(session, py) -> tuple[dict, list[dict], list[dict]]:
    """What was typed, the changes it makes (in the form's order: the indicators, then an added
    one) and, for each change, the form's field of each of its fields."""
    typed = {name: value.strip() for name, value in request.form.items() if name != "csrf_token"}
    typed.setdefault("reason", "")
    changes, fields = [], []
    for row in target_section(session, py).rows:
        ind_id = row.indicator.id
        target, withdraw = typed.get(f"target-{ind_id}", ""), typed.get(f"withdraw-{ind_id}") == "1"
        if withdraw or target:
            changes.append({"indicator_id": ind_id, "target": target or None, "withdraw": withdraw})
            fields.append({"target": f"target-{ind_id}", "indicator_id": f"target-{ind_id}",
                           "withdraw": f"withdraw-{ind_id}"})
    if any(typed.get(name) for name in ADD_FIELDS):
        changes.append({name.removeprefix("add_"): typed.get(name) or None for name in ADD_FIELDS})
        fields.append({name.removeprefix("add_"): name for name in ADD_FIELDS})
    return typed, changes, fields


def _refused(typed: dict, exc: EntryError, fields: list[dict]) -> RowState:
    """The form again with the message beside its field (`fields`: each change's form fields)."""
    match = _ITEM_FIELD.fullmatch(exc.field or "")
    name = fields[int(match.group(1))].get(match.group(2), "changes") if match else (exc.field or "changes")
    return RowState(typed, {name: str(exc)})


# --------------------------------------------------------------------------- the 审核人's decision

@bp.post("/target-adjustments/<int:adjustment_id>/approve")
@requires("admin", "supervisor")
def approve_targets(adjustment_id: int):
    session = get_session()
    adjustment, py, project = _decidable(session, adjustment_id)
    try:
        with transaction(session):
            decided = approve(session, adjustment, who(), now(), current_app.config)
    except AdjustmentConflict as exc:
        return _answer(session, project, py, RowState(conflict=str(exc)), 409, fragment=False)
    flash(f"已批准目标调整第{adjustment_id}号（{'；'.join(decided.lines)}）：新指标值适用于全年，"
          "已填的实际值已按新指标值重新评判", "success")
    return redirect(url_for("projects.show", project_id=project.id, year=py.year) + "#target-adjustments", 303)


@bp.post("/target-adjustments/<int:adjustment_id>/return")
@requires("admin", "supervisor")
def return_targets(adjustment_id: int):
    session = get_session()
    adjustment, py, project = _decidable(session, adjustment_id)
    typed = {f"comment-{adjustment_id}": request.form.get("comment", "").strip()}
    try:
        data = ReturnInput.model_validate({"comment": typed[f"comment-{adjustment_id}"]})
        with transaction(session):
            return_proposal(session, adjustment, data, who(), now(), current_app.config)
    except ValidationError as exc:
        return _answer(session, project, py, RowState(typed, {f"comment-{adjustment_id}": str(refusal(exc))}), 422)
    except AdjustmentConflict as exc:
        return _answer(session, project, py, RowState(typed, conflict=str(exc)), 409)
    return _done(session, project, py, f"已退回目标调整第{adjustment_id}号，原指标值继续有效")


def _decidable(session, adjustment_id: int):
    found = target_adjustment_in_scope(session, g.user, adjustment_id)
    if found is None:
        abort(404)
    if not may_review_targets(g.user):      # unreachable past @requires; kept beside what it guards
        abort(403)
    return found


# --------------------------------------------------------------------------- answers

def _done(session, project, py, notice: str):
    if wants_fragment():
        return _answer(session, project, py, RowState(notice=notice))
    flash(notice, "success")
    return redirect(url_for("projects.show", project_id=project.id, year=py.year) + "#target-adjustments", 303)


def _answer(session, project, py, state: RowState, status: int = 200, fragment: bool = True):
    """The section to htmx; the whole page with the section's state to a plain form post."""
    if not (fragment and wants_fragment()):
        return render_project(project.id, py.year, None, status=status, target_state=state)
    return render_template("_target_adjustments.html", **target_section_context(session, project, py, state)), status


@bp.app_context_processor
def taxonomy_choices() -> dict:
    return {"LEVEL1_CHOICES": taxonomy.LEVEL1, "LEVEL2_CHOICES": taxonomy.LEVEL2, "APPROVED": APPROVED}
