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

from sqlalchemy import bindparam, select

from domain.calendar import YearCalendar
from domain.project_year import SpendingMark, Status, YearAsOf, YearFacts, budget_in_force, derive, explained_by
from models.actual import Actual, Spending
from models.db import prepared, rows
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
    judged_yuan: Decimal | None = None     # the budget `rate` is of: in force at the shown period's end
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
               config: Mapping | None = None, indicators: list[Indicator] | None = None) -> YearState:
    """The project year as of `as_of`, judged by the core from what is stored.

    Everything is read as plain rows (an ORM object per actual would cost more than judging
    it), the actual each indicator shows and the spending reports too (every column, named as
    on the ORM objects); only the active indicators are ORM objects (`indicators`, when the
    caller has them)."""
    config = _config(config, deadline_day)
    if indicators is None:
        indicators = active_indicators(session, py.id)
    reports = _spending_rows(session, py)
    facts = derive(inputs.load_part(session, py, indicators, True, config, spending=reports,
                                    through=_closed(py, as_of)))
    year = facts.as_of(as_of)
    flags = spending_flags(facts.calendar, facts.spending_marks, reports)
    return YearState(py, year, _indicator_states(session, indicators, facts, year),
                     _budget_state(py, facts, year, reports, flags, as_of), facts, {s.month: s for s in reports}, flags)


def _closed(py: ProjectYear, as_of: date) -> int:
    """The last period a reader as of `as_of` can see (0: none): nothing entered for a later one
    changes a figure as of then, so it is neither read nor judged (the page's trend ends there too)."""
    return YearCalendar(py.year, py.periods).closed_month(as_of) or 0


def _config(config: Mapping | None, deadline_day: int | None) -> dict:
    config = dict(config if config is not None else inputs.current_config())
    if deadline_day is not None:
        config["ENTRY_DEADLINE_DAY"] = deadline_day
    return config


# What an answer shows of the stored spending and actuals is read, not written: plain rows of
# every column (named like the ORM object's attributes), through `models.db.rows`.

@prepared      # read by every project page and API answer
def _spending_select():
    return select(*Spending.__table__.columns).where(Spending.project_year_id == bindparam("py_id"))


@prepared
def _actuals_select():
    return select(*Actual.__table__.columns).where(Actual.indicator_id.in_(bindparam("ids", expanding=True)),
                                                   Actual.month.in_(bindparam("months", expanding=True)))


def _spending_rows(session, py: ProjectYear) -> list[Spending]:
    return rows(session, _spending_select(), {"py_id": py.id})


def _indicator_states(session, indicators: list[Indicator], facts: YearFacts, year: YearAsOf) -> list[IndicatorState]:
    measures = {ind.id: ind.measure for ind in facts.inputs.indicators}
    statuses = [(ind, year.indicators[ind.id]) for ind in indicators if ind.id in year.indicators]
    shown = _shown_actuals(session, [(ind.id, status.shown) for ind, status in statuses if status.shown is not None])
    return [IndicatorState(ind, measures[ind.id], shown.get((ind.id, status.shown)), status, year.moment.closed)
            for ind, status in statuses]


def _shown_actuals(session, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], Actual]:
    """The stored actual of each (indicator, period month) shown: one query for them all."""
    if not wanted:
        return {}
    months = {month for _, month in wanted}
    found = rows(session, _actuals_select(), {"ids": sorted({i for i, _ in wanted}), "months": sorted(months)})
    keep = set(wanted)
    return {(a.indicator_id, a.month): a for a in found if (a.indicator_id, a.month) in keep}


def _budget_state(py: ProjectYear, facts: YearFacts, year: YearAsOf, reports: list[Spending],
                  flags: dict[int, SpendingFlag], as_of: date) -> BudgetState:
    budget = year.budget
    # 执行率 and pace of the report shown, against the budget at its period's end: what its
    # light was judged on (the overview's summaries read the same).
    judged = facts.spending.get(budget.shown) if budget.shown is not None else None
    shown = next((s for s in reports if s.month == budget.shown), None) if budget.shown is not None else None
    judged_on = facts.calendar.period_end(budget.shown) if budget.shown is not None else as_of
    return BudgetState(year.budget_yuan, py.annual_total_yuan, shown, budget,
                       judged.rate if judged else None, judged.pace if judged else None,
                       budget_in_force(py.annual_total_yuan, facts.inputs.adjustments, judged_on),
                       flags.get(budget.shown))


def indicator_states(session, py: ProjectYear, as_of: date, deadline_day: int | None = None,
                     indicators: list[Indicator] | None = None) -> list[IndicatorState]:
    states = year_state(session, py, as_of, deadline_day).indicators
    if indicators is None:
        return states
    wanted = {ind.id for ind in indicators}
    return [s for s in states if s.indicator.id in wanted]


def indicator_state(session, py: ProjectYear, ind: Indicator, as_of: date,
                    deadline_day: int | None = None, judged: YearFacts | None = None) -> IndicatorState:
    """One indicator as of a date: judged from its own entries and the calendar alone, which is
    all its light depends on (the answer to a PUT of its actual). `judged`: its year as the
    entry just judged it (services.entry.Entered), read as it is."""
    facts = judged if judged is not None else derive(
        inputs.load_part(session, py, [ind], False, _config(None, deadline_day), through=_closed(py, as_of)))
    return _indicator_states(session, [ind], facts, facts.as_of(as_of))[0]


def budget_state(session, py: ProjectYear, as_of: date, deadline_day: int | None = None,
                 judged: YearFacts | None = None) -> BudgetState:
    """The budget as of a date: judged from the spending, the budget and its adjustments alone.
    `judged`: the year as a spending entry just judged it (services.entry.EnteredSpending)."""
    reports = _spending_rows(session, py)
    facts = judged if judged is not None else derive(
        inputs.load_part(session, py, [], True, _config(None, deadline_day), spending=reports,
                         through=_closed(py, as_of)))
    flags = spending_flags(facts.calendar, facts.spending_marks, reports)
    return _budget_state(py, facts, facts.as_of(as_of), reports, flags, as_of)
