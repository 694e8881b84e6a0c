"""The 实施期 (multi-year) indicators' progress over the project's years the user may see
(DOMAIN.md §3), for the project page and the API alike."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable

from sqlmodel import Session, select

from importers.values import Target, same_base, split_unit, to_base
from domain import rules
from domain.calendar import YearCalendar
from domain.indicators import effective_measure
from models.actual import Actual
from models.indicator import Indicator
from models.project import Project, ProjectYear
from models.user import User
from reads.scope import projects_visible_to
from reads.wording import value_text
from services.importing import indicator_key


def period_target(ind: Indicator) -> Target:
    return Target(raw=ind.period_raw or "", kind=ind.period_kind or "qualitative", op=ind.period_op,
                  value=ind.period_value, unit=ind.period_unit)


@dataclass
class Progress:
    """A 实施期 indicator's progress (DOMAIN.md §3): cumulative ones add up the project's
    year-end actuals, level and qualitative ones take the latest. `value` is in `unit` (the
    实施期 target's), an assessment for qualitative ones; `period` the latest entry's
    (year, month); `years` the years it is made of."""
    measure: str
    raw: str | None
    value: Decimal | str | None = None
    unit: str | None = None
    completion: Decimal | None = None
    period: tuple[int, int] | None = None
    years: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.value if isinstance(self.value, str) else value_text(self.value, self.unit)


def period_measure(ind: Indicator) -> str:
    """The indicator's measure (staff's override included); from the 实施期 target without a 年度 one."""
    if ind.annual_raw is not None:
        return effective_measure(ind)
    return rules.infer_measure(ind.period_level3, period_target(ind))


def _match_key(ind: Indicator) -> tuple[str, str]:
    return indicator_key(ind.level1, ind.period_level3 or ind.name)


def period_progress(session: Session, user: User, py: ProjectYear, indicators: list[Indicator],
                    as_of: date, current: dict[int, Actual] | None = None,
                    years: list[ProjectYear] | None = None) -> dict[int, Progress]:
    """实施期 progress of these indicators of `py`, over the project's years the user may see.
    `current`: the latest actual due by `as_of` of each of `py`'s indicators with a 年度 target
    that has one, when the caller has read them already (`indicator_states`); `years`: the
    project's years the user may see, when the caller has read them (`project_years_to_read`)."""
    if not indicators:
        return {}
    if years is None:
        years = [y for _p, y in session.exec(projects_visible_to(user).where(Project.id == py.project_id))]
    years = [y for y in years if y.year <= py.year]
    due = {y.id: YearCalendar(y.year, y.periods).closed_month(as_of) for y in years}
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


def _progress(ind: Indicator, found: list[tuple[int, Actual]]) -> Progress:
    measure = period_measure(ind)
    if not found:
        return Progress(measure, ind.period_raw)
    last_year, last = found[-1]
    extra = {"period": (last_year, last.month), "years": [year for year, _a in found]}
    if measure == rules.QUALITATIVE:
        assessment = rules.period_progress(measure, [a.assessment for _y, a in found])
        return Progress(measure, ind.period_raw, assessment, **extra)
    target = period_target(ind)
    unit = target.unit if target.value is not None else (ind.annual_unit or last.unit)
    values = _in_unit([a for _y, a in found], unit)
    if values is None:
        return Progress(measure, ind.period_raw)   # an actual of another base: not comparable
    value = rules.period_progress(measure, values)
    completion = None
    if value is not None and target.value is not None and target.op is not None:
        completion = rules.completion(target.op, target.value, unit, value, unit)
    return Progress(measure, ind.period_raw, value, unit, completion, **extra)


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
