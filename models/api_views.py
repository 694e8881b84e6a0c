"""The answers of the JSON API (INTERFACES.md), as plain JSON-ready dicts.

Views load with an access check and call these; every read here is already scoped (the caller
passes a visible ProjectYear, or the user for lists). Lights, completion and pace are the ones
stored with each actual and spending (models/actual.py), read as of a date; nothing here
judges a value itself.

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

from collections import defaultdict
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Iterable

from sqlalchemy import and_, bindparam, case, null, or_
from sqlmodel import Session, select

from importers.values import Target, same_base, split_unit, to_base
from models import rules
from models.actual import (LIGHT_SEVERITY, Actual, BudgetState, IndicatorState, Spending, annual_target,
                           budget_state, effective_measure, indicator_state, indicator_states, last_closed_month,
                           worst_light)
from models.evaluation import project_evaluation
from models.importing import indicator_key
from models.indicator import Indicator, active_indicators
from models.project import Project, ProjectYear
from models.queries import project_summary_statement, projects_visible_to, visible_year_numbers
from models.scope import scoped_params
from models.user import User



def number(value):
    """A Decimal as a JSON number: an int when whole, else a float; None stays None."""
    if value is None:
        return None
    value = Decimal(value).normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def month_label(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


# --------------------------------------------------------------------------- the project list

def project_list(session: Session, user: User, year: int | None, as_of: date) -> list[dict]:
    """The project years the user may see (of one year if given, else newest year first) with
    the worst light of each as of `as_of` — the same answer as `worst_light` over
    `indicator_states` and `budget_state` (tests hold the two together), read from the report
    summaries that every write keeps (models/reports.py): one query per year, the summary rows
    of the year's latest closed month joined to the list, however many actuals lie behind them."""
    from models.reports import AsOf

    answer = []
    for each_year in [year] if year is not None else visible_year_numbers(session, user):
        moment = AsOf(each_year, as_of)
        lights = None if moment.month is None else "" if moment.late else "early_"
        shape, params = scoped_params(user, year=each_year, month=moment.month)
        # Plain rows through the connection: ten thousand ORM rows would cost more than the query.
        rows = session.connection().execute(_list_statement(shape, lights), params)
        answer += [{"id": py_id, "name": name, "year": y, "department": department, "unit": unit, "light": light}
                   for py_id, name, y, department, unit, light in rows]
    return answer


@cache
def _list_statement(shape: str, lights: str | None):
    """The list of one year in a scope shape, with each project year's worst light (`worst_light`,
    worked out by the database) from the summary rows of month `month`: after that month's
    deadline (`lights` "") or before it ("early_"); None: nothing due yet, no light."""
    from models.reports import ALL_LEVELS, BudgetSummary, LightSummary

    statement = project_summary_statement(shape)
    if lights is None:
        return statement.add_columns(null().label("light"))
    month = bindparam("month")
    budget = getattr(BudgetSummary, lights + "light")
    worst = case(*((or_(getattr(LightSummary, lights + light) > 0, budget == light), light)
                   for light in sorted(LIGHT_SEVERITY, key=LIGHT_SEVERITY.get, reverse=True)), else_=null())
    return (statement
            .outerjoin(LightSummary, and_(LightSummary.project_year_id == ProjectYear.id, LightSummary.month == month,
                                          LightSummary.level1 == ALL_LEVELS))
            .outerjoin(BudgetSummary, and_(BudgetSummary.project_year_id == ProjectYear.id,
                                           BudgetSummary.month == month))
            .add_columns(worst.label("light")))


# --------------------------------------------------------------------------- one project

def project_detail(session: Session, user: User, project: Project, py: ProjectYear, as_of: date,
                   years: list[ProjectYear] | None = None) -> dict:
    """`years`: the project's years the user may read, when the caller has them."""
    indicators = active_indicators(session, py.id)
    states = indicator_states(session, py, as_of, indicators=indicators)
    budget = budget_state(session, py, as_of)
    return {
        "id": py.id, "project_id": project.id, "name": project.name, "year": py.year, "periods": py.periods,
        "as_of": as_of.isoformat(),
        "light": worst_light([s.light for s in states] + [budget.light]),
        "budget": budget_dict(budget, py.year),
        "indicators": indicator_entries(session, user, py, indicators, states, as_of, years),
    }


def budget_dict(state: BudgetState, year: int) -> dict:
    spending = state.spending
    return {
        "annual_yuan": number(state.annual_yuan),
        "spent_yuan": number(state.spent_yuan),
        "execution_rate": _ratio(state.execution_rate),
        "light": state.light,
        "pace": _ratio(spending.pace) if spending else None,
        "period": month_label(year, spending.month) if spending else None,
        "version": spending.version if spending else None,
    }


def project_budget(session: Session, py: ProjectYear, as_of: date, latest: Spending | None = None) -> dict:
    return budget_dict(budget_state(session, py, as_of, latest=latest), py.year)


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
                     latest: Actual | None = None) -> dict | None:
    """One indicator's 年度 IND as of a date (the answer to a PUT of its actual, `latest`); None
    when it is no longer an active indicator with a 年度 target."""
    if ind.retired_at is not None or ind.annual_raw is None:
        return None
    return annual_entry(indicator_state(session, py, ind, as_of, latest=latest), py.year)


def _names(ind: Indicator, scope: str) -> dict:
    return {"id": ind.id, "level1": ind.level1, "level2": getattr(ind, f"{scope}_level2"),
            "level3": getattr(ind, f"{scope}_level3"), "scope": scope, "level1_std": ind.level1_std,
            "level2_std": getattr(ind, f"{scope}_level2_std")}


def _target(target: Target) -> dict:
    return {"raw": target.raw, "kind": target.kind, "op": target.op, "value": number(target.value),
            "unit": target.unit}


def period_target(ind: Indicator) -> Target:
    return Target(raw=ind.period_raw or "", kind=ind.period_kind or "qualitative", op=ind.period_op,
                  value=ind.period_value, unit=ind.period_unit)


def annual_entry(state: IndicatorState, year: int) -> dict:
    actual = state.actual
    return {**_names(state.indicator, "annual"),
            "target": _target(annual_target(state.indicator)),
            "measure": state.measure,
            "actual": actual_dict(actual, year) if actual else None,
            "completion": _ratio(actual.completion) if actual else None,
            "pace": _ratio(actual.pace) if actual else None,
            "light": state.light}


def actual_dict(actual: Actual, year: int) -> dict:
    return {"period": month_label(year, actual.month), "value": number(actual.value), "unit": actual.unit,
            "assessment": actual.assessment, "version": actual.version, "forecast": number(actual.forecast),
            "deviation_reasons": list(actual.deviation_reasons or []), "deviation_note": actual.deviation_note,
            "likelihood": actual.likelihood, "note": actual.note, "updated_by": actual.updated_by,
            "updated_at": actual.updated_at.isoformat() if actual.updated_at else None}


_RATIO_QUANTUM = Decimal("1e-10")


def _ratio(value: Decimal | None):
    """A ratio at the precision it is stored with (10 places), whether just computed or read back."""
    return None if value is None else float(Decimal(value).quantize(_RATIO_QUANTUM))


# --------------------------------------------------------------------------- 实施期

class _Progress:
    def __init__(self, measure: str, actual: dict | None, completion: Decimal | None):
        self.measure, self.actual, self.completion = measure, actual, completion


def period_entry(ind: Indicator, progress: _Progress | None) -> dict:
    measure = progress.measure if progress else _period_measure(ind)
    return {**_names(ind, "period"),
            "target": _target(period_target(ind)),
            "measure": measure,
            "actual": progress.actual if progress else None,
            "completion": _ratio(progress.completion) if progress else None,
            "pace": None,
            "light": None}


def _period_measure(ind: Indicator) -> str:
    """The indicator's measure (staff's override included); from the 实施期 target without a 年度 one."""
    if ind.annual_raw is not None:
        return effective_measure(ind)
    return rules.infer_measure(ind.period_level3, period_target(ind))


def _match_key(ind: Indicator) -> tuple[str, str]:
    return indicator_key(ind.level1, ind.period_level3 or ind.name)


def period_progress(session: Session, user: User, py: ProjectYear, indicators: list[Indicator],
                    as_of: date, current: dict[int, Actual] | None = None,
                    years: list[ProjectYear] | None = None) -> dict[int, _Progress]:
    """实施期 progress of these indicators of `py`, over the project's years the user may see.
    `current`: the latest actual due by `as_of` of each of `py`'s indicators with a 年度 target
    that has one, when the caller has read them already (`indicator_states`); `years`: the
    project's years the user may see, when the caller has read them (`project_years_visible`)."""
    if not indicators:
        return {}
    if years is None:
        years = [y for _p, y in session.exec(projects_visible_to(user).where(Project.id == py.project_id))]
    years = [y for y in years if y.year <= py.year]
    due = {y.id: last_closed_month(y.year, as_of, y.periods) for y in years}
    year_of = {y.id: y.year for y in years if due[y.id] is not None}
    if not year_of:
        return {}
    earlier = [py_id for py_id in year_of if py_id != py.id]
    others = list(session.exec(select(Indicator).where(Indicator.project_year_id.in_(earlier),
                                                       Indicator.retired_at.is_(None))
                               .order_by(Indicator.position))) if earlier else []
    py_of = {o.id: o.project_year_id for o in others}
    latest: dict[int, Actual] = {}
    if py.id in year_of:
        if current is not None:
            latest.update((i, a) for i, a in current.items() if a.month <= due[py.id])
        py_of.update((i.id, py.id) for i in indicators if current is None or i.annual_raw is None)
    if py_of:
        # Plain rows with the five columns progress needs: a year of actuals as ORM objects
        # would cost more than the rest of the answer.
        last_due = max(due[py_id] for py_id in set(py_of.values()))
        rows = session.exec(select(Actual.indicator_id, Actual.month, Actual.value, Actual.unit, Actual.assessment)
                            .where(Actual.indicator_id.in_(list(py_of)), Actual.month <= last_due)
                            .order_by(Actual.month))
        for row in rows:
            if row.month <= due[py_of[row.indicator_id]]:
                latest[row.indicator_id] = row      # ordered by month: the last one due wins
    by_key: dict[tuple, dict[int, Actual]] = defaultdict(dict)
    for other in others:        # another year's indicator of the same name; the first if named twice
        if other.id in latest:
            by_key[_match_key(other)].setdefault(year_of[other.project_year_id], latest[other.id])
    result = {}
    for ind in indicators:
        found = dict(by_key.get(_match_key(ind), {}))
        if ind.id in latest:
            found[py.year] = latest[ind.id]
        result[ind.id] = _progress(ind, sorted(found.items()))
    return result


def _progress(ind: Indicator, found: list[tuple[int, Actual]]) -> _Progress:
    measure = _period_measure(ind)
    if not found:
        return _Progress(measure, None, None)
    last_year, last = found[-1]
    extra = {"period": month_label(last_year, last.month), "years": [year for year, _a in found]}
    if measure == rules.QUALITATIVE:
        assessment = rules.period_progress(measure, [a.assessment for _y, a in found])
        return _Progress(measure, {"value": None, "unit": None, "assessment": assessment, **extra}, None)
    target = period_target(ind)
    unit = target.unit if target.value is not None else (ind.annual_unit or last.unit)
    values = _in_unit([a for _y, a in found], unit)
    if values is None:
        return _Progress(measure, None, None)   # an actual of another base: not comparable
    value = rules.period_progress(measure, values)
    completion = None
    if value is not None and target.value is not None and target.op is not None:
        completion = rules.completion(target.op, target.value, unit, value, unit)
    return _Progress(measure, {"value": number(value), "unit": unit, "assessment": None, **extra}, completion)


def _in_unit(actuals: Iterable[Actual], unit: str | None) -> list[Decimal | None] | None:
    """Each actual's value expressed in `unit` (None: a value of another base among them)."""
    factor = split_unit(unit)[0]
    values = []
    for actual in actuals:
        if actual.value is None:
            values.append(None)
            continue
        if not same_base(actual.unit or unit, unit):
            return None
        values.append(to_base(actual.value, actual.unit or unit)[0] / factor)
    return values


# --------------------------------------------------------------------------- evaluation

def evaluation_dict(session: Session, py: ProjectYear, as_of: date, bands: rules.Thresholds) -> dict:
    """The `evaluation` answer, graded with the bands of settings; raises ValueError (Chinese)
    when it cannot be evaluated. Each
    indicator also carries its name and, when qualitative and assessed, the band an evaluator
    may score in (`band`: [min, max] points) and the evaluator's stored score (`evaluator_score`)."""
    evaluation = project_evaluation(session, py, as_of, bands)
    answer = evaluation.as_dict()
    states = {s.indicator.id: s for s in indicator_states(session, py, as_of)}
    for item, scored in zip(answer["indicators"], evaluation.indicators):
        state = states[scored.id]
        ind, assessment = state.indicator, state.actual.assessment if state.actual else None
        item.update(name=ind.name, measure=state.measure, assessment=assessment,
                    evaluator_score=number(ind.eval_score), band=None)
        if state.measure == rules.QUALITATIVE and assessment in rules.QUALITATIVE_BANDS:
            low, high = rules.QUALITATIVE_BANDS[assessment]
            item["band"] = [number(rules.for_display(scored.weight * low)),
                            number(rules.for_display(scored.weight * high))]
    answer["as_of"] = as_of.isoformat()
    return answer
