"""The answers of the JSON API (INTERFACES.md), each built here and sent in its model
(reads/api_schemas.py), which checks it against the document a client reads.

Views load with an access check and call these; every read here is already scoped (the caller
passes a visible ProjectYear, or the user for lists). Lights, completion and pace are the domain
core's as of a date (reads/project_year.py); nothing here judges a value itself. Beyond those
figures an answer carries what the interface asks for: an indicator's `original_target`
(reads/indicator_facts.py), the budget's `initial_yuan`, an evaluation item's `suggested`; and
the budget adjustments (reads/adjustments.py).

Decisions the interface leaves open:

- A project's `id` is the id of its ProjectYear (one year's 申报表): the id every other call takes.
- Each indicator appears twice in `indicators` when it has both targets, its 年度 side first:
  `scope: "annual"` with the actual, completion, pace and light as of the date, then
  `scope: "period"` with the 实施期 target, the 实施期 progress as `actual` (§3: the latest actual
  due by the date of each of the project's years up to this one that the caller may see, the
  indicator matched across years by 一级指标 and 实施期 三级指标 — cumulative indicators add them
  up, level and qualitative ones take the latest year; `actual.years` lists the years counted),
  `completion` against the 实施期 target, and `pace` and `light` null (the lights of §4 are
  annual). Both carry the Indicator id,
  which is what `PUT /indicators/ID/…` takes; an indicator with only one side appears once.
- Ratios (`completion`, `pace`, `execution_rate`) are JSON numbers at the precision they are
  stored with (10 decimal places), not rounded for display; money and values are JSON numbers
  exactly as stored. The evaluation is rounded as `rules.Evaluation.as_dict` does (2 places).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, bindparam, case, null, or_
from sqlmodel import Session, select

from domain import rules
from domain.indicators import annual_target
from domain.project_year import YearFacts
from importers.values import Target
from models.actual import Actual
from models.indicator import Indicator, active_indicators_to_read
from models.org import Department, Unit
from models.db import prepared, rows
from models.project import Project, ProjectYear
from models.summary import ALL_LEVELS, BudgetSummary, LightSummary
from models.user import User
from reads import api_schemas as schemas
from reads.adjustments import adjustment_history
from reads.alerts import alert_list
from reads.api_schemas import Answer, Unchecked, fit
from reads.indicator_facts import complete, original_targets
from reads.overview import overview as overview_of
from reads.period_progress import Progress, period_measure, period_progress, period_target
from reads.project_list import visible_year_numbers
from reads.project_year import BudgetState, IndicatorState, budget_state, indicator_state, year_state
from reads.report_filters import AsOf, ReportFilters
from reads.scope import scope_clause, scoped_params
from reads.self_evaluation import review_state, score_table
from services.inputs import current_config


def number(value):
    """A Decimal as a JSON number: an int when whole, else a float; None stays None."""
    if value is None:
        return None
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def month_label(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


# --------------------------------------------------------------------------- the project list

def project_list(session: Session, user: User, year: int | None, as_of: date) -> Unchecked:
    """The project years the user may see (of one year if given, else newest year first) with
    the worst light of each as of `as_of` — the same answer as `rules.worst_light` over
    `indicator_states` and `budget_state` (tests hold the two together), read from the report
    summaries that every write keeps (services/summaries.py): one query per year, the summary rows
    of the year's latest closed month joined to the list, however many actuals lie behind them."""
    projects = []
    for each_year in [year] if year is not None else visible_year_numbers(session, user):
        moment = AsOf.of(each_year, as_of, current_config())
        lights = None if moment.month is None else "" if moment.late else "early_"
        shape, params = scoped_params(user, year=each_year, month=moment.month)
        # Plain rows straight through the driver, fetched at once: ten thousand ORM rows, or
        # rows fetched one by one, would cost more than the query.
        projects += [{"id": py_id, "name": name, "year": y, "department": department, "unit": unit, "light": light}
                     for py_id, name, y, department, unit, light in rows(session, _list_statement(shape, lights), params)]
    return Unchecked(schemas.ProjectList, {"projects": projects})


@prepared
def _list_statement(shape: str, lights: str | None):
    """The list of one year in a scope shape, with each project year's worst light (`rules.worst_light`,
    worked out by the database) from the summary rows of month `month`: after that month's
    deadline (`lights` "") or before it ("early_"); None: nothing due yet, no light."""
    statement = _summary_statement(shape)
    if lights is None:
        return statement.add_columns(null().label("light"))
    month = bindparam("month")
    budget = getattr(BudgetSummary, lights + "light")
    worst = case(*((or_(getattr(LightSummary, lights + light) > 0, budget == light), light)
                   for light in sorted(rules.LIGHT_SEVERITY, key=rules.LIGHT_SEVERITY.get, reverse=True)), else_=null())
    return (statement
            .outerjoin(LightSummary, and_(LightSummary.project_year_id == ProjectYear.id, LightSummary.month == month,
                                          LightSummary.level1 == ALL_LEVELS))
            .outerjoin(BudgetSummary, and_(BudgetSummary.project_year_id == ProjectYear.id,
                                           BudgetSummary.month == month))
            .add_columns(worst.label("light")))


def _summary_statement(shape: str):
    """The project years of one year (`year`) in a scope (`shape`, `scope_id`: `scoped_params`)
    as (ProjectYear.id, name, year, 主管部门, 实施单位) in the list's order: 主管部门 code, then
    实施单位 and project name. Bound parameters: build it once per shape."""
    return (select(ProjectYear.id, Project.name, ProjectYear.year, Department.name, Unit.name)
            .join(ProjectYear, ProjectYear.project_id == Project.id)
            .join(Unit, Unit.id == Project.unit_id)
            .join(Department, Department.id == ProjectYear.department_id)
            .where(ProjectYear.year == bindparam("year"), scope_clause(shape, bindparam("scope_id")))
            .order_by(Department.code, Department.name, Unit.name, Project.name))


# --------------------------------------------------------------------------- one project

def project(session: Session, user: User, found: Project, py: ProjectYear, as_of: date,
            years: list[ProjectYear] | None = None) -> Unchecked:
    """`years`: the project's years the user may read, when the caller has them."""
    indicators = active_indicators_to_read(session, py.id)
    state = year_state(session, py, as_of, indicators=indicators)
    states, budget = state.indicators, state.budget
    originals = original_targets(session, py.id)
    entries = indicator_entries(session, user, py, indicators, states, as_of, years)
    # Plain rows, written as they are (reads.api_schemas.Unchecked): checking each IND against
    # the model cost several times the writing, on the answer a 填报人 reads before every entry.
    return Unchecked(schemas.Project, {
        "id": py.id, "project_id": found.id, "name": found.name, "year": py.year, "periods": py.periods,
        "as_of": as_of.isoformat(),
        "light": rules.worst_light([s.light for s in states] + [budget.light]),
        "budget": budget_dict(budget, py),
        "indicators": [complete(entry, originals) for entry in entries],
    })


def budget_dict(state: BudgetState, py: ProjectYear) -> dict:
    """The budget in force as of the date, and `initial_yuan`: the 年度资金总额 as imported,
    beside it (DOMAIN §7)."""
    spending = state.spending
    return {
        "annual_yuan": number(state.annual_yuan),
        "initial_yuan": number(py.annual_total_yuan),
        "spent_yuan": number(state.spent_yuan),
        "execution_rate": _ratio(state.execution_rate),
        "light": state.light,
        "pace": _ratio(state.pace),
        "period": month_label(py.year, spending.month) if spending else None,
        "version": spending.version if spending else None,
        "marks": list(flag.words) if (flag := state.flag) else [],
        "note": spending.note if spending else None,
        "explained_by": month_label(py.year, flag.note_month) if flag and flag.note_month else None,
    }


def budget(session: Session, py: ProjectYear, as_of: date, judged: YearFacts | None = None) -> Answer:
    """The budget as of a date (the answer to a PUT of spending; `judged`: as the entry judged it)."""
    return fit(schemas.Budget, budget_dict(budget_state(session, py, as_of, judged=judged), py))


def indicator_entries(session: Session, user: User, py: ProjectYear, indicators: list[Indicator],
                      states: list[IndicatorState], as_of: date,
                      years: list[ProjectYear] | None = None) -> list[dict]:
    """The IND list: each active indicator (`indicators`, in the form's order) with its 年度
    entry (`states`) if it has one, then its 实施期 entry."""
    by_id = {s.indicator.id: s for s in states}
    progress = period_progress(session, user, py, [i for i in indicators if i.period_raw is not None], as_of,
                               {s.indicator.id: s.actual for s in states if s.actual is not None}, years)
    entries = []
    for ind in indicators:
        if ind.id in by_id:
            entries.append(annual_entry(by_id[ind.id], py.year))
        if ind.period_raw is not None:
            entries.append(period_entry(ind, progress.get(ind.id)))
    return entries


def annual_indicator(session: Session, py: ProjectYear, ind: Indicator, as_of: date,
                     judged: YearFacts | None = None) -> Answer | None:
    """One indicator's 年度 IND as of a date (the answer to a PUT of its actual; `judged`: its
    year as the entry judged it); None when it is no longer an active indicator with a 年度 target."""
    if ind.retired_at is not None or ind.annual_raw is None:
        return None
    entry = annual_entry(indicator_state(session, py, ind, as_of, judged=judged), py.year)
    return fit(schemas.Indicator, complete(entry, original_targets(session, py.id)))


def _names(ind: Indicator, scope: str) -> dict:
    return {"id": ind.id, "level1": ind.level1, "level2": getattr(ind, f"{scope}_level2"),
            "level3": getattr(ind, f"{scope}_level3"), "scope": scope, "level1_std": ind.level1_std,
            "level2_std": getattr(ind, f"{scope}_level2_std")}


def adjustment_created(py: ProjectYear, recorded) -> Answer:
    """`recorded`: services.adjustment.Recorded."""
    return fit(schemas.AdjustmentCreated, {"id": recorded.adjustment.id, "annual_yuan": number(recorded.annual_yuan),
                                           "initial_yuan": number(py.annual_total_yuan)})


def adjustments(session, py: ProjectYear, as_of: date) -> Answer:
    history = adjustment_history(session, py, as_of)
    return fit(schemas.AdjustmentList, {
        "initial_yuan": number(history.initial_yuan), "annual_yuan": number(history.annual_yuan),
        "as_of": as_of, "adjustments": [_adjustment(line) for line in history.lines]})


def _adjustment(line) -> dict:
    a = line.adjustment
    return {"id": a.id, "date": a.effective_on, "kind": line.kind, "amount_yuan": number(a.amount_yuan),
            "budget_after_yuan": number(line.budget_after_yuan), "doc_no": a.doc_no, "reason": a.reason,
            "recorded_by": a.created_by, "recorded_at": a.created_at, "in_force": line.in_force}


def _target(target: Target) -> dict:
    return {"raw": target.raw, "kind": target.kind, "op": target.op, "value": number(target.value),
            "unit": target.unit}


def annual_entry(state: IndicatorState, year: int) -> dict:
    actual = state.actual
    return {**_names(state.indicator, "annual"),
            "target": _target(annual_target(state.indicator)),
            "measure": state.measure,
            "actual": actual_dict(actual, year, state.measure) if actual else None,
            "completion": _ratio(state.completion),
            "pace": _ratio(state.pace),
            "light": state.light,
            "last_light": state.last_light,
            "over": state.over,
            "original_target": None}


def actual_dict(actual: Actual, year: int, measure: str) -> dict:
    forecast = actual.forecast_assessment if measure == rules.QUALITATIVE else number(actual.forecast)   # DOMAIN §3
    return {"period": month_label(year, actual.month), "value": number(actual.value), "unit": actual.unit,
            "assessment": actual.assessment, "version": actual.version, "forecast": forecast,
            "deviation_reasons": list(actual.deviation_reasons or []), "deviation_note": actual.deviation_note,
            "likelihood": actual.likelihood, "note": actual.note, "over_reason": actual.over_reason,
            "updated_by": actual.updated_by,
            "updated_at": actual.updated_at.isoformat() if actual.updated_at else None}


_RATIO_QUANTUM = Decimal("1e-10")


def _ratio(value: Decimal | None):
    """A ratio at the precision it is stored with (10 places), whether just computed or read back."""
    return None if value is None else float(Decimal(value).quantize(_RATIO_QUANTUM))


# --------------------------------------------------------------------------- 实施期

def period_entry(ind: Indicator, progress: Progress | None) -> dict:
    measure = progress.measure if progress else period_measure(ind)
    return {**_names(ind, "period"),
            "target": _target(period_target(ind)),
            "measure": measure,
            "actual": _progress_actual(progress),
            "completion": _ratio(progress.completion) if progress else None,
            "pace": None,
            "light": None}


def _progress_actual(progress: Progress | None) -> dict | None:
    if progress is None or progress.period is None:
        return None
    qualitative = progress.measure == rules.QUALITATIVE
    return {"value": None if qualitative else number(progress.value), "unit": None if qualitative else progress.unit,
            "assessment": progress.value if qualitative else None, "period": month_label(*progress.period),
            "years": progress.years}


# --------------------------------------------------------------------------- evaluation

def evaluation_dict(session: Session, py: ProjectYear, as_of: date, bands: rules.Thresholds) -> dict:
    """The `evaluation` answer from the score table the page shows (reads/self_evaluation.py),
    graded with the bands of settings; raises ValueError (Chinese) when it cannot be evaluated.
    Each indicator also carries its name, the band an evaluator may score in when qualitative
    and assessed (`band`: [min, max] points), the evaluator's stored score, whether the score is
    still the band's suggestion, 超额 and any deduction; the answer says which period the figures
    are of and what still keeps the 自评 from being submitted."""
    table = score_table(session, py, as_of, bands)
    if table.evaluation is None:
        raise ValueError(table.error)
    evaluation, checked = table.evaluation, table.completeness
    answer = evaluation.as_dict()
    rows = {row.indicator.id: row for row in table.rows}
    for item, scored in zip(answer["indicators"], evaluation.indicators):
        row = rows[scored.id]
        item.update(name=row.name, measure=row.measure, assessment=row.assessment,
                    evaluator_score=number(row.evaluator_score),
                    band=[number(edge) for edge in scored.band.shown] if scored.band else None,
                    suggested=scored.suggested, over=row.over, deduction=number(rules.for_display(scored.deduction)),
                    deduction_reason=row.deduction_reason or None, set_aside=scored.set_aside)
    history = table.weights_history
    answer.update(
        as_of=as_of.isoformat(), budget_points=number(rules.for_display(evaluation.budget_points)),
        execution_reason=checked.execution_reason or None,
        weights={name: number(rules.for_display(points)) for name, points in table.weights.items()},
        weights_reason=history[-1].reason if history else None,
        data_through=month_label(py.year, table.data_through) if table.data_through else None,
        data_label=table.data_as_of,
        gaps=[{"period": month_label(py.year, gap.month), "indicators": list(gap.indicators), "spending": gap.spending,
               "explanation": checked.explanations.get(gap.month) or None} for gap in checked.gaps],
        state=review_state(session, py), ready=not checked.problems, problems=checked.problems)
    return answer


def evaluation(session: Session, py: ProjectYear, as_of: date, bands: rules.Thresholds) -> Answer:
    """Raises ValueError (Chinese) when the project year cannot be evaluated; `bands`: the
    settings' (views.context.bands)."""
    return fit(schemas.Evaluation, evaluation_dict(session, py, as_of, bands))


# --------------------------------------------------------------------------- target adjustments

def target_change_state(adjustment) -> Answer:
    return fit(schemas.TargetChangeState, {"id": adjustment.id, "state": adjustment.state})


def target_change_list(session: Session, py: ProjectYear) -> Answer:
    """The project year's 目标调整, newest first (reads/target_adjustments.py)."""
    from reads.target_adjustments import proposals
    return fit(schemas.TargetChangeList, {"target_changes": [
        {"id": p.adjustment.id, "state": p.adjustment.state, "reason": p.adjustment.reason,
         "proposed_by": p.adjustment.proposed_by, "proposed_at": p.adjustment.proposed_at,
         "decided_by": p.adjustment.decided_by, "decided_at": p.adjustment.decided_at, "comment": p.adjustment.comment,
         "changes": [{"action": line.item.action, "indicator_id": line.item.indicator_id,
                      "level1": line.item.level1, "level2": line.item.level2, "level3": line.name,
                      "old_target": line.item.old_raw, "target": line.item.new_raw} for line in p.items]}
        for p in proposals(session, py)]})


# --------------------------------------------------------------------------- reports, alerts, errors

def overview(session: Session, user: User, filters: ReportFilters, moment: AsOf) -> Unchecked:
    """The overview page's figures (reads/overview.py), so the two always show the same numbers.
    Written as it is (`Unchecked`): the province's overview is a thousand 实施单位, and validating
    their sums one by one cost more than adding them up."""
    return Unchecked(schemas.Overview, overview_of(session, user, filters, moment, red_list=0).as_dict())


def alerts(session: Session, user: User, year: int | None, state: str) -> Answer:
    return fit(schemas.AlertList, {"alerts": alert_list(session, user, year, state)})


def error(message: str, field: str | None = None, model: type[schemas.Error] = schemas.Error) -> Answer:
    return fit(model, {"error": message, "field": field})


def conflict(message: str, current: Answer | None, model: type[Answer]) -> Answer:
    return fit(model, {"error": message, "current": current})
