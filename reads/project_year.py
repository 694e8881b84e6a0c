"""A project year as of a date, through the domain core: every page, API answer, export, mail
and the self-evaluation read indicator and budget states from here.

The states carry the core's figures (light, last known light, completion, pace, 超额), never
the ones cached on the rows; the rows are still handed out for what people entered beside
the value (notes, forecast, version, who and when).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Mapping

from domain.calendar import YearCalendar
from domain.project_year import SpendingMark, Status, YearAsOf, YearFacts, derive, explained_by
from models.actual import Actual, Spending
from models.indicator import Indicator, active_indicators
from models.project import ProjectYear
from reads.wording import period_name
from services import inputs


class _Judged:
    """The light as of the date, and the light of the latest entered period beside it."""
    status: Status

    @property
    def light(self) -> str | None:
        return self.status.light

    @property
    def last_light(self) -> str | None:
        return self.status.last_light


@dataclass
class IndicatorState(_Judged):
    """An annual indicator as of a date: the entry shown (the latest of a period ended by then)
    and its status (light: grey when the judged period is missing, None when nothing is due)."""
    indicator: Indicator
    measure: str
    actual: Actual | None
    status: Status
    due_month: int | None         # the latest period that has ended

    @property
    def completion(self) -> Decimal | None:
        return self.status.judgement.completion if self.status.judgement else None

    @property
    def pace(self) -> Decimal | None:
        return self.status.judgement.pace if self.status.judgement else None

    @property
    def over(self) -> bool | None:
        """超额 of the entry shown; None without one."""
        return None if self.status.judgement is None else self.status.judgement.over


@dataclass(frozen=True)
class SpendingFlag:
    """A period's spending marked 超预算 / 冲减 (DOMAIN.md §3), with the note that explains it:
    its own, or the one of the earlier period whose raise made it a fall (`note_period` names
    that period); no note: stored before notes were asked for."""
    month: int
    words: tuple[str, ...]
    note: str | None
    note_month: int | None
    note_period: str | None            # the note's period, written as tables write it (7月)

    @property
    def label(self) -> str:
        """超预算, 冲减 or 超预算、冲减."""
        return "、".join(self.words)

    @property
    def text(self) -> str:
        """超预算：追加预算待批复 · 冲减：7月数据更正（7月的说明） · 冲减（未说明）"""
        if self.note is None:
            return f"{self.label}（未说明）"
        if self.note_month != self.month:
            return f"{self.label}：{self.note}（{self.note_period}的说明）"
        return f"{self.label}：{self.note}"


def spending_flags(cal: YearCalendar, marks: Mapping[int, SpendingMark], rows) -> dict[int, SpendingFlag]:
    """The marked periods (the core's `marks`) with their notes, from the spending `rows`."""
    notes = {r.month: r.note for r in rows if r.note}
    flags = {}
    for month, mark in marks.items():
        by = explained_by(marks, month, notes)
        flags[month] = SpendingFlag(month, mark.words, notes.get(by), by,
                                    period_name(cal, by) if by is not None else None)
    return flags


@dataclass
class BudgetState(_Judged):
    annual_yuan: Decimal | None        # the budget in force at the as-of date
    initial_yuan: Decimal | None       # 年度资金总额 as imported
    spending: Spending | None          # the latest report shown
    status: Status
    rate: Decimal | None
    pace: Decimal | None
    flag: SpendingFlag | None = None   # the report shown, when 超预算 / 冲减

    @property
    def spent_yuan(self) -> Decimal | None:
        return self.spending.amount_yuan if self.spending else None

    @property
    def execution_rate(self) -> Decimal | None:
        return self.rate


@dataclass
class YearState:
    year: ProjectYear
    as_of: YearAsOf
    indicators: list[IndicatorState]
    budget: BudgetState
    facts: YearFacts                     # every entry judged: the trend of a chart
    spending: dict[int, Spending]        # period month → its report
    spending_flags: dict[int, SpendingFlag]   # period month → 超预算 / 冲减 and its note


def year_state(session, py: ProjectYear, as_of: date, deadline_day: int | None = None,
               config: Mapping | None = None) -> YearState:
    """The project year as of `as_of`, judged by the core from what is stored."""
    config = dict(config if config is not None else inputs.current_config())
    if deadline_day is not None:
        config["ENTRY_DEADLINE_DAY"] = deadline_day
    loaded = inputs.load(session, [py.id], config)[py.id]
    facts = derive(loaded.inputs)
    year = facts.as_of(as_of)
    rows = {(a.indicator_id, a.month): a for a in loaded.actuals}
    measures = {ind.id: ind.measure for ind in loaded.inputs.indicators}
    states = []
    for ind in active_indicators(session, py.id):
        if ind.id not in year.indicators:
            continue
        status = year.indicators[ind.id]
        shown = rows.get((ind.id, status.shown)) if status.shown is not None else None
        states.append(IndicatorState(ind, measures[ind.id], shown, status, year.moment.closed))
    budget = year.budget
    # 执行率 and pace of the report shown, against the budget at its period's end: what its
    # light was judged on (the overview's summaries read the same).
    judged = facts.spending.get(budget.shown) if budget.shown is not None else None
    reports = {s.month: s for s in loaded.spending}
    flags = spending_flags(facts.calendar, facts.spending_marks, loaded.spending)
    return YearState(py, year, states,
                     BudgetState(year.budget_yuan, py.annual_total_yuan, reports.get(budget.shown), budget,
                                 judged.rate if judged else None, judged.pace if judged else None,
                                 flags.get(budget.shown)),
                     facts, reports, flags)


def indicator_states(session, py: ProjectYear, as_of: date, deadline_day: int | None = None,
                     indicators: list[Indicator] | None = None) -> list[IndicatorState]:
    states = year_state(session, py, as_of, deadline_day).indicators
    if indicators is None:
        return states
    wanted = {ind.id for ind in indicators}
    return [s for s in states if s.indicator.id in wanted]


def indicator_state(session, py: ProjectYear, ind: Indicator, as_of: date,
                    deadline_day: int | None = None) -> IndicatorState:
    return next(s for s in year_state(session, py, as_of, deadline_day).indicators if s.indicator.id == ind.id)


def budget_state(session, py: ProjectYear, as_of: date, deadline_day: int | None = None) -> BudgetState:
    return year_state(session, py, as_of, deadline_day).budget
