"""Actuals, budget spending, their history, and the alerts they raise (DOMAIN.md §3–§4).

One actual per annual indicator and reporting period (keyed by the period's end month). Its
completion, pace and light are computed by models/rules.py when it is written and stored
with it, so lists and reports read them instead of recomputing a year. Every write keeps
the old and new values in an append-only change table, and carries a version so that a
second editor working from a stale page is told instead of overwriting.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from functools import cache
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from pydantic import field_validator
from sqlalchemy import JSON, Column, Numeric, Text, UniqueConstraint, and_, bindparam, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select

from importers.values import Target, parse_number, same_base, split_unit, to_base
from models import rules
from models.indicator import Indicator, active_indicators
from models.project import ProjectYear

DEVIATION_REASONS = ("经费保障", "制度保障", "人员保障", "硬件保障", "其他")
LIKELIHOODS = ("确定能", "有可能", "完全不可能")
DEFAULT_DEADLINE_DAY = 5
MAX_NUMBER = Decimal(10) ** 15      # what the columns hold (Numeric(24, 6), money Numeric(18, 2))
VALUE_PLACES, MONEY_PLACES = 6, 2    # and the decimals they keep


def kept(number: Decimal, places: int) -> Decimal:
    """`number` as its column keeps it (ROUND_HALF_UP beyond `places` decimals): what is judged
    must be what is stored, or `flask check` finds the stored figures off by the dropped digits."""
    if number.as_tuple().exponent >= -places:
        return number
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ratio() -> Column:
    return Column(Numeric(24, 10), nullable=True)


class Actual(SQLModel, table=True):
    __tablename__ = "actual"
    __table_args__ = (UniqueConstraint("indicator_id", "month", name="uq_actual_period"),)
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    month: int                       # end month of the reporting period (quarterly: 3, 6, 9, 12)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))
    unit: str | None = Field(default=None, max_length=40)       # as entered
    assessment: str | None = Field(default=None, max_length=10)
    forecast: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))
    deviation_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deviation_note: str | None = Field(default=None, sa_column=Column(Text))
    likelihood: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, sa_column=Column(Text))
    completion: Decimal | None = Field(default=None, sa_column=ratio())
    pace: Decimal | None = Field(default=None, sa_column=ratio())
    light: str = Field(max_length=10)
    version: int = 1
    updated_by: str = Field(max_length=100)
    updated_at: datetime


class ActualChange(SQLModel, table=True):
    """Append-only: who changed which actual when, from what to what."""
    __tablename__ = "actual_change"
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    month: int
    changed_by: str = Field(max_length=100)
    changed_at: datetime
    old: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    new: dict = Field(sa_column=Column(JSON, nullable=False))


class Spending(SQLModel, table=True):
    """Cumulative budget spending (元) at a period's end, with its stored light."""
    __tablename__ = "spending"
    __table_args__ = (UniqueConstraint("project_year_id", "month", name="uq_spending_period"),)
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    month: int
    amount_yuan: Decimal = Field(sa_column=Column(Numeric(18, 2), nullable=False))
    execution_rate: Decimal | None = Field(default=None, sa_column=ratio())
    pace: Decimal | None = Field(default=None, sa_column=ratio())
    light: str | None = Field(default=None, max_length=10)
    version: int = 1
    updated_by: str = Field(max_length=100)
    updated_at: datetime


class SpendingChange(SQLModel, table=True):
    __tablename__ = "spending_change"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    month: int
    old_amount_yuan: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2), nullable=True))
    new_amount_yuan: Decimal = Field(sa_column=Column(Numeric(18, 2), nullable=False))
    changed_by: str = Field(max_length=100)
    changed_at: datetime


class Alert(SQLModel, table=True):
    """Open while an indicator (or the budget, indicator_id NULL) is yellow/red, or while a
    period's actual is missing past its deadline (kind "overdue")."""
    __tablename__ = "alert"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id", index=True)
    kind: str = Field(max_length=10)          # "light" | "overdue"
    month: int
    light: str = Field(max_length=10)
    opened_at: datetime
    closed_at: datetime | None = Field(default=None, index=True)


class EntryError(ValueError):
    """Bad input for an actual or spending: a Chinese message naming the field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class StaleEdit(Exception):
    """The value was changed by someone else since the editor loaded it."""

    def __init__(self, current_version: int, updated_by: str):
        super().__init__(f"该数值已被{updated_by}修改，请刷新后在最新数据上修改")
        self.current_version = current_version
        self.updated_by = updated_by


class VersionRequired(Exception):
    """A write that would replace a stored value without naming the version it was based on,
    where the caller asked for one (the API: a script that never read the value must not
    overwrite someone's entry unseen)."""

    def __init__(self):
        super().__init__("该期已有数值，请先读取并在请求中附上 version 或 If-Match，以免覆盖他人的填报")


# --------------------------------------------------------------------------- input

class ActualInput(SQLModel):
    """What an editor sends for one period (page form, API body or Excel row)."""
    value: Decimal | None = None
    unit: str | None = None
    assessment: str | None = None
    forecast: Decimal | None = None
    deviation_reasons: list[str] = []
    deviation_note: str | None = None
    likelihood: str | None = None
    note: str | None = None
    version: int | None = None

    @field_validator("value", "forecast", mode="before")
    @classmethod
    def _number(cls, raw):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
            raise ValueError("不是有效的数字")   # a list or an object from a JSON body
        number = parse_number(raw) if isinstance(raw, str) else Decimal(str(raw))
        if not number.is_finite():
            raise ValueError("不是有效的数字")
        if abs(number) >= MAX_NUMBER:
            raise ValueError("数值过大")
        return kept(number, VALUE_PLACES)

    @field_validator("unit", "assessment", "likelihood", "note", "deviation_note", mode="before")
    @classmethod
    def _text(cls, raw):
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise ValueError("应为文字")
        return raw.strip() or None

    @field_validator("deviation_reasons", mode="before")
    @classmethod
    def _reasons(cls, raw):
        if raw is None or raw == "":
            return []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
            raise ValueError("应为偏差原因的列表")
        unknown = [r for r in raw if r not in DEVIATION_REASONS]
        if unknown:
            raise ValueError(f"未知的偏差原因“{unknown[0]}”，可选：{'、'.join(DEVIATION_REASONS)}")
        return list(dict.fromkeys(raw))


FIELD_NAMES = {"value": "实际值", "unit": "单位", "assessment": "完成情况", "forecast": "全年预计",
               "deviation_reasons": "偏差原因", "deviation_note": "偏差说明", "likelihood": "完成可能性",
               "note": "备注", "version": "版本", "amount_yuan": "支出金额"}


def validation_message(exc) -> str:
    """The one mapper of pydantic validation errors to Chinese (STYLE.md)."""
    parts = []
    for error in exc.errors():
        name = FIELD_NAMES.get(str(error["loc"][0]) if error["loc"] else "", "输入")
        message = str(error.get("ctx", {}).get("error") or "") or _pydantic_message(error)
        parts.append(f"{name}：{message}")
    return "；".join(parts)


def _pydantic_message(error: dict) -> str:
    kind = error.get("type", "")
    if "int" in kind or "decimal" in kind or "float" in kind:
        return "不是有效的数字"
    if kind == "missing":
        return "必须填写"
    return "格式不正确"


# --------------------------------------------------------------------------- the calendar

def period_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def entry_deadline(year: int, month: int, deadline_day: int = DEFAULT_DEADLINE_DAY) -> date:
    """The period's actual is due by this day of the following month (default the 5th)."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return date(y, m, min(deadline_day, calendar.monthrange(y, m)[1]))


def period_months(periods: str) -> list[int]:
    return list(range(1, 13)) if periods == rules.MONTHLY else [3, 6, 9, 12]


def last_closed_month(year: int, as_of: date, periods: str) -> int | None:
    """The end month of the latest reporting period that has ended by `as_of` (None: none yet)."""
    if as_of < period_end(year, 1 if periods == rules.MONTHLY else 3):
        return None
    if as_of.year > year:
        return 12
    closed = as_of.month if as_of >= period_end(year, as_of.month) else as_of.month - 1
    months = [m for m in period_months(periods) if m <= closed]
    return months[-1] if months else None


def judged_month(year: int, as_of: date, periods: str, deadline_day: int = DEFAULT_DEADLINE_DAY) -> int | None:
    """The period whose entry decides a light as of `as_of`: the latest that has ended, but while
    its entry window is still open the one before it, whose deadline has passed (§4: grey = no
    actual after the entry deadline). None: no deadline has passed yet. An entry of that period
    or a later one gives the light; without one the light is grey."""
    due = last_closed_month(year, as_of, periods)
    if due is None or as_of > entry_deadline(year, due, deadline_day):
        return due
    earlier = [m for m in period_months(periods) if m < due]
    return earlier[-1] if earlier else None


def check_period(py: ProjectYear, year: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise EntryError(f"月份“{month}”无效，应为 1 到 12", "period")
    if year != py.year:
        raise EntryError(f"期间 {year}-{month:02d} 不在项目的 {py.year} 年度内", "period")
    if py.periods == rules.QUARTERLY and month % 3:
        raise EntryError("该项目按季度填报，期间只能是 3、6、9、12 月", "period")


# --------------------------------------------------------------------------- indicators

def annual_target(ind: Indicator) -> Target:
    return Target(raw=ind.annual_raw or "", kind=ind.annual_kind or "qualitative", op=ind.annual_op,
                  value=ind.annual_value, unit=ind.annual_unit)


def effective_measure(ind: Indicator) -> str:
    target = annual_target(ind)
    if ind.measure_override:
        if ind.measure_override != rules.QUALITATIVE and target.value is None:
            return rules.QUALITATIVE  # a non-numeric target can only be assessed
        return ind.measure_override
    return rules.infer_measure(ind.annual_level3, target)


def _snapshot(actual: Actual) -> dict:
    return {"value": _plain(actual.value), "unit": actual.unit, "assessment": actual.assessment,
            "forecast": _plain(actual.forecast), "deviation_reasons": list(actual.deviation_reasons or []),
            "deviation_note": actual.deviation_note, "likelihood": actual.likelihood, "note": actual.note,
            "light": actual.light}


def _plain(value: Decimal | None):
    if value is None:
        return None
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _configured_thresholds() -> rules.Thresholds:
    from services.derived import current_config, thresholds   # services build on models
    return thresholds(current_config())


@dataclass
class Context:
    """What a write needs besides the input: who, when, and the settings (by default the light
    bands in the app's settings, which `flask check` judges with too)."""
    who: str
    now: datetime
    thresholds: rules.Thresholds = field(default_factory=_configured_thresholds)


def record_actual(session: Session, ind: Indicator, py: ProjectYear, year: int, month: int,
                  data: ActualInput, ctx: Context, overwrite_needs_version: bool = False) -> Actual:
    """Validate, judge and store one period's actual; raise EntryError, StaleEdit or
    VersionRequired (see `check_version`)."""
    check_period(py, year, month)
    if ind.retired_at is not None or ind.annual_raw is None:
        raise EntryError("该指标没有年度目标，不能填报实际值")
    measure = effective_measure(ind)
    judgement = _judge(ind, measure, month, py, data, ctx.thresholds)
    if rules.deviation_reason_required(judgement.light) and not data.deviation_reasons:
        label = "黄灯" if judgement.light == rules.YELLOW else "红灯"
        raise EntryError(f"当前为{label}，请填写偏差原因", "deviation_reasons")
    if data.likelihood is not None and data.likelihood not in LIKELIHOODS:
        raise EntryError(f"完成可能性应为：{'、'.join(LIKELIHOODS)}", "likelihood")
    # Lock the row and read it afresh: two editors sending the same version must not both win
    # (PostgreSQL; SQLite's write transactions are already serial).
    existing = session.exec(_statements().actual_for_update, params={"indicator_id": ind.id, "month": month}).first()
    check_version(existing, data.version, overwrite_needs_version)
    old = _snapshot(existing) if existing else None
    actual = existing or Actual(indicator_id=ind.id, month=month, light="", version=0,
                                updated_by=ctx.who, updated_at=ctx.now)
    actual.value = data.value if measure != rules.QUALITATIVE else None
    actual.unit = (data.unit or ind.annual_unit) if measure != rules.QUALITATIVE else None
    actual.assessment = data.assessment if measure == rules.QUALITATIVE else None
    actual.forecast, actual.likelihood, actual.note = data.forecast, data.likelihood, data.note
    actual.deviation_reasons, actual.deviation_note = data.deviation_reasons, data.deviation_note
    actual.completion, actual.pace, actual.light = judgement.completion, judgement.pace, judgement.light
    actual.version += 1
    actual.updated_by, actual.updated_at = ctx.who, ctx.now
    session.add(actual)
    session.add(ActualChange(indicator_id=ind.id, month=month, changed_by=ctx.who, changed_at=ctx.now,
                             old=old, new=_snapshot(actual)))
    _flush_or_stale(session)
    sync_indicator_alert(session, py, ind, month, ctx.now)
    return actual


def check_version(existing: Actual | Spending | None, version: int | None, overwrite_needs_version: bool) -> None:
    """The edit may go on: its version is the stored one (0: nothing stored yet), or it names
    none — allowed for a first entry, and for an overwrite unless `overwrite_needs_version`."""
    if existing is None:
        if version not in (None, 0):
            raise StaleEdit(0, "他人")   # the editor saw a value that has since been removed
    elif version is None:
        if overwrite_needs_version:
            raise VersionRequired()
    elif version != existing.version:
        raise StaleEdit(existing.version, existing.updated_by)


def _judge(ind, measure, month, py, data: ActualInput, thresholds) -> rules.Judgement:
    f = rules.elapsed_share(month, py.periods)
    if measure == rules.QUALITATIVE:
        if data.assessment not in rules.ASSESSMENTS:
            raise EntryError(f"完成情况应为：{'、'.join(rules.ASSESSMENTS)}", "assessment")
        return rules.judge(measure, annual_target(ind), f=f, assessment=data.assessment, thresholds=thresholds)
    if data.value is None:
        raise EntryError("请填写实际值", "value")
    if data.value < 0:
        raise EntryError("实际值不能为负数", "value")
    unit = data.unit or ind.annual_unit
    if data.unit and not same_base(data.unit, ind.annual_unit):
        raise EntryError(f"单位“{data.unit}”与目标单位“{ind.annual_unit or '无'}”不是同一种单位", "unit")
    try:
        return rules.judge(measure, annual_target(ind), f=f, value=data.value, unit=unit, thresholds=thresholds)
    except ValueError as exc:
        raise EntryError(str(exc), "value") from exc


def _flush_or_stale(session: Session) -> None:
    """Two first entries of the same period at once: the unique key lets one in; the other is
    told, as for any stale edit (the caller's transaction rolls back)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise StaleEdit(0, "他人") from exc


# --------------------------------------------------------------------------- spending

def record_spending(session: Session, py: ProjectYear, year: int, month: int, amount, ctx: Context,
                    version: int | None = None, overwrite_needs_version: bool = False) -> Spending:
    check_period(py, year, month)
    try:
        amount = parse_number(amount) if isinstance(amount, str) else Decimal(str(amount))
    except (ValueError, ArithmeticError) as exc:
        raise EntryError("支出金额不是有效的数字", "amount_yuan") from exc
    if not amount.is_finite() or amount < 0:
        raise EntryError("支出金额应为不小于 0 的数字", "amount_yuan")
    if amount >= MAX_NUMBER:
        raise EntryError("支出金额过大", "amount_yuan")
    amount = kept(amount, MONEY_PLACES)          # to the fen
    existing = session.exec(_statements().spending_for_update, params={"py_id": py.id, "month": month}).first()
    check_version(existing, version, overwrite_needs_version)
    row = existing or Spending(project_year_id=py.id, month=month, amount_yuan=amount, version=0,
                               updated_by=ctx.who, updated_at=ctx.now)
    old = existing.amount_yuan if existing else None
    f = rules.elapsed_share(month, py.periods)
    row.amount_yuan = amount
    row.execution_rate = rules.execution_rate(amount, py.annual_total_yuan)
    row.pace = rules.budget_pace(amount, py.annual_total_yuan, f)
    row.light = rules.budget_light(amount, py.annual_total_yuan, f, ctx.thresholds)
    row.version += 1
    row.updated_by, row.updated_at = ctx.who, ctx.now
    session.add(row)
    session.add(SpendingChange(project_year_id=py.id, month=month, old_amount_yuan=old, new_amount_yuan=amount,
                               changed_by=ctx.who, changed_at=ctx.now))
    _flush_or_stale(session)
    sync_budget_alert(session, py, month, row.light, ctx.now)
    return row


# --------------------------------------------------------------------------- alerts

def _open_alerts(session: Session, py_id: int, indicator_id: int | None, *kinds: str) -> list[Alert]:
    if indicator_id is None:
        return list(session.exec(_statements().open_budget_alerts, params={"py_id": py_id, "kinds": kinds}))
    return list(session.exec(_statements().open_alerts,
                             params={"py_id": py_id, "indicator_id": indicator_id, "kinds": kinds}))


def _set_alert(session: Session, py_id: int, indicator_id: int | None, month: int, light: str | None,
               now: datetime, open_alerts: list[Alert]) -> None:
    """Open, update or close the light alert (`open_alerts`: the open ones) after an entry."""
    if light in (rules.YELLOW, rules.RED):
        if open_alerts:
            alert = open_alerts[0]
            alert.light, alert.month = light, max(alert.month, month)
            session.add(alert)
        else:
            session.add(Alert(project_year_id=py_id, indicator_id=indicator_id, kind="light", month=month,
                              light=light, opened_at=now))
        return
    for alert in open_alerts:
        alert.closed_at = now
        session.add(alert)


def _sync_alerts(session: Session, py_id: int, indicator_id: int | None, month: int, latest: tuple | None,
                 now: datetime) -> None:
    """After an entry of `month`: the light alert follows the latest entry (`latest`: its month
    and light), and the entry closes the overdue alerts of its period and earlier ones."""
    alerts = _open_alerts(session, py_id, indicator_id, "light", "overdue")
    if latest is not None and latest[0] == month:
        _set_alert(session, py_id, indicator_id, month, latest[1], now, [a for a in alerts if a.kind == "light"])
    for alert in alerts:
        if alert.kind == "overdue" and alert.month <= month:
            alert.closed_at = now
            session.add(alert)


def sync_indicator_alert(session: Session, py: ProjectYear, ind: Indicator, month: int, now: datetime) -> None:
    """An indicator's light alert follows its latest actual; the actual closes its overdue alert."""
    latest = session.exec(_statements().last_actual, params={"indicator_id": ind.id}).first()
    _sync_alerts(session, py.id, ind.id, month, latest, now)


def sync_budget_alert(session: Session, py: ProjectYear, month: int, light: str | None, now: datetime) -> None:
    latest = session.exec(_statements().last_spending_month, params={"py_id": py.id}).first()
    _sync_alerts(session, py.id, None, month, (latest, light) if latest is not None else None, now)


# --------------------------------------------------------------------------- prepared reads

class _Statements:
    """The reads of every entry and every project answer, built once with bound parameters
    (models/queries.py says why)."""

    def __init__(self):
        ids, due = bindparam("ids", expanding=True), bindparam("due")
        latest = (select(Actual.indicator_id, func.max(Actual.month).label("month"))
                  .where(Actual.indicator_id.in_(ids), Actual.month <= due)
                  .group_by(Actual.indicator_id).subquery())
        self.latest_actuals = select(Actual).join(latest, and_(Actual.indicator_id == latest.c.indicator_id,
                                                               Actual.month == latest.c.month))
        self.latest_spending = (select(Spending).where(Spending.project_year_id == bindparam("py_id"),
                                                       Spending.month <= due)
                                .order_by(Spending.month.desc()).limit(1))
        # Lock the row and read it afresh: two editors sending the same version must not both
        # win (PostgreSQL; SQLite's write transactions are already serial).
        self.actual_for_update = (select(Actual).where(Actual.indicator_id == bindparam("indicator_id"),
                                                       Actual.month == bindparam("month"))
                                  .with_for_update().execution_options(populate_existing=True))
        self.spending_for_update = (select(Spending).where(Spending.project_year_id == bindparam("py_id"),
                                                           Spending.month == bindparam("month"))
                                    .with_for_update().execution_options(populate_existing=True))
        self.last_actual = (select(Actual.month, Actual.light).where(Actual.indicator_id == bindparam("indicator_id"))
                            .order_by(Actual.month.desc()).limit(1))
        self.last_spending_month = (select(Spending.month).where(Spending.project_year_id == bindparam("py_id"))
                                    .order_by(Spending.month.desc()).limit(1))
        open_ = and_(Alert.project_year_id == bindparam("py_id"), Alert.kind.in_(bindparam("kinds", expanding=True)),
                     Alert.closed_at.is_(None))
        self.open_alerts = select(Alert).where(open_, Alert.indicator_id == bindparam("indicator_id"))
        self.open_budget_alerts = select(Alert).where(open_, Alert.indicator_id.is_(None))


@cache
def _statements() -> _Statements:
    return _Statements()


# --------------------------------------------------------------------------- reading the state

@dataclass
class IndicatorState:
    """An annual indicator as of a date: the latest actual due by then, and its light."""
    indicator: Indicator
    measure: str
    actual: Actual | None
    light: str | None           # green/yellow/red from the actual, grey when overdue, None: nothing due
    due_month: int | None       # the latest period that has ended


def latest_actuals(session: Session, indicator_ids: list[int], due: int | None) -> dict[int, Actual]:
    """Each indicator's latest actual of a period ending by month `due` (none before the first):
    one row per indicator, however many months are stored."""
    if due is None or not indicator_ids:
        return {}
    rows = session.exec(_statements().latest_actuals, params={"ids": list(indicator_ids), "due": due})
    return {row.indicator_id: row for row in rows}


def indicator_states(session: Session, py: ProjectYear, as_of: date,
                     deadline_day: int = DEFAULT_DEADLINE_DAY,
                     indicators: list[Indicator] | None = None) -> list[IndicatorState]:
    """The annual indicators' states as of a date; `indicators`: the project year's active
    indicators when the caller has loaded them already (`active_indicators`)."""
    if indicators is None:
        indicators = active_indicators(session, py.id)
    indicators = [ind for ind in indicators if ind.annual_raw is not None]
    due = last_closed_month(py.year, as_of, py.periods)
    actuals = latest_actuals(session, [ind.id for ind in indicators], due)
    judged = judged_month(py.year, as_of, py.periods, deadline_day)
    return [_state(ind, actuals.get(ind.id), due, judged) for ind in indicators]


def indicator_state(session: Session, py: ProjectYear, ind: Indicator, as_of: date,
                    deadline_day: int = DEFAULT_DEADLINE_DAY, latest: Actual | None = None) -> IndicatorState:
    """One annual indicator's state as of a date (the same as its entry in `indicator_states`);
    `latest`: its latest actual due by then when the caller holds it (the one just written for
    the period ending on `as_of`)."""
    due = last_closed_month(py.year, as_of, py.periods)
    if latest is None or latest.month != due:
        latest = latest_actuals(session, [ind.id], due).get(ind.id)
    return _state(ind, latest, due, judged_month(py.year, as_of, py.periods, deadline_day))


def _state(ind: Indicator, actual: Actual | None, due: int | None, judged: int | None) -> IndicatorState:
    light = actual.light if actual else None
    if judged is not None and (actual is None or actual.month < judged):
        light = rules.GREY
    return IndicatorState(ind, effective_measure(ind), actual, light, due)


@dataclass
class BudgetState:
    annual_yuan: Decimal | None
    spending: Spending | None
    light: str | None

    @property
    def spent_yuan(self) -> Decimal | None:
        return self.spending.amount_yuan if self.spending else None

    @property
    def execution_rate(self) -> Decimal | None:
        return self.spending.execution_rate if self.spending else None


def budget_state(session: Session, py: ProjectYear, as_of: date,
                 deadline_day: int = DEFAULT_DEADLINE_DAY, latest: Spending | None = None) -> BudgetState:
    """The budget as of a date; `latest`: the latest spending due by then when the caller holds
    it (the one just written for the period ending on `as_of`)."""
    due = last_closed_month(py.year, as_of, py.periods)
    spending = latest if latest is not None and latest.month == due else None
    if due is not None and spending is None:
        spending = session.exec(_statements().latest_spending, params={"py_id": py.id, "due": due}).first()
    light = spending.light if spending else None
    judged = judged_month(py.year, as_of, py.periods, deadline_day)
    if judged is not None and (spending is None or spending.month < judged):
        light = rules.GREY
    return BudgetState(py.annual_total_yuan, spending, light)


LIGHT_SEVERITY = {rules.RED: 4, rules.GREY: 3, rules.YELLOW: 2, rules.GREEN: 1}   # worst first: red


def worst_light(lights) -> str | None:
    known = [light for light in lights if light in LIGHT_SEVERITY]
    return max(known, key=LIGHT_SEVERITY.get) if known else None


# --------------------------------------------------------------------------- the page's choices
# Added for the entry pages and the bulk sheet; the API may use them as well.

MEASURE_LABELS = {rules.CUMULATIVE: "累计", rules.LEVEL: "水平", rules.QUALITATIVE: "定性"}
PERIODS_LABELS = {rules.MONTHLY: "按月", rules.QUARTERLY: "按季度"}
SPENDING_UNITS = ("元", "万元", "亿元")
_SCALED_BASES = ("元", "人次", "人", "平方米", "亩", "吨", "户", "千瓦时")   # written with 万 in real forms
_LEVEL_ONLY_UNITS = ("%", "％", "小时", "分钟", "天", "日", "个工作日", "工作日", "月", "年", "秒", "分")


def period_label(year: int, month: int, periods: str = rules.MONTHLY) -> str:
    """2023年7月, or 2023年第3季度 for a quarterly project."""
    if periods == rules.QUARTERLY and month % 3 == 0:
        return f"{year}年第{month // 3}季度"
    return f"{year}年{month}月"


def parse_period(raw: str | None) -> tuple[int, int]:
    """`2023-07` → (2023, 7); EntryError (Chinese) for anything else, month 13 included."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", raw or "")
    if not match:
        raise EntryError(f"期间“{(raw or '').strip()[:20]}”无效，应为“年-月”，例如 2023-07", "period")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise EntryError(f"月份“{month}”无效，应为 1 到 12", "period")
    return year, month


def default_month(py: ProjectYear, as_of: date) -> int:
    """The period a page opens on: the latest that has ended (early August: July), else the first."""
    return last_closed_month(py.year, as_of, py.periods) or period_months(py.periods)[0]


def unit_choices(target_unit: str | None) -> list[str]:
    """Units an actual may be entered in: the target's, its base, and the 万/亿 scales of a count
    or an amount (元/万元/亿元, 人次/万人次); a percentage or a duration only in its own unit."""
    target_unit = (target_unit or "").strip()
    factor, base = split_unit(target_unit)
    if not base or base in _LEVEL_ONLY_UNITS:
        return [target_unit]
    choices = [target_unit, base]
    if factor != 1 or base in _SCALED_BASES:
        choices.append("万" + base)
    if base == "元":
        choices.append("亿元")
    return list(dict.fromkeys(choices))


def spending_amount_yuan(raw, unit: str | None = "元") -> Decimal:
    """A typed spending amount in 元/万元/亿元, as 元; EntryError for letters, NaN, ∞ or < 0."""
    unit = (unit or "元").strip()
    if unit not in SPENDING_UNITS:
        raise EntryError(f"单位“{unit}”无效，支出金额的单位应为：{'、'.join(SPENDING_UNITS)}", "unit")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise EntryError("请填写累计支出金额", "amount_yuan")
    try:
        number = parse_number(raw) if isinstance(raw, str) else Decimal(str(raw))
    except (ValueError, ArithmeticError) as exc:
        raise EntryError("支出金额不是有效的数字", "amount_yuan") from exc
    if not number.is_finite() or number < 0:
        raise EntryError("支出金额应为不小于 0 的数字", "amount_yuan")
    amount, _ = to_base(number, unit)
    return amount


def actual_of(session: Session, indicator_id: int, month: int) -> Actual | None:
    return session.exec(select(Actual).where(Actual.indicator_id == indicator_id, Actual.month == month)).first()


def spending_of(session: Session, project_year_id: int, month: int) -> Spending | None:
    return session.exec(select(Spending).where(Spending.project_year_id == project_year_id,
                                               Spending.month == month)).first()


def set_periods(session: Session, py: ProjectYear, periods: str) -> None:
    """Monthly or quarterly reporting for one project year; what is derived follows (each
    actual is judged against its own month's 序时进度, so only the summaries change)."""
    if periods not in rules.PERIODS:
        raise EntryError("填报周期应为按月或按季度", "periods")
    py.periods = periods
    session.add(py)
    session.flush()
    from services import derived
    derived.rejudge(session, [py.id], derived.current_config())


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
    olds = [_snapshot(actual) | {"measure": before} for actual in actuals]
    session.flush()
    from services import derived
    derived.rejudge(session, [py.id], derived.current_config())
    for actual, old in zip(actuals, olds):
        actual.version += 1
        actual.updated_by, actual.updated_at = ctx.who, ctx.now
        session.add(actual)
        session.add(ActualChange(indicator_id=ind.id, month=actual.month, changed_by=ctx.who, changed_at=ctx.now,
                                 old=old, new=_snapshot(actual) | {"measure": after}))
    session.flush()
    if actuals:
        sync_indicator_alert(session, py, ind, actuals[-1].month, ctx.now)
    return True
