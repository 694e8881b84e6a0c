"""One project year's inputs → everything derived, as of any date (DOMAIN.md §3–§9).

The inputs are what people entered and what is in force: the annual targets (after approved
changes and re-imports), each indicator's measure, the actuals per period, the cumulative
spending per period, the budget, the calendar and the settings. Nothing here reads a stored
light: every completion, pace, light, last known light, 超额, alert and summary count is
computed from the inputs, so whatever is stored for speed can be rebuilt and compared
(`flask check`).

- `judge_entry` judges one period's entry (what the entry row caches);
- `indicator_status` / `budget_status` give an indicator or the budget as of a moment;
- `YearFacts.as_of(date)` gives the whole project year as of a date;
- `spending_marks` / `year_spending_marks` find the spending that is 超预算 or 冲减, and
  `explained_by` / `note_wanted` say which note explains it and when an entry needs one;
- `summary_rows` are the report summaries (one row per calendar month, before and after its
  deadline) and `open_alerts` the alerts that should stand.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Collection, Mapping, NamedTuple, Sequence

from domain import rules
from domain.calendar import Moment, YearCalendar
from domain.units import Target

LIGHTS = (rules.GREEN, rules.YELLOW, rules.RED, rules.GREY)
LIGHT_COLUMNS = tuple(prefix + light for prefix in ("", "early_") for light in LIGHTS)
ALL_LEVELS = ""                    # the summary row over every 一级指标
FEN = 100


@dataclass(frozen=True)
class IndicatorInput:
    """An annual indicator as it stands: `level1` the standard 一级指标, `measure` the effective
    one (staff's override applied), `target` the 年度 target in force."""
    id: int
    level1: str
    measure: str
    target: Target
    name: str = ""


# Entry and Judgement are named tuples: `flask check` makes one of each per actual of a
# province (1.7 million), and a frozen dataclass takes several times as long to build.

class Entry(NamedTuple):
    """One period's actual: a value in `unit` (None: the target's) or an assessment."""
    month: int
    value: Decimal | None = None
    unit: str | None = None
    assessment: str | None = None


class Judgement(NamedTuple):
    """One entry judged against the target in force: r, p, light and 超额."""
    completion: Decimal | None
    pace: Decimal | None
    light: str
    over: bool = False


def judge_entry(ind: IndicatorInput, entry: Entry, thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS
                ) -> Judgement | None:
    """The entry's completion, pace, light and 超额 at its period's end; None when it cannot be
    judged against the target in force (a value of another base, a target that lost its number)."""
    f = YearCalendar.share(entry.month)
    try:
        if ind.measure == rules.QUALITATIVE:
            if entry.assessment is None:
                return None
            j = rules.judge(ind.measure, ind.target, f=f, assessment=entry.assessment, thresholds=thresholds)
        else:
            if entry.value is None:
                return None
            j = rules.judge(ind.measure, ind.target, f=f, value=entry.value, unit=entry.unit or ind.target.unit,
                            thresholds=thresholds)
    except ValueError:
        return None
    over = ind.measure != rules.QUALITATIVE and rules.is_over(ind.target.op, j.completion, j.pace, thresholds)
    return Judgement(j.completion, j.pace, j.light, over)


@dataclass(frozen=True)
class Status:
    """An indicator (or the budget) as of a moment.

    `shown` is the latest period entered by then (its entry is what a page shows), `period`
    the judged period, `light` the light as of the moment (grey: the judged period has no
    entry; None: nothing due yet), `last_light` the light of the latest entered period (what
    a grey light hides)."""
    shown: int | None
    period: int | None
    light: str | None
    last_light: str | None
    judgement: Judgement | None = None

    @property
    def is_grey(self) -> bool:
        return self.light == rules.GREY


def status_of(cal: YearCalendar, moment: Moment, lights: Mapping[int, str | None],
              judgements: Mapping[int, Judgement] | None = None) -> Status:
    """The status at `moment` from the lights of the entered periods (month → light)."""
    closed = moment.closed
    entered = [] if closed is None else [m for m in lights if m <= closed and cal.is_period(m)]
    shown = max(entered) if entered else None
    period = cal.judged(moment, entered)
    if period is None:
        light = None
    else:
        light = lights[period] if period in entered else rules.GREY
    last = lights[shown] if shown is not None else None
    judgement = judgements.get(shown) if judgements is not None and shown is not None else None
    return Status(shown, period, light, last, judgement)


def light_at_month(cal: YearCalendar, lights: Mapping[int, str | None], month: int, late: bool) -> str | None:
    """The light at dates whose latest closed calendar month is `month`, after (`late`) or
    before that month's deadline: what one cell of the report summaries counts."""
    return status_of(cal, cal.month_moment(month, late), lights).light


# --------------------------------------------------------------------------- the budget

@dataclass(frozen=True)
class Adjustment:
    """A 追加 (positive) or 调减 (negative) of the budget from `on`."""
    on: date
    amount_yuan: Decimal


def budget_in_force(initial_yuan: Decimal | None, adjustments: Sequence[Adjustment], on: date) -> Decimal | None:
    """全年预算数 on a date: 年度资金总额 plus every adjustment dated on or before it (§7)."""
    if initial_yuan is None:
        return None
    return initial_yuan + sum((a.amount_yuan for a in adjustments if a.on <= on), Decimal(0))


@dataclass(frozen=True)
class BudgetJudgement:
    rate: Decimal | None
    pace: Decimal | None
    light: str | None


def judge_spending(spent_yuan: Decimal, budget_yuan: Decimal | None, month: int,
                   thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS) -> BudgetJudgement:
    f = YearCalendar.share(month)
    return BudgetJudgement(rules.execution_rate(spent_yuan, budget_yuan),
                           rules.budget_pace(spent_yuan, budget_yuan, f),
                           rules.budget_light(spent_yuan, budget_yuan, f, thresholds))


# --------------------------------------------------------------------------- spending that falls or exceeds

OVER_BUDGET, REDUCED = "超预算", "冲减"


class SpendingMark(NamedTuple):
    """§3: a period's cumulative spending above the budget in force at its end (超预算), or below
    an earlier period's (冲减; `below` is that period: the latest of those with the highest
    amount before it). Either is accepted only with a note."""
    over_budget: bool
    below: int | None = None

    @property
    def reduced(self) -> bool:
        return self.below is not None

    @property
    def words(self) -> tuple[str, ...]:
        return mark_words(self.over_budget, self.reduced)


def mark_words(over_budget: bool, reduced: bool) -> tuple[str, ...]:
    """超预算, 冲减 or both, in that order."""
    return tuple(word for word, on in ((OVER_BUDGET, over_budget), (REDUCED, reduced)) if on)


def spending_marks(spending: Mapping[int, Decimal], budgets: Mapping[int, Decimal | None]) -> dict[int, SpendingMark]:
    """The marked periods of a year's cumulative spending (period month → 元), each judged against
    the budget in force at its end (`budgets`, month → 元; None: unknown, never 超预算) and the
    periods before it."""
    marks: dict[int, SpendingMark] = {}
    peak: tuple[Decimal, int] | None = None          # the highest amount so far, and its latest period
    for month in sorted(spending):
        amount, budget = spending[month], budgets.get(month)
        over = budget is not None and amount > budget
        below = peak[1] if peak is not None and amount < peak[0] else None
        if over or below is not None:
            marks[month] = SpendingMark(over, below)
        if peak is None or amount >= peak[0]:
            peak = (amount, month)
    return marks


_UNMARKED = SpendingMark(False)


def explained_by(marks: Mapping[int, SpendingMark], month: int, noted: Collection[int]) -> int | None:
    """The period whose note explains `month`'s mark: its own; for a fall alone, else the note of
    the period it fell below (an earlier period raised later, with its note saying why); None:
    not marked, or not explained (stored before notes were asked for)."""
    mark = marks.get(month)
    if mark is None:
        return None
    if month in noted:
        return month
    if not mark.over_budget and mark.below in noted:
        return mark.below
    return None


class NoteWanted(NamedTuple):
    """Why an entry of a period needs a note: its own mark, and the later periods that fall below
    it with no note of their own (an earlier period raised above a later one: the edit that
    makes the fall is the one asked to explain it)."""
    own: SpendingMark | None
    later: tuple[int, ...]

    def __bool__(self) -> bool:
        return self.own is not None or bool(self.later)


def note_wanted(marks: Mapping[int, SpendingMark], month: int, noted: Collection[int]) -> NoteWanted:
    """For an entry of `month`, `marks` being those of the series with it: why it needs a note
    (false: it does not). `noted`: the other periods that carry a note."""
    later = tuple(m for m, mark in sorted(marks.items()) if mark.below == month and m not in noted)
    return NoteWanted(marks.get(month), later)


# --------------------------------------------------------------------------- a whole year

@dataclass(frozen=True)
class YearInputs:
    """Everything one project year's figures depend on."""
    calendar: YearCalendar
    indicators: tuple[IndicatorInput, ...]
    entries: Mapping[int, Mapping[int, Entry]]        # indicator id → period month → entry
    spending: Mapping[int, Decimal]                    # period month → cumulative 元
    initial_budget_yuan: Decimal | None
    adjustments: tuple[Adjustment, ...] = ()
    thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS
    seen_through: int = 12            # a reader's cut: only the periods up to this month (see `derive`)

    def through(self, month: int) -> YearInputs:
        """The inputs a reader as of a moment closing `month` sees: the entries and spending of
        the periods up to it. Nothing later changes a figure as of such a moment (a light, the
        last known light, 超预算 / 冲减 look back, never forward)."""
        if month >= self.seen_through:
            return self
        return replace(self.entered_through(month), seen_through=month)

    def entered_through(self, month: int) -> YearInputs:
        """The inputs as they stood when only the periods up to `month` had been entered (readable
        at any later moment: the later periods were simply not entered yet)."""
        return replace(self, entries={ind: {m: e for m, e in months.items() if m <= month}
                                      for ind, months in self.entries.items()},
                       spending={m: amount for m, amount in self.spending.items() if m <= month})


@dataclass(frozen=True)
class YearAsOf:
    """A project year as of a date: each indicator's status, and the budget's."""
    moment: Moment
    indicators: dict[int, Status]
    budget: Status
    budget_yuan: Decimal | None
    spent_yuan: Decimal | None
    spending_mark: SpendingMark | None = None          # of the spending shown (budget.shown)


@dataclass
class YearFacts:
    """A project year judged: every entry's judgement, from which any moment is read."""
    inputs: YearInputs
    judgements: dict[int, dict[int, Judgement]] = field(default_factory=dict)     # indicator → month →
    spending: dict[int, BudgetJudgement] = field(default_factory=dict)            # month → (budget at month end)
    spending_marks: dict[int, SpendingMark] = field(default_factory=dict)         # month → 超预算 / 冲减

    @property
    def calendar(self) -> YearCalendar:
        return self.inputs.calendar

    def lights(self, indicator_id: int) -> dict[int, str]:
        """Entered periods → light. An entry that cannot be judged against the target in force
        (an assessment of what is now a number, a value in another base) reads grey, like a
        missing one: the period has no usable actual (§4), and its row caches grey too."""
        entries = self.inputs.entries.get(indicator_id, {})
        judged = self.judgements.get(indicator_id, {})
        return {m: (judged[m].light if m in judged else rules.GREY) for m in entries if m in self._periods}

    def budget_lights(self) -> dict[int, str | None]:
        return {m: j.light for m, j in self.spending.items() if m in self._periods}

    @cached_property
    def _periods(self) -> frozenset[int]:
        """The calendar's period months, for the lights of every indicator (a set is quickest)."""
        return frozenset(self.calendar.months)

    def as_of(self, as_of: date) -> YearAsOf:
        return self.at(self.calendar.moment(as_of), as_of)

    def at(self, moment: Moment, budget_on: date) -> YearAsOf:
        """The year at a moment of its calendar, the budget as in force on `budget_on`: what a
        table of one period reads (that period closed, late or not on the day it is made),
        whatever the date it is made on."""
        if (moment.closed or 0) > self.inputs.seen_through:
            raise ValueError(f"derived through month {self.inputs.seen_through} only, read at {moment}")
        statuses = {ind.id: status_of(self.calendar, moment, self.lights(ind.id), self.judgements.get(ind.id))
                    for ind in self.inputs.indicators}
        budget = status_of(self.calendar, moment, self.budget_lights())
        spent = self.inputs.spending[budget.shown] if budget.shown is not None else None
        return YearAsOf(moment, statuses, budget,
                        budget_in_force(self.inputs.initial_budget_yuan, self.inputs.adjustments, budget_on), spent,
                        self.spending_marks.get(budget.shown))


def derive(inputs: YearInputs, through: int | None = None) -> YearFacts:
    """Judge every entry and every spending report of the year against what is in force; with
    `through`, only those of the periods up to that month: all a reader as of a moment that
    closes no later period needs (a page as of July need not judge August…December). Such
    facts refuse to be read at a later moment, and are no summary rows' source."""
    if through is not None:
        inputs = inputs.through(through)
    facts = YearFacts(inputs)
    for ind in inputs.indicators:
        judged = {}
        for month, entry in inputs.entries.get(ind.id, {}).items():
            judgement = judge_entry(ind, entry, inputs.thresholds)
            if judgement is not None:
                judged[month] = judgement
        facts.judgements[ind.id] = judged
    for month, amount in inputs.spending.items():
        budget = budget_in_force(inputs.initial_budget_yuan, inputs.adjustments, inputs.calendar.period_end(month))
        facts.spending[month] = judge_spending(amount, budget, month, inputs.thresholds)
    facts.spending_marks = year_spending_marks(inputs)
    return facts


def entered_through(facts: YearFacts, month: int) -> YearFacts:
    """The year as it stood when only the periods up to `month` had been entered: `derive` of
    those inputs. Each entry and each spending report is judged on its own, against what is in
    force, so their judgements are kept rather than made again (a replay of a year at every
    entry, as `flask demo synth` does, would otherwise judge the year a dozen times over)."""
    return YearFacts(facts.inputs.entered_through(month),
                     {ind: {m: j for m, j in judged.items() if m <= month} for ind, judged in facts.judgements.items()},
                     {m: j for m, j in facts.spending.items() if m <= month},
                     {m: mark for m, mark in facts.spending_marks.items() if m <= month})   # each looks back only


def year_spending_marks(inputs: YearInputs, spending: Mapping[int, Decimal] | None = None) -> dict[int, SpendingMark]:
    """The year's 超预算 / 冲减 periods (§3), each against the budget in force at its end; with
    `spending`, of that series instead of the stored one (an entry about to be made). Months
    that are not periods of the calendar (left from before a change to quarterly) are history."""
    cal = inputs.calendar
    series = {m: amount for m, amount in (inputs.spending if spending is None else spending).items()
              if cal.is_period(m)}
    budgets = {m: budget_in_force(inputs.initial_budget_yuan, inputs.adjustments, cal.period_end(m)) for m in series}
    return spending_marks(series, budgets)


# --------------------------------------------------------------------------- what is stored for speed

def _fen(yuan) -> int | None:
    return None if yuan is None else int((Decimal(str(yuan)) * FEN).to_integral_value())


@lru_cache(maxsize=4096)
def month_statuses(cal: YearCalendar, lights: tuple[tuple[int, str | None], ...]) -> tuple[tuple[Status, Status], ...]:
    """The status after and before each calendar month's deadline (months 1…12), from the
    entered periods' lights as sorted (month, light) pairs. A province's indicators share a few
    hundred histories (most are green all year), so each is worked out once."""
    own = dict(lights)
    return tuple((status_of(cal, cal.month_moment(month, True), own), status_of(cal, cal.month_moment(month, False), own))
                 for month in range(1, 13))


def _history(lights: Mapping[int, str | None]) -> tuple[tuple[int, str | None], ...]:
    """The entered periods' lights as `month_statuses` takes them (cheap to hash and compare)."""
    return tuple(sorted(lights.items()))


def _whole_year(facts: YearFacts) -> None:
    if facts.inputs.seen_through < 12:
        raise ValueError("summary rows need the whole year derived, not a reader's cut")


def light_summary_rows(project_year_id: int, facts: YearFacts) -> list[dict]:
    """Per calendar month and 一级指标 (plus the row over all of them): how many indicators are
    green … grey after that month's deadline, and as `early_*` before it."""
    _whole_year(facts)
    cal = facts.calendar
    by_level: dict[str, Counter] = defaultdict(Counter)          # 一级指标 → {history: indicators}
    for ind in facts.inputs.indicators:
        by_level[ind.level1][_history(facts.lights(ind.id))] += 1
    levels = {level1: [(month_statuses(cal, history), count) for history, count in histories.items()]
              for level1, histories in by_level.items()}
    rows = []
    for month in range(1, 13):
        total = _light_row(project_year_id, month, ALL_LEVELS)
        for level1, histories in levels.items():
            row = _light_row(project_year_id, month, level1)
            for statuses, count in histories:
                row["indicators"] += count
                for prefix, status in zip(("", "early_"), statuses[month - 1]):
                    if status.light is not None:
                        row[prefix + status.light] += count
            for key in ("indicators", *LIGHT_COLUMNS):
                total[key] += row[key]
            rows.append(row)
        rows.append(total)
    return rows


def _light_row(project_year_id: int, month: int, level1: str) -> dict:
    return {"project_year_id": project_year_id, "month": month, "level1": level1, "indicators": 0} | \
        dict.fromkeys(LIGHT_COLUMNS, 0)


def budget_summary_rows(project_year_id: int, facts: YearFacts) -> list[dict]:
    """Per calendar month: the budget at that month's end, the latest cumulative spending (and
    whether it is 超预算 / 冲减), and the light and judged period after / before the month's
    deadline (0: nothing due yet)."""
    _whole_year(facts)
    cal = facts.calendar
    rows = []
    for month, (late, early) in enumerate(month_statuses(cal, _history(facts.budget_lights())), start=1):
        budget = budget_in_force(facts.inputs.initial_budget_yuan, facts.inputs.adjustments, cal.period_end(month))
        mark = facts.spending_marks.get(late.shown, _UNMARKED)
        rows.append({
            "project_year_id": project_year_id, "month": month, "annual_fen": _fen(budget),
            "spent_fen": _fen(facts.inputs.spending[late.shown]) if late.shown is not None else None,
            "over_budget": mark.over_budget, "reduced": mark.reduced,
            "light": late.light, "period": late.period or 0,
            "early_light": early.light, "early_period": early.period or 0})
    return rows


@dataclass(frozen=True)
class DueAlert:
    """An alert that should be open as of a moment: `indicator_id` None for the budget."""
    indicator_id: int | None
    kind: str              # "light" (yellow/red) | "overdue" (grey) | "over" (blue: 超额, for information)
    light: str
    period: int


LIGHT_ALERT, OVERDUE_ALERT, OVER_ALERT = "light", "overdue", "over"


def open_alerts(facts: YearFacts, as_of: date) -> list[DueAlert]:
    """§4: an alert stands while an indicator or the budget is yellow or red (from its latest
    entry), or grey past the deadline (overdue, for the judged period). §8: an over alert
    (light blue; the indicator's own light stays green) stands while the entry shown is 超额 —
    exactly when the indicator reads `over` (IND `over`), grey or not."""
    year = facts.as_of(as_of)
    due = []
    items = [(ind_id, status) for ind_id, status in year.indicators.items()] + [(None, year.budget)]
    for ind_id, status in items:
        if status.light == rules.GREY:
            due.append(DueAlert(ind_id, OVERDUE_ALERT, rules.GREY, status.period))
        if status.last_light in (rules.YELLOW, rules.RED):
            due.append(DueAlert(ind_id, LIGHT_ALERT, status.last_light, status.shown))
        if status.judgement is not None and status.judgement.over:
            due.append(DueAlert(ind_id, OVER_ALERT, rules.BLUE, status.shown))
    return due
