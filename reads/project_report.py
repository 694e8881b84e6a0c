"""One project year in the reports (/reports/projects/<id>): its lights, its budget and every
indicator's monthly trend as of a date, read from the domain core (reads/project_year.py)
with the settings' deadline day and bands, so that it shows the lights the overview counts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Mapping

from sqlmodel import Session, select

from domain import rules
from domain.indicators import annual_target
from importers.values import Target, split_unit
from models.indicator import Indicator
from models.org import Department, Unit
from models.project import Project, ProjectYear
from reads.scope import visible_years
from models.summary import level1_of
from models.user import User
from reads.project_year import year_state
from reads.report_filters import AsOf
from reads.report_sums import Counts, ProjectBudget, fen


@dataclass
class TrendPoint:
    month: int
    value: Decimal | None         # in the target's unit; None for qualitative
    assessment: str | None
    light: str


@dataclass
class IndicatorReport:
    indicator: Indicator
    level1: str
    measure: str
    target: Target
    light: str | None
    period: int | None            # the judged period
    value: Decimal | None         # its actual, in the target's unit
    assessment: str | None
    completion: Decimal | None
    pace: Decimal | None
    points: list[TrendPoint]
    last_light: str | None = None  # the light of the latest entered period, beside a grey one (§9)
    over: bool = False            # the judged period's entry is 超额 (§8)

    @property
    def name(self) -> str:
        return self.indicator.name


@dataclass
class ProjectReport:
    project: Project
    year: ProjectYear
    unit: Unit
    department: Department
    years: list[int]
    moment: AsOf
    counts: Counts
    budget: ProjectBudget
    budget_light: str | None
    spending: list[tuple[int, Decimal, str | None]]     # (month, cumulative 元, light)
    indicators: list[IndicatorReport]
    spending_flags: dict = field(default_factory=dict)  # month → reads.project_year.SpendingFlag (超预算 / 冲减)

    @property
    def latest_flag(self):
        """The flag of the spending shown (the latest month listed), if it is marked."""
        return self.spending_flags.get(self.spending[-1][0]) if self.spending else None


def _in_target_unit(value: Decimal | None, unit: str | None, target_unit: str | None) -> Decimal | None:
    if value is None:
        return None
    return value * split_unit(unit)[0] / split_unit(target_unit)[0]


def project_report(session: Session, user: User, project_id: int, year: int | None,
                   as_of: date, config: Mapping) -> ProjectReport | None:
    """One project year as of a date, with every indicator's monthly trend, judged with the
    settings `config`; None when the user may not see it (or it has no such year). Without a
    year: the latest that has begun."""
    rows = session.execute(select(Project, ProjectYear).join(ProjectYear, ProjectYear.project_id == Project.id)
                           .where(Project.id == project_id, visible_years(user))).all()
    years = sorted({py.year for _p, py in rows})
    if year is None and years:
        year = max([y for y in years if y <= as_of.year] or years[:1])
    chosen = next((py for _p, py in rows if py.year == year), None)
    if chosen is None:
        return None
    project, moment = rows[0][0], AsOf.of(year, as_of, config)
    state = year_state(session, chosen, as_of, config=config)
    closed = state.as_of.moment.closed
    reports, counts = [], Counts()
    for own in state.indicators:
        ind, status, target = own.indicator, own.status, annual_target(own.indicator)
        actual = own.actual if status.period is not None and status.period == status.shown else None
        counts.indicators += 1
        if status.light:
            setattr(counts, status.light, counts.of(status.light) + 1)
        judged = state.facts.judgements.get(ind.id, {})
        entries = state.facts.inputs.entries.get(ind.id, {})
        points = [TrendPoint(m, _in_target_unit(e.value, e.unit or target.unit, target.unit), e.assessment,
                             judged[m].light if m in judged else rules.GREY)
                  for m, e in sorted(entries.items()) if closed is not None and m <= closed
                  and state.facts.calendar.is_period(m)]
        reports.append(IndicatorReport(
            ind, level1_of(ind.level1_std, ind.level1), own.measure, target, status.light, status.period,
            _in_target_unit(actual.value, actual.unit, target.unit) if actual else None,
            actual.assessment if actual else None, own.completion if actual else None,
            own.pace if actual else None, points, status.last_light, bool(actual and own.over)))
    budget_status = state.budget.status
    known = sorted(m for m in state.spending if closed is not None and m <= closed
                   and state.facts.calendar.is_period(m))
    budget = ProjectBudget.of(fen(state.budget.annual_yuan), fen(state.spending[known[-1]].amount_yuan) if known else None,
                              budget_status.period or 0, budget_status.light)
    series = [(m, state.spending[m].amount_yuan, state.facts.spending[m].light) for m in known]
    return ProjectReport(project, chosen, session.get(Unit, project.unit_id),
                         session.get(Department, chosen.department_id), years, moment, counts, budget,
                         budget_status.light, series, reports, {m: state.spending_flags[m] for m in known
                                                                if m in state.spending_flags})
