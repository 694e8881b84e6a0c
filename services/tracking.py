"""How a project year is tracked: monthly or quarterly reporting, and each indicator's measure
(累计 / 水平 / 定性, DOMAIN.md §3). Changing either judges the stored actuals again
(services/derived.py) and brings the project year's open alerts in line (services/alerts.py),
in the caller's transaction."""
from __future__ import annotations

from sqlmodel import Session, select

from domain import rules
from domain.indicators import annual_target, effective_measure
from models.actual import Actual, ActualChange, EntryError
from models.indicator import Indicator
from models.project import ProjectYear
from services import alerts, derived, inputs
from services.entry import Context, snapshot


def set_periods(session: Session, py: ProjectYear, periods: str, ctx: Context) -> None:
    """Monthly or quarterly reporting for one project year; what is derived follows (each
    actual is judged against its own month's 序时进度, so only the summaries and the alerts,
    which read the periods, change)."""
    if periods not in rules.PERIODS:
        raise EntryError("填报周期应为按月或按季度", "periods")
    py.periods = periods
    session.add(py)
    session.flush()
    config = inputs.current_config()
    derived.rejudge(session, [py.id], config)
    alerts.after_write(session, [py.id], ctx.now, config)


def set_measure(session: Session, ind: Indicator, py: ProjectYear, measure: str | None, ctx: Context) -> bool:
    """Staff's choice of measure (None or "": back to the default of §3). The stored actuals are
    judged again under the new measure, each change kept in the history; switching between a
    number and an assessment is refused once actuals exist (one cannot become the other).
    Returns whether the measure changed."""
    measure = measure or None
    if measure is not None and measure not in rules.MEASURES:
        raise EntryError("计量方式应为累计、水平或定性", "measure")
    target = annual_target(ind)
    if measure in (rules.CUMULATIVE, rules.LEVEL) and target.value is None:
        raise EntryError(f"指标值“{target.raw}”没有数字，只能按定性评价", "measure")
    before = effective_measure(ind)
    ind.measure_override = measure
    after = effective_measure(ind)
    session.add(ind)
    if after == before:
        return False
    actuals = list(session.exec(select(Actual).where(Actual.indicator_id == ind.id).order_by(Actual.month)))
    if actuals and rules.QUALITATIVE in (before, after):
        raise EntryError("该指标已有实际值，不能在定量与定性之间切换：已填的数值与完成情况无法互相换算", "measure")
    olds = [snapshot(actual) | {"measure": before} for actual in actuals]
    session.flush()
    config = inputs.current_config()
    derived.rejudge(session, [py.id], config)
    for actual, old in zip(actuals, olds):
        actual.version += 1
        actual.updated_by, actual.updated_at = ctx.who, ctx.now
        session.add(actual)
        session.add(ActualChange(indicator_id=ind.id, month=actual.month, changed_by=ctx.who, changed_at=ctx.now,
                                 old=old, new=snapshot(actual) | {"measure": after}))
    alerts.after_write(session, [py.id], ctx.now, config)
    return True
