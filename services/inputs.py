"""A project year's inputs, loaded from the database for the domain core: the targets in force,
each indicator's measure, the actuals, the spending, the budget, the calendar and the settings'
bands. Every reader and every cache rebuild loads them through here."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import select

from domain import rules
from domain.calendar import DEFAULT_DEADLINE_DAY, YearCalendar
from domain.project_year import Entry, IndicatorInput, YearInputs
from models.actual import Actual, Spending, annual_target, effective_measure
from models.indicator import Indicator
from models.project import ProjectYear


def thresholds(config: Mapping) -> rules.Thresholds:
    """The bands of DOMAIN.md §4–§5 and §8 from settings (PACE_BANDS, LEVEL_YELLOW, GRADE_BANDS,
    OVER_BANDS); what is not set keeps its default."""
    d = rules.DEFAULT_THRESHOLDS
    pace = config.get("PACE_BANDS") or {}
    grades = config.get("GRADE_BANDS") or {}
    over = config.get("OVER_BANDS") or {}
    return rules.Thresholds(
        pace_green=pace.get("green", d.pace_green), pace_yellow=pace.get("yellow", d.pace_yellow),
        level_yellow=config.get("LEVEL_YELLOW", d.level_yellow),
        grade_excellent=grades.get("优", d.grade_excellent), grade_good=grades.get("良", d.grade_good),
        grade_fair=grades.get("中", d.grade_fair),
        over=over.get("mark", d.over), over_reason=over.get("reason", d.over_reason))


def current_config() -> Mapping:
    """The running app's settings; defaults outside an app (a bare script)."""
    from flask import current_app, has_app_context
    return current_app.config if has_app_context() else {}


def deadline_day(config: Mapping) -> int:
    return int(config.get("ENTRY_DEADLINE_DAY") or DEFAULT_DEADLINE_DAY)


def level1_of(ind: Indicator) -> str:
    return ind.level1_std or ind.level1


def indicator_input(ind: Indicator) -> IndicatorInput:
    return IndicatorInput(ind.id, level1_of(ind), effective_measure(ind), annual_target(ind), ind.name)


# --------------------------------------------------------------------------- loading the inputs

@dataclass
class Loaded:
    """One project year as stored: its inputs, and the rows whose cached figures derive from them."""
    year: ProjectYear
    inputs: YearInputs
    actuals: list[Actual]
    spending: list[Spending]


def load(session, project_year_ids: Iterable[int], config: Mapping, *, indicators: bool = True) -> dict[int, Loaded]:
    """The inputs of these project years; `indicators` False: the budget's alone (spending)."""
    with_indicators = indicators
    ids = sorted(set(project_year_ids))
    if not ids:
        return {}
    bands, day = thresholds(config), deadline_day(config)
    years = {py.id: py for py in session.scalars(select(ProjectYear).where(ProjectYear.id.in_(ids)))}
    indicators: dict[int, list[Indicator]] = defaultdict(list)
    all_indicators: dict[int, Indicator] = {}
    chosen = select(Indicator).where(Indicator.project_year_id.in_(ids)).order_by(Indicator.position)
    for ind in session.scalars(chosen) if with_indicators else ():
        all_indicators[ind.id] = ind
        if ind.retired_at is None and ind.annual_raw is not None:
            indicators[ind.project_year_id].append(ind)
    actuals: dict[int, list[Actual]] = defaultdict(list)
    if all_indicators:
        for actual in session.scalars(select(Actual).where(Actual.indicator_id.in_(list(all_indicators)))):
            actuals[all_indicators[actual.indicator_id].project_year_id].append(actual)
    spending: dict[int, list[Spending]] = defaultdict(list)
    for row in session.scalars(select(Spending).where(Spending.project_year_id.in_(ids))):
        spending[row.project_year_id].append(row)
    loaded = {}
    for py_id, py in years.items():
        active = {ind.id for ind in indicators[py_id]}
        entries: dict[int, dict[int, Entry]] = defaultdict(dict)
        for a in actuals[py_id]:
            if a.indicator_id in active:
                entries[a.indicator_id][a.month] = Entry(a.month, a.value, a.unit, a.assessment)
        inputs = YearInputs(YearCalendar(py.year, py.periods, day),
                            tuple(indicator_input(ind) for ind in indicators[py_id]), dict(entries),
                            {s.month: s.amount_yuan for s in spending[py_id]}, py.annual_total_yuan, (), bands)
        loaded[py_id] = Loaded(py, inputs, actuals[py_id], spending[py_id])
    return loaded
