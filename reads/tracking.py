"""The project page's tracking section (DOMAIN.md §3): for the chosen period, each annual
indicator's entry row (value, light, evidence, history count, its chart, the 实施期 progress)
and the spending row."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from domain.calendar import YearCalendar, month_end, period_label
from models.actual import Actual, SpendingChange
from models.db import columns_of, prepared, rows as plain_rows
from models.indicator import Indicator, active_indicators_to_read
from models.project import Project, ProjectYear
from domain.project_year import budget_in_force, year_spending_marks
from models.user import User
from reads.indicator_facts import Origin, target_origins
from reads.period_progress import Progress, period_progress
from reads.project_year import SpendingFlag, spending_flags
from reads.wording import forecast_text, user_labels, value_text
from services.inputs import load_spending


def annual_indicators(session: Session, py: ProjectYear) -> list[Indicator]:
    """The active indicators with a 年度 target, to show (detached, never written through)."""
    return [i for i in active_indicators_to_read(session, py.id) if i.annual_raw is not None]


# What the tracking table shows of the stored actuals and spending changes is read, not written:
# plain rows of every column, named like the ORM objects' attributes (models.db.rows, here `plain_rows`).

@prepared
def _actuals_through():
    return (select(*columns_of(Actual)).where(Actual.indicator_id.in_(bindparam("ids", expanding=True)),
                                              Actual.month <= bindparam("month"))
            .order_by(Actual.month))


@prepared
def _spending_changes():
    return (select(*columns_of(SpendingChange)).where(SpendingChange.project_year_id == bindparam("py_id"))
            .order_by(SpendingChange.changed_at.desc(), SpendingChange.id.desc()))


@dataclass
class ChartPoint:
    month: int
    value: Decimal        # in the annual target's unit
    light: str
    mark: str = ""        # spending: 超预算 / 冲减, written beside the dot


@dataclass
class EntryRow:
    """One annual indicator for one reporting period, as the entry table shows it."""
    indicator: Indicator
    measure: str
    actual: Actual | None                # this period's own actual
    light: str | None                    # its light; grey past the deadline without one; None before
    units: list[str]
    evidence: list                       # Evidence rows of this period's actual
    changes: int                         # entries in the history (all periods)
    points: list[ChartPoint]             # this year's actuals up to the period, for the chart
    progress: Progress | None
    default_measure: str = "cumulative"  # §3's inference, what "默认" means in the measure select
    last_light: str | None = None        # beside a grey light: the light of the latest earlier entry (§9)
    over: bool = False                   # this period's actual is 超额 (§8): shown in blue beside the light
    over_reason_from: Decimal | None = None   # the form asks for 超额原因 at r from here (the year's last period)
    origin: Origin | None = None         # the 原目标 when the target in force is a changed one

    @property
    def target_unit(self) -> str | None:
        return self.indicator.annual_unit

    @property
    def actual_text(self) -> str:
        a = self.actual
        if a is None:
            return ""
        return a.assessment or "" if self.measure == "qualitative" else value_text(a.value, a.unit)

    @property
    def rate_notice(self) -> str | None:
        """A word under the row when the value looks wrong though it is accepted."""
        from domain.units import rate_above_whole
        a = self.actual
        if a is not None and self.measure != "qualitative" and rate_above_whole(a.value, a.unit or self.target_unit):
            return "比率超过100%，请核实"
        return None

    @property
    def forecast_text(self) -> str:
        a = self.actual
        return forecast_text(self.measure, a.forecast, a.forecast_assessment, a.unit) if a else ""


@dataclass
class SpendingRow:
    annual_yuan: Decimal | None          # 调整后预算数: in force at the period's end (DOMAIN §7)
    spending: object | None              # Spending of this period
    light: str | None
    f: Decimal
    changes: list                        # SpendingChange rows of the year, newest first
    labels: dict[str, str]
    initial_yuan: Decimal | None = None  # 年初预算数 (年度资金总额)
    flag: SpendingFlag | None = None     # this period's spending, when 超预算 / 冲减


@dataclass
class Tracking:
    """The entry section of the project page for one period."""
    project: Project
    year: ProjectYear
    month: int
    as_of: date
    deadline: date
    f: Decimal
    months: list[tuple[int, str, bool]]  # each period of the year: end month, label, ended by as_of
    spending: SpendingRow
    rows: list[EntryRow]

    @property
    def period(self) -> str:
        return f"{self.year.year}-{self.month:02d}"

    @property
    def label(self) -> str:
        return period_label(self.year.year, self.month, self.year.periods)

    @property
    def period_end(self) -> date:
        return month_end(self.year.year, self.month)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"green": 0, "yellow": 0, "red": 0, "grey": 0, "none": 0}
        for row in self.rows:
            counts[row.light or "none"] += 1
        return counts


def tracking(session: Session, user: User, project: Project, py: ProjectYear, month: int, as_of: date,
             deadline_day: int) -> Tracking:
    from domain import rules
    cal = YearCalendar(py.year, py.periods, deadline_day)
    indicators = annual_indicators(session, py)
    months = [(m, period_label(py.year, m, py.periods), cal.period_end(m) <= as_of) for m in cal.months]
    return Tracking(project, py, month, as_of, cal.deadline(month),
                    rules.elapsed_share(month, rules.MONTHLY), months,
                    spending_row(session, py, month, as_of, deadline_day),
                    entry_rows(session, user, project, py, indicators, month, as_of, deadline_day))


def spending_row(session: Session, py: ProjectYear, month: int, as_of: date, deadline_day: int) -> SpendingRow:
    from domain import rules
    from models.actual import spending_of
    spending = spending_of(session, py.id, month)
    deadline = YearCalendar(py.year, deadline_day=deadline_day).deadline(month)
    light = spending.light if spending else rules.light_without_actual(as_of, deadline)
    changes = plain_rows(session, _spending_changes(), {"py_id": py.id})
    inputs, rows = load_spending(session, py)
    flags = spending_flags(inputs.calendar, year_spending_marks(inputs), rows)
    budget = budget_in_force(inputs.initial_budget_yuan, inputs.adjustments, inputs.calendar.period_end(month))   # §7
    return SpendingRow(budget, spending, light, rules.elapsed_share(month, rules.MONTHLY), changes,
                       user_labels(session, [c.changed_by for c in changes]), py.annual_total_yuan, flags.get(month))


def entry_rows(session: Session, user: User, project: Project, py: ProjectYear, indicators: list[Indicator],
               month: int, as_of: date, deadline_day: int) -> list[EntryRow]:
    from domain import rules
    from domain.indicators import annual_target, effective_measure
    from domain.units import unit_choices
    from models.actual import ActualChange
    from models.evidence import evidence_of
    from services.inputs import current_config, thresholds
    bands = thresholds(current_config())
    ids = [i.id for i in indicators]
    by_indicator: dict[int, list[Actual]] = {}
    if ids:
        for a in plain_rows(session, _actuals_through(), {"ids": ids, "month": month}):
            by_indicator.setdefault(a.indicator_id, []).append(a)
    own = {i: next((a for a in rows if a.month == month), None) for i, rows in by_indicator.items()}
    files = evidence_of(session, [a.id for a in own.values() if a is not None])
    counts = dict(session.exec(select(ActualChange.indicator_id, func.count()).where(ActualChange.indicator_id.in_(ids))
                               .group_by(ActualChange.indicator_id)).all()) if ids else {}
    missing_light = rules.light_without_actual(as_of, YearCalendar(py.year, deadline_day=deadline_day).deadline(month))
    progress = period_progress(session, user, py, [i for i in indicators if i.period_raw is not None],
                               month_end(py.year, month))
    origins = target_origins(session, py.id)
    rows = []
    for ind in indicators:
        measure = effective_measure(ind)
        actual = own.get(ind.id)
        rows.append(EntryRow(
            indicator=ind, measure=measure, actual=actual,
            light=actual.light if actual else missing_light,
            units=unit_choices(ind.annual_unit), evidence=files.get(actual.id, []) if actual else [],
            changes=counts.get(ind.id, 0),
            points=_chart_points(ind, measure, by_indicator.get(ind.id, [])),
            progress=progress.get(ind.id),
            default_measure=rules.infer_measure(ind.annual_level3, annual_target(ind)),
            last_light=by_indicator[ind.id][-1].light if actual is None and by_indicator.get(ind.id) else None,
            over=is_over(ind, actual, bands),
            over_reason_from=bands.over_reason if asks_over_reason(ind, measure, month) else None,
            origin=origins.get((ind.id, "annual"))))
    return rows


def is_over(ind: Indicator, actual: Actual | None, bands) -> bool:
    """超额 of one period's actual, as the domain core judges it (DOMAIN.md §8)."""
    from domain.project_year import Entry, judge_entry
    from services.inputs import indicator_input
    if actual is None:
        return False
    judgement = judge_entry(indicator_input(ind), Entry(actual.month, actual.value, actual.unit, actual.assessment),
                            bands)
    return bool(judgement and judgement.over)


def asks_over_reason(ind: Indicator, measure: str, month: int) -> bool:
    """The entry of the year's last period of a growing quantitative target may need a 超额原因."""
    from domain import rules
    from domain.indicators import annual_target
    return month == 12 and measure != rules.QUALITATIVE and annual_target(ind).op in (">=", ">")


def _in_unit(value, unit: str | None, target_unit: str | None) -> Decimal | None:
    """`value` in `unit` expressed in `target_unit` (same base), else None."""
    from importers.values import same_base, split_unit, to_base
    if value is None or not same_base(unit or target_unit, target_unit):
        return None
    base, _ = to_base(Decimal(str(value)), unit or target_unit)
    return base / split_unit(target_unit)[0]


def _chart_points(ind: Indicator, measure: str, actuals: list) -> list[ChartPoint]:
    if measure == "qualitative" or ind.annual_value is None:
        return []
    points = []
    for a in actuals:
        value = _in_unit(a.value, a.unit, ind.annual_unit)
        if value is not None:
            points.append(ChartPoint(a.month, value, a.light))
    return points
