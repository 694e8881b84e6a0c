"""The JSON API's answers, each in its model (reads/api_schemas.py), which the views send.

models/api_views.py builds the figures of a project, the overview and the evaluation build theirs;
this adds what the interface asks for beyond them (reads/indicator_facts.py: `original_target`; the budget's `initial_yuan`; an evaluation item's `suggested`; the budget adjustments, reads/adjustments.py) and checks every
answer against the document a client reads.
"""
from __future__ import annotations

from datetime import date

from domain import rules
from models import api_views, reports
from models.indicator import Indicator
from models.project import Project, ProjectYear
from models.reports import AsOf, ReportFilters
from models.user import User
from reads import api_schemas as schemas
from reads.adjustments import adjustment_history
from reads.alerts import alert_list
from reads.api_schemas import Answer, fit
from reads.indicator_facts import complete, original_targets


def project_list(session, user: User, year: int | None, as_of: date) -> Answer:
    return fit(schemas.ProjectList, {"projects": api_views.project_list(session, user, year, as_of)})


def project(session, user: User, found: Project, py: ProjectYear, as_of: date, years: list[ProjectYear]) -> Answer:
    answer = api_views.project_detail(session, user, found, py, as_of, years)
    originals = original_targets(session, py.id)
    answer["budget"] = _with_initial(answer["budget"], py)
    answer["indicators"] = [complete(entry, originals) for entry in answer["indicators"]]
    return fit(schemas.Project, answer)


def annual_indicator(session, py: ProjectYear, ind: Indicator, as_of: date) -> Answer | None:
    """One indicator's 年度 IND (None: no longer an active indicator with a 年度 target)."""
    entry = api_views.annual_indicator(session, py, ind, as_of)
    if entry is None:
        return None
    return fit(schemas.Indicator, complete(entry, original_targets(session, py.id)))


def budget(session, py: ProjectYear, as_of: date) -> Answer:
    return fit(schemas.Budget, _with_initial(api_views.project_budget(session, py, as_of), py))


def adjustment_created(py: ProjectYear, recorded) -> Answer:
    """`recorded`: services.adjustment.Recorded."""
    return fit(schemas.AdjustmentCreated, {"id": recorded.adjustment.id, "annual_yuan": api_views.number(recorded.annual_yuan),
                                           "initial_yuan": api_views.number(py.annual_total_yuan)})


def adjustments(session, py: ProjectYear, as_of: date) -> Answer:
    history = adjustment_history(session, py, as_of)
    return fit(schemas.AdjustmentList, {
        "initial_yuan": api_views.number(history.initial_yuan), "annual_yuan": api_views.number(history.annual_yuan),
        "as_of": as_of, "adjustments": [_adjustment(line) for line in history.lines]})


def _adjustment(line) -> dict:
    a = line.adjustment
    return {"id": a.id, "date": a.effective_on, "kind": line.kind, "amount_yuan": api_views.number(a.amount_yuan),
            "budget_after_yuan": api_views.number(line.budget_after_yuan), "doc_no": a.doc_no, "reason": a.reason,
            "recorded_by": a.created_by, "recorded_at": a.created_at, "in_force": line.in_force}


def _with_initial(budget_answer: dict, py: ProjectYear) -> dict:
    """`initial_yuan`: the 年度资金总额 as imported, beside the budget in force (DOMAIN §7)."""
    return {**budget_answer, "initial_yuan": api_views.number(py.annual_total_yuan)}


def evaluation(session, py: ProjectYear, as_of: date, bands) -> Answer:
    """Raises ValueError (Chinese) when the project year cannot be evaluated; `bands`: the
    settings' (views.context.bands)."""
    answer = api_views.evaluation_dict(session, py, as_of, bands)
    answer["indicators"] = [{**item, "suggested": _suggested(item)} for item in answer["indicators"]]
    return fit(schemas.Evaluation, answer)


def _suggested(item: dict) -> bool:
    """The score is the band's default, not yet one an evaluator set (DOMAIN §5)."""
    return (item["measure"] == rules.QUALITATIVE and item["assessment"] in rules.QUALITATIVE_BANDS
            and item["evaluator_score"] is None)


def overview(session, user: User, filters: ReportFilters, moment: AsOf) -> Answer:
    """The overview page's figures (models/reports.py), so the two always show the same numbers."""
    return fit(schemas.Overview, reports.overview(session, user, filters, moment, red_list=0).as_dict())


def alerts(session, user: User, year: int | None, state: str) -> Answer:
    return fit(schemas.AlertList, {"alerts": alert_list(session, user, year, state)})


def error(message: str, field: str | None = None, model: type[schemas.Error] = schemas.Error) -> Answer:
    return fit(model, {"error": message, "field": field})


def conflict(message: str, current: Answer | None, model: type[Answer]) -> Answer:
    return fit(model, {"error": message, "current": current})
