"""Entering actuals and spending (DOMAIN.md §3): validate, judge with the domain rules, store
with its history, and keep what derives from it current in the same transaction — the report
summaries (services/summaries.py) and the open alerts of the indicator (or the budget) as of
the entry's day (services/alerts.py, from the domain core). (A project year's reporting period and an
indicator's measure: services/tracking.py.)

Each function is a write use case: called explicitly inside the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from importers.values import same_base
from domain.units import unit_alias
from domain import project_year as core
from domain import rules
from domain.calendar import month_end, period_label
from domain.indicators import annual_target, effective_measure
from models.actual import (LIKELIHOODS, MAX_NUMBER, MONEY_PLACES, Actual, ActualChange, ActualInput, EntryError, Spending,
                           SpendingChange, StaleEdit, VersionRequired, check_period, check_ratios, forecast_of, kept,
                           SPENDING_NOTE_EXAMPLES, actual_of, spending_note, spending_number, spending_of)
from models.db import (by_key, columns_of, detached, insert_returning_key, locked_rows, prepared, rewrite_by_key,
                       write, written)
from models.indicator import Indicator
from models.project import ProjectYear
from reads.wording import yuan_text
from services import alerts, summaries
from services.inputs import budget_on, current_config, load_spending


def snapshot(actual: Actual) -> dict:
    return {"value": _plain(actual.value), "unit": actual.unit, "assessment": actual.assessment,
            "forecast": actual.forecast_assessment or _plain(actual.forecast),   # 全年预计 as the page shows it
            "deviation_reasons": list(actual.deviation_reasons or []), "deviation_note": actual.deviation_note,
            "likelihood": actual.likelihood, "note": actual.note, "over_reason": actual.over_reason,
            "light": actual.light}


def _plain(value: Decimal | None):
    if value is None:
        return None
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class Context:
    """What a write needs besides the input: who, when, and the settings."""
    who: str
    now: datetime
    thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS


class Entered(NamedTuple):
    """An actual as stored, and its indicator's year as judged after the write (the facts its
    alerts were brought in line with): what the answer to the entry reads, rather than load and
    judge the same inputs again."""
    actual: Actual
    judged: core.YearFacts


def record_actual(session: Session, ind: Indicator, py: ProjectYear, year: int, month: int,
                  data: ActualInput, ctx: Context, overwrite_needs_version: bool = False) -> Actual:
    """Validate, judge and store one period's actual; raise EntryError, StaleEdit or
    VersionRequired (see `check_version`)."""
    return enter_actual(session, ind, py, year, month, data, ctx, overwrite_needs_version).actual


def enter_actual(session: Session, ind: Indicator, py: ProjectYear, year: int, month: int,
                 data: ActualInput, ctx: Context, overwrite_needs_version: bool = False) -> Entered:
    """`record_actual`, with the indicator's year as judged after the write."""
    check_period(py, year, month)
    if ind.retired_at is not None or ind.annual_raw is None:
        raise EntryError("该指标没有年度目标，不能填报实际值")
    data = as_meant(data, ind)
    measure = effective_measure(ind)
    judgement = _judge(ind, measure, month, py, data, ctx.thresholds)
    if rules.deviation_reason_required(judgement.light) and not data.deviation_reasons:
        label = "黄灯" if judgement.light == rules.YELLOW else "红灯"
        raise EntryError(f"当前为{label}，请填写偏差原因", "deviation_reasons")
    if rules.over_reason_required(annual_target(ind).op, judgement.completion, month, ctx.thresholds) and not data.over_reason:
        raise EntryError(over_reason_message(judgement.completion, ctx.thresholds), "over_reason")
    if data.likelihood is not None and data.likelihood not in LIKELIHOODS:
        raise EntryError(f"完成可能性应为：{'、'.join(LIKELIHOODS)}", "likelihood")
    try:
        forecast = forecast_of(data.forecast, measure)
    except ValueError as exc:
        raise EntryError(f"全年预计：{exc}", "forecast") from exc
    # Lock the row and read it afresh: two editors sending the same version must not both win
    # (PostgreSQL; SQLite's write transactions are already serial).
    found = locked_rows(session, _actual_for_update(), {"indicator_id": ind.id, "month": month})
    existing = found[0] if found else None
    check_version(existing, data.version, overwrite_needs_version)
    old = snapshot(existing) if existing else None
    light_before = existing.light if existing else summaries.ABSENT
    fields = {**entered_fields(ind, measure, data, forecast),
              "completion": judgement.completion, "pace": judgement.pace, "light": judgement.light,
              "version": (existing.version if existing else 0) + 1, "updated_by": ctx.who, "updated_at": ctx.now}
    actual = _store(session, Actual, existing, {"indicator_id": ind.id, "month": month}, fields)
    write(session, insert_returning_key(ActualChange), _values(ActualChange, indicator_id=ind.id, month=month,
                                                     changed_by=ctx.who, changed_at=ctx.now, old=old,
                                                     new=snapshot(actual)))
    summaries.after_entry(session, py.id, ind.id, month, light_before, actual.light)
    config = current_config()
    judged = alerts.judged_indicator(session, py, ind, config)
    alerts.after_entry(session, py, ind, ctx.now, config, judged)
    return Entered(actual, judged)


def entered_fields(ind: Indicator, measure: str, data: ActualInput, forecast) -> dict:
    """What an entry writes into its Actual row, besides the judgement and the bookkeeping."""
    quantitative = measure != rules.QUALITATIVE
    return {"value": data.value if quantitative else None,
            "unit": (data.unit or ind.annual_unit) if quantitative else None,
            "assessment": None if quantitative else data.assessment,
            "forecast": forecast if isinstance(forecast, Decimal) else None,
            "forecast_assessment": forecast if isinstance(forecast, str) else None,
            "likelihood": data.likelihood, "note": data.note, "over_reason": data.over_reason,
            "deviation_reasons": data.deviation_reasons, "deviation_note": data.deviation_note}


def as_meant(data: ActualInput, ind: Indicator) -> ActualInput:
    """The input with its unit's short form read against the target (亿 → 亿元, 人 → 人次)."""
    meant = unit_alias(data.unit, ind.annual_unit)
    return data if meant == data.unit else data.model_copy(update={"unit": meant})


def holds_already(session: Session, ind: Indicator, month: int, data: ActualInput, who: str) -> bool:
    """Whether `who` last stored exactly this entry: a sheet uploaded again with nothing changed
    since (by anyone) has nothing to write, and is no conflict with oneself."""
    data = as_meant(data, ind)
    existing = actual_of(session, ind.id, month)
    if existing is None or existing.updated_by != who:
        return False
    measure = effective_measure(ind)
    try:
        fields = entered_fields(ind, measure, data, forecast_of(data.forecast, measure))
    except ValueError:
        return False
    return all(_same(getattr(existing, name), value) for name, value in fields.items())


def spending_held_already(session: Session, py: ProjectYear, month: int, amount: Decimal, note: str | None,
                          who: str) -> bool:
    """The same for a period's spending: `who` last stored this amount with this note."""
    existing = spending_of(session, py.id, month)
    return (existing is not None and existing.updated_by == who and _same(existing.amount_yuan, amount)
            and (existing.note or None) == (spending_note(note) if note else None))


def _same(stored, entered) -> bool:
    if isinstance(stored, Decimal) or isinstance(entered, Decimal):
        return stored is not None and entered is not None and Decimal(stored) == Decimal(entered)
    return (stored or None) == (entered or None)


def over_reason_message(completion: Decimal, thresholds: rules.Thresholds) -> str:
    rate, bound = rules.for_display(completion * 100), rules.for_display(thresholds.over_reason * 100, 0)
    return (f"年度最后一期完成率为{rate}%，达到{bound}%以上（超额），请填写超额原因"
            "（如目标设定偏低，或实际成效提升）")


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
        judgement = rules.judge(measure, annual_target(ind), f=f, value=data.value, unit=unit, thresholds=thresholds)
    except ValueError as exc:
        raise EntryError(str(exc), "value") from exc
    check_ratios("实际值与目标相差过大，无法计算完成率，请检查数值与单位", "value", judgement.completion, judgement.pace)
    return judgement


def _store(session: Session, model, existing, key: dict, fields: dict):
    """Write a period's row — `existing` (a plain row, read under its lock) with `fields` changed,
    or a new one at `key` — and return it as a detached object of `model`. Two first entries of
    the same period at once: the unique key lets one in; the other is told, as for any stale
    edit (the caller's transaction rolls back)."""
    if existing is not None:
        stored = existing._asdict() | fields
        write(session, rewrite_by_key(model), by_key(("id",), stored))
        written(session, model, existing.id, fields)
    else:
        values = _values(model, **key, **fields)
        try:
            [(new_id,)] = write(session, insert_returning_key(model), values)
        except IntegrityError as exc:
            raise StaleEdit(0, "他人") from exc
        stored = values | {"id": new_id}
    return detached(tuple(stored[column.key] for column in model.__table__.columns), model)[0]


def _values(model, **given) -> dict:
    """A new row's every column but its key, in the table's order, as `model` fills what is not
    given (its field defaults)."""
    made = model(**given)
    return {column.key: getattr(made, column.key) for column in model.__table__.columns if not column.primary_key}


# --------------------------------------------------------------------------- spending

class EnteredSpending(NamedTuple):
    """A period's spending as stored, and the project year's budget as judged after the write
    (the facts its summary rows and alerts were brought in line with), for the answer to read."""
    spending: Spending
    judged: core.YearFacts


def record_spending(session: Session, py: ProjectYear, year: int, month: int, amount, ctx: Context,
                    version: int | None = None, overwrite_needs_version: bool = False, note: str | None = None
                    ) -> Spending:
    """Validate and store one period's cumulative spending; `note` explains it, and is required
    where it is 超预算 or 冲减 (see `check_spending_note`). Raises EntryError, StaleEdit or
    VersionRequired."""
    return enter_spending(session, py, year, month, amount, ctx, version, overwrite_needs_version, note).spending


def enter_spending(session: Session, py: ProjectYear, year: int, month: int, amount, ctx: Context,
                   version: int | None = None, overwrite_needs_version: bool = False, note: str | None = None
                   ) -> EnteredSpending:
    """`record_spending`, with the budget as judged after the write."""
    check_period(py, year, month)
    amount = spending_number(amount)
    if amount >= MAX_NUMBER:
        raise EntryError("支出金额过大", "amount_yuan")
    amount = kept(amount, MONEY_PLACES)          # to the fen
    note = spending_note(note)
    # The project year's lock before its budget is read: an adjustment committing meanwhile
    # (services/adjustment.py takes the same lock) cannot leave this report judged on the old one.
    summaries.lock(session, [py.id])
    found = locked_rows(session, _spending_for_update(), {"py_id": py.id, "month": month})
    existing = found[0] if found else None
    check_version(existing, version, overwrite_needs_version)
    f = rules.elapsed_share(month, py.periods)
    budget = budget_on(session, py, month_end(py.year, month))      # in force at the period's end (§7)
    rate, pace = rules.execution_rate(amount, budget), rules.budget_pace(amount, budget, f)
    check_ratios("支出金额与预算相差过大，无法计算执行率，请检查金额与单位", "amount_yuan", rate, pace)
    check_spending_note(session, py, month, amount, note)      # 超预算: above that same budget in force
    fields = {"amount_yuan": amount, "note": note, "execution_rate": rate, "pace": pace,
              "light": rules.budget_light(amount, budget, f, ctx.thresholds),
              "version": (existing.version if existing else 0) + 1, "updated_by": ctx.who, "updated_at": ctx.now}
    row = _store(session, Spending, existing, {"project_year_id": py.id, "month": month}, fields)
    write(session, insert_returning_key(SpendingChange), _values(
        SpendingChange, project_year_id=py.id, month=month, old_amount_yuan=existing.amount_yuan if existing else None,
        new_amount_yuan=amount, note=note, changed_by=ctx.who, changed_at=ctx.now))
    judged = summaries.refresh_one(session, py.id, lights=False)       # the budget's inputs judged once,
    alerts.after_entry(session, py, None, ctx.now, current_config(), judged)     # for both caches and the answer
    return EnteredSpending(row, judged)


def check_spending_note(session: Session, py: ProjectYear, month: int, amount: Decimal, note: str | None) -> None:
    """DOMAIN.md §3: spending above the budget in force (超预算) or below an earlier period's
    (冲减) is accepted only with a note. An earlier period raised above a later one makes that
    later one a fall: the entry that does it is asked for the note (unless the later period
    explains itself), since it is the one that changes the series."""
    if note:
        return
    inputs, rows = load_spending(session, py)
    series = {**inputs.spending, month: amount}
    marks = core.year_spending_marks(inputs, series)
    wanted = core.note_wanted(marks, month, {r.month for r in rows if r.note and r.month != month})
    if not wanted:
        return
    label = partial(period_label, py.year, periods=py.periods)
    reasons = []
    if wanted.own and wanted.own.over_budget:
        budget = core.budget_in_force(inputs.initial_budget_yuan, inputs.adjustments, inputs.calendar.period_end(month))
        reasons.append(f"累计支出 {yuan_text(amount)} 元超过全年预算数 {yuan_text(budget)} 元（超预算）")
    if wanted.own and wanted.own.reduced:
        below = wanted.own.below
        reasons.append(f"累计支出 {yuan_text(amount)} 元低于{label(below)}的 {yuan_text(series[below])} 元（冲减）")
    for later in wanted.later:
        reasons.append(f"{label(later)}的累计支出 {yuan_text(series[later])} 元将低于本期的 {yuan_text(amount)} 元（冲减）")
    raise EntryError("；".join(reasons) + f"。请在“说明”中写明原因，如{'、'.join(SPENDING_NOTE_EXAMPLES)}", "note")


# --------------------------------------------------------------------------- prepared reads

# Lock the row and read it afresh: two editors sending the same version must not both win
# (PostgreSQL; SQLite's write transactions are already serial). Built once (models.db.prepared).

@prepared
def _actual_for_update():
    return (select(*columns_of(Actual))
            .where(Actual.indicator_id == bindparam("indicator_id"), Actual.month == bindparam("month"))
            .with_for_update())


@prepared
def _spending_for_update():
    return (select(*columns_of(Spending))
            .where(Spending.project_year_id == bindparam("py_id"), Spending.month == bindparam("month"))
            .with_for_update())
