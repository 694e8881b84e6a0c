"""The domain core (domain/): one project year's inputs → every derived figure as of a date.

Property tests hold its readers together for random project years and histories and as-of
dates anywhere in or after the year: what a page shows as of a date and what the overview's
summary row counts for it."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain import rules
from domain.calendar import MONTHLY, QUARTERLY, Moment, YearCalendar, period_label
from domain.project_year import (Adjustment, Entry, IndicatorInput, SpendingMark, YearInputs, budget_in_force,
                                 budget_summary_rows, derive, explained_by, judge_entry, light_summary_rows,
                                 note_wanted, open_alerts, spending_marks, year_spending_marks)
from domain.units import Target
from importers.values import parse_target

YEAR = 2023
TARGETS = ["≥70家", "≥500平方米", "≤3700万元", "≥95%", "≥800亿元", "保障", "=0起", "<5个工作日", "≥10万人次"]


def indicator(ind_id: int, raw: str, level1: str = "产出指标", measure: str | None = None) -> IndicatorInput:
    target = parse_target(raw)
    return IndicatorInput(ind_id, level1, measure or rules.infer_measure("", target), target, raw)


as_of_dates = st.dates(min_value=date(YEAR - 1, 12, 1), max_value=date(YEAR + 1, 3, 31))
calendars = st.builds(YearCalendar, st.just(YEAR), st.sampled_from([MONTHLY, QUARTERLY]), st.integers(1, 27))


@settings(suppress_health_check=[HealthCheck.too_slow])     # a shared, busy machine: generation is cheap here
@given(calendars, as_of_dates)
def test_the_closed_period_is_the_latest_ended(cal, as_of):
    closed = cal.closed_month(as_of)
    if closed is None:
        assert as_of < cal.period_end(cal.step)
    else:
        assert cal.period_end(closed) <= as_of and closed in cal.months
        later = [m for m in cal.months if m > closed]
        assert as_of.year > cal.year or not later or cal.period_end(later[0]) > as_of


def test_a_page_opens_on_the_latest_ended_period_else_the_first():
    assert YearCalendar(YEAR).default_month(date(YEAR, 8, 3)) == 7
    assert YearCalendar(YEAR, QUARTERLY).default_month(date(YEAR, 8, 3)) == 6
    assert YearCalendar(YEAR, QUARTERLY).default_month(date(YEAR, 2, 1)) == 3
    assert YearCalendar(YEAR).default_month(date(YEAR + 1, 1, 10)) == 12
    assert period_label(YEAR, 9, QUARTERLY) == f"{YEAR}年第3季度"
    assert period_label(YEAR, 7, QUARTERLY) == f"{YEAR}年7月"


def test_a_deadline_day_past_the_27th_is_refused():
    """On 28 February a deadline on the 28th would leave January's window open while February
    has ended: the period judged then would be January, grey on its own deadline day."""
    try:
        YearCalendar(YEAR, MONTHLY, 28)
    except ValueError as exc:
        assert "1到27日" in str(exc)
    else:
        raise AssertionError("the 28th was accepted")


entries = st.dictionaries(st.integers(1, 12), st.one_of(
    st.decimals(min_value=0, max_value=10 ** 6, places=2).map(lambda v: Entry(0, v)),
    st.sampled_from(rules.ASSESSMENTS).map(lambda a: Entry(0, assessment=a))), max_size=12)


@st.composite
def project_years(draw):
    cal = draw(calendars)
    raws = draw(st.lists(st.sampled_from(TARGETS), min_size=0, max_size=6))
    levels = draw(st.lists(st.sampled_from(list(rules.LEVEL1_POINTS)), min_size=len(raws), max_size=len(raws)))
    indicators = tuple(indicator(n + 1, raw, level) for n, (raw, level) in enumerate(zip(raws, levels)))
    history = {}
    for ind in indicators:
        drawn = draw(entries)
        history[ind.id] = {m: Entry(m, e.value, None, e.assessment) for m, e in drawn.items()
                           if cal.is_period(m) and (e.assessment is None) == (ind.measure != rules.QUALITATIVE)}
    spending = {m: v for m, v in draw(st.dictionaries(st.integers(1, 12), st.decimals(0, 10 ** 8, places=2))).items()
                if cal.is_period(m)}
    budget = draw(st.one_of(st.none(), st.decimals(1, 10 ** 8, places=2)))
    return YearInputs(cal, indicators, history, spending, budget)


@settings(max_examples=150, deadline=None)
@given(project_years(), as_of_dates)
def test_every_status_agrees_with_the_summaries(inputs, as_of):
    """The project as of a date (what the page shows) and its summary row (what the overview
    counts) give the same lights."""
    facts = derive(inputs)
    year = facts.as_of(as_of)
    closed = year.moment.closed
    if closed is None or as_of.year < YEAR:
        return
    month = 12 if as_of.year > YEAR else (as_of.month if as_of == _month_end(as_of) else as_of.month - 1)
    late = as_of > inputs.calendar.deadline(month)
    row = next(r for r in light_summary_rows(1, facts) if r["month"] == month and r["level1"] == "")
    prefix = "" if late else "early_"
    for light in (rules.GREEN, rules.YELLOW, rules.RED, rules.GREY):
        assert row[prefix + light] == sum(1 for s in year.indicators.values() if s.light == light)
    budget = next(r for r in budget_summary_rows(1, facts) if r["month"] == month)
    assert budget[prefix + "light"] == year.budget.light
    assert (budget[prefix + "period"] or None) == year.budget.period
    if late:        # the summary's spending is the one shown after the deadline
        mark = year.spending_mark
        assert (budget["over_budget"], budget["reduced"]) == ((mark.over_budget, mark.reduced) if mark else (False, False))


@st.composite
def years_near_their_deadlines(draw):
    """A project year and a date: any, or a period's end, its deadline or the day after."""
    inputs = draw(project_years())
    cal, month = inputs.calendar, draw(st.integers(1, 12))
    near = [cal.period_end(month), cal.deadline(month), cal.deadline(month) + timedelta(days=1)]
    return inputs, draw(st.one_of(as_of_dates, st.sampled_from(near)))


@settings(max_examples=150, deadline=None)
@given(years_near_their_deadlines())
def test_a_grey_light_is_a_judged_period_past_its_deadline(drawn):
    """Grey means no usable entry after the entry deadline (§4): never on or before it."""
    inputs, as_of = drawn
    year = derive(inputs).as_of(as_of)
    for status in [*year.indicators.values(), year.budget]:
        if status.light == rules.GREY:
            assert as_of > inputs.calendar.deadline(status.period)


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def test_the_worked_example_of_domain_6():
    july = Moment(7, True)
    cal = YearCalendar(YEAR)
    cases = [("≥70家", 35, "green"), ("≥500平方米", 200, "yellow"), ("≤3700万元", 25000000, "yellow"),
             ("≥800亿元", 300 * 10 ** 8, "yellow")]
    for n, (raw, value, light) in enumerate(cases, start=1):
        ind = indicator(n, raw)
        unit = "元" if "元" in raw else None
        assert judge_entry(ind, Entry(7, Decimal(value), unit)).light == light, raw
    assert judge_entry(indicator(9, "≥95%"), Entry(7, Decimal(93))).light == "yellow"
    assert cal.judged(july, {7}) == 7


def test_a_changed_target_rejudges_the_entry():
    """Re-import ≥70家 → ≥80家 with a July actual of 60: r 0.75, p 60 / (80 · 7/12)."""
    before = judge_entry(indicator(1, "≥70家"), Entry(7, Decimal(60)))
    after = judge_entry(indicator(1, "≥80家"), Entry(7, Decimal(60)))
    assert rules.for_display(before.completion, 4) == Decimal("0.8571")
    assert after.completion == Decimal("0.75")
    assert rules.for_display(after.pace, 4) == rules.for_display(Decimal(60) / (Decimal(80) * 7 / 12), 4)


def test_the_year_as_entered_through_a_month_is_derive_of_those_entries():
    """entered_through keeps the judgements of the whole year's derive: it must be what derive
    gives for the earlier entries alone, alerts and statuses alike."""
    from dataclasses import replace

    from domain.project_year import entered_through
    inds = (indicator(1, "≥70家"), indicator(2, "≥500平方米"), indicator(3, "保障"))
    entries = {1: {m: Entry(m, Decimal(6 * m)) for m in range(1, 10)},
               2: {m: Entry(m, Decimal(20 * m)) for m in (2, 5, 6, 9)},
               3: {m: Entry(m, assessment="部分达成" if m > 4 else "达成") for m in range(1, 8)}}
    spending = {m: Decimal(70 * m) for m in range(1, 9)} | {5: Decimal(100), 8: Decimal(1200)}   # 冲减, 超预算
    inputs = YearInputs(YearCalendar(YEAR), inds, entries, spending, Decimal(1000))
    whole = derive(inputs)
    for month in range(0, 13):
        alone = derive(replace(inputs, entries={i: {m: e for m, e in es.items() if m <= month} for i, es in entries.items()},
                               spending={m: a for m, a in inputs.spending.items() if m <= month}))
        kept = entered_through(whole, month)
        assert kept.judgements == alone.judgements and kept.spending == alone.spending, month
        assert kept.spending_marks == alone.spending_marks, month
        for day in (date(YEAR, 3, 3), date(YEAR, 6, 30), date(YEAR, 8, 6), date(YEAR + 1, 1, 10)):
            assert open_alerts(kept, day) == open_alerts(alone, day), (month, day)
            assert kept.as_of(day) == alone.as_of(day), (month, day)
    assert entered_through(whole, 12).judgements == whole.judgements


@settings(max_examples=150, deadline=None)
@given(project_years(), as_of_dates)
def test_a_reader_judging_only_the_periods_it_can_see_reads_what_the_whole_year_gives(inputs, as_of):
    """Pages and API answers derive only the periods closed by their date (derive's `through`):
    as of that date, and any earlier one, every status, the budget, the 超预算 / 冲减 mark and the
    open alerts are those of the whole year judged; a later date, or summary rows, are refused."""
    import pytest
    whole = derive(inputs)
    closed = inputs.calendar.closed_month(as_of) or 0
    cut = derive(inputs, through=closed)
    assert all(m <= closed for months in cut.judgements.values() for m in months) and all(m <= closed for m in cut.spending)
    for day in (as_of, as_of - timedelta(days=40), date(YEAR, 1, 1)):
        assert cut.as_of(day) == whole.as_of(day), day
        assert open_alerts(cut, day) == open_alerts(whole, day), day
    if closed < 12:
        with pytest.raises(ValueError):
            cut.as_of(date(YEAR + 1, 1, 10))
        with pytest.raises(ValueError):
            light_summary_rows(1, cut)
        with pytest.raises(ValueError):
            budget_summary_rows(1, cut)


def test_a_red_with_nothing_after_it_reads_grey_with_its_last_light_at_year_end():
    ind = indicator(1, "≥500平方米")
    inputs = YearInputs(YearCalendar(YEAR), (ind,), {1: {9: Entry(9, Decimal(100))}}, {}, Decimal(1000))
    facts = derive(inputs)
    status = facts.as_of(date(YEAR + 1, 1, 10)).indicators[1]
    assert (status.light, status.last_light, status.shown, status.period) == ("grey", "red", 9, 12)
    kinds = {(a.kind, a.light, a.period) for a in open_alerts(facts, date(YEAR + 1, 1, 10)) if a.indicator_id == 1}
    assert kinds == {("overdue", "grey", 12), ("light", "red", 9)}


def test_over_achievement_is_marked_at_1_2():
    assert judge_entry(indicator(1, "≥70家"), Entry(7, Decimal(100))).over          # p = 2.45
    assert not judge_entry(indicator(1, "≥70家"), Entry(12, Decimal(80))).over      # r = 1.14
    assert judge_entry(indicator(1, "≥70家"), Entry(12, Decimal(84))).over          # r = 1.2
    assert not judge_entry(indicator(1, "≤3700万元"), Entry(12, Decimal(1))).over


def test_the_budget_in_force_follows_adjustments_by_date():
    cut = (Adjustment(date(YEAR, 6, 30), Decimal(-7000000)),)
    assert budget_in_force(Decimal(37000000), cut, date(YEAR, 6, 29)) == Decimal(37000000)
    assert budget_in_force(Decimal(37000000), cut, date(YEAR, 7, 31)) == Decimal(30000000)
    inputs = YearInputs(YearCalendar(YEAR), (), {}, {7: Decimal(15000000)}, Decimal(37000000), cut)
    facts = derive(inputs)
    assert facts.spending[7].rate == Decimal("0.5") and facts.spending[7].light == "green"
    assert facts.as_of(date(YEAR, 8, 7)).budget_yuan == Decimal(30000000)


def test_a_target_without_its_number_cannot_judge_an_old_value():
    ind = IndicatorInput(1, "产出指标", rules.CUMULATIVE, Target("保障", "qualitative", None, None, None))
    assert judge_entry(ind, Entry(7, Decimal(3))) is None


# --------------------------------------------------------------------------- 超预算 / 冲减 (§3)

def yuan(amounts: dict[int, int]) -> dict[int, Decimal]:
    return {m: Decimal(v) for m, v in amounts.items()}


@given(st.dictionaries(st.integers(1, 12), st.integers(0, 50)), st.one_of(st.none(), st.integers(0, 50)))
def test_a_period_is_marked_when_above_the_budget_or_below_an_earlier_one(amounts, budget):
    marks = spending_marks(yuan(amounts), dict.fromkeys(amounts, None if budget is None else Decimal(budget)))
    for month, amount in amounts.items():
        earlier = {m: a for m, a in amounts.items() if m < month}
        over = budget is not None and amount > budget
        reduced = any(a > amount for a in earlier.values())
        assert (month in marks) == (over or reduced)
        if month in marks:
            mark = marks[month]
            assert mark.over_budget == over and mark.reduced == reduced
            if reduced:    # the latest of the highest before it
                peak = max(earlier.values())
                assert mark.below == max(m for m, a in earlier.items() if a == peak)


def test_5000_wan_against_a_3700_wan_budget_is_over_budget_and_still_green():
    """DOMAIN §4 keeps the budget light on the bands of a cumulative ≥ (p ≥ 0.8: green): the
    light says the spending is on pace; the mark says it exceeds the budget."""
    facts = derive(YearInputs(YearCalendar(YEAR), (), {}, yuan({7: 50_000_000}), Decimal(37_000_000)))
    assert facts.spending[7].light == rules.GREEN
    assert facts.spending_marks == {7: SpendingMark(True)}
    assert facts.spending_marks[7].words == ("超预算",)


def test_the_budget_in_force_at_each_periods_end_decides_over_budget():
    cut = (Adjustment(date(YEAR, 6, 30), Decimal(-7_000_000)),)
    inputs = YearInputs(YearCalendar(YEAR), (), {}, yuan({5: 32_000_000, 7: 33_000_000}), Decimal(37_000_000), cut)
    assert year_spending_marks(inputs) == {7: SpendingMark(True)}


def test_a_fall_is_below_the_latest_highest_earlier_period_and_quarters_ignore_left_over_months():
    marks = spending_marks(yuan({3: 10, 6: 30, 7: 30, 8: 20, 9: 25}), {})
    assert marks == {8: SpendingMark(False, 7), 9: SpendingMark(False, 7)}
    quarterly = YearInputs(YearCalendar(YEAR, "quarterly"), (), {}, yuan({3: 10, 7: 99, 9: 20}), None)
    assert year_spending_marks(quarterly) == {}


def test_a_fall_is_explained_by_its_own_note_or_by_the_raise_that_made_it():
    marks = spending_marks(yuan({6: 18, 7: 16}), dict.fromkeys((6, 7), Decimal(17)))   # 6: over, 7: below 6
    assert explained_by(marks, 7, {7}) == 7
    assert explained_by(marks, 7, {6}) == 6
    assert explained_by(marks, 6, {7}) is None       # 超预算 is explained by its own note only
    assert explained_by(marks, 5, {5}) is None       # not marked


def test_an_entry_needs_a_note_for_its_own_mark_and_for_the_later_falls_it_makes():
    marks = spending_marks(yuan({6: 18, 7: 16, 8: 17}), {})
    wanted = note_wanted(marks, 6, set())
    assert not wanted.own and wanted.later == (7, 8) and wanted
    assert note_wanted(marks, 6, {7, 8}).later == () and not note_wanted(marks, 6, {7, 8})
    assert note_wanted(marks, 7, set()).own == SpendingMark(False, 6)
