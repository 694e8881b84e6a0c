"""Recording a budget adjustment (预算调整, DOMAIN.md §7): a 追加 or 调减 of a project year's
budget from a date, with its 文号 and reason. Validated here, stored (rows are only added: the
history is kept, a mistake is corrected by a counter-adjustment), and everything derived from
the budget is rebuilt in the same transaction, so `flask check` finds nothing stale:

- the judgement stored with each spending report (执行率, pace, light: each against the budget
  in force at its period's end), the report summaries and the project year's open alerts as of
  the write's day where the users are — `services.derived.rejudge` with `as_of`, as
  `flask check --fix` would (services/alerts.py: every writer of alert rows comes through it).

What is refused, each with a Chinese reason naming the field (422 on the page and the API):
an amount of 0 (or one that rounds to 0 at the fen); a date outside the project year (1月1日 to
12月31日: a budget is a year's, and an adjustment after the year's end would change a 1–12月
that is closed and a 自评 already scored); no 文号 or no reason; a project year whose 年度资金总额
is unknown (there is nothing to adjust); a 调减 that would leave the budget below 0 on any day
of the year; a budget so small that a stored spending report's 执行率 could not be stored.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Mapping

from pydantic import BaseModel, field_validator

from domain.project_year import budget_in_force, derive
from models.actual import MAX_NUMBER, MAX_RATIO, MONEY_PLACES, ActualInput, EntryError, kept
from models.adjustment import BudgetAdjustment
from models.project import ProjectYear
from services import alerts, derived, inputs
from services.summaries import lock

INCREASE, DECREASE = "追加", "调减"
KINDS = (INCREASE, DECREASE)
AMOUNT_UNITS = ("万元", "元")           # what the page's form offers; the API takes 元
MAX_DOC_NO, MAX_REASON = 100, 2000
# The fields as the page and the API name them (models.actual.validation_message).
FIELD_NAMES = {"amount_yuan": "调整金额", "amount": "调整金额", "kind": "调整类型", "unit": "单位",
               "date": "调整日期", "doc_no": "文号", "reason": "调整原因"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class AdjustmentInput(BaseModel):
    """One adjustment as typed or sent, checked field by field; what depends on the project year
    (its dates, its budget) is checked by `record_adjustment`."""
    amount_yuan: Decimal        # + 追加, − 调减, to the fen
    date: dt.date               # in force from this day
    doc_no: str
    reason: str

    @field_validator("amount_yuan", mode="before")
    @classmethod
    def _amount(cls, raw):
        number = ActualInput.number(raw)
        if number is None:
            raise ValueError("必须填写")
        number = kept(number, MONEY_PLACES)
        if number == 0:
            raise ValueError("不能为 0：追加填正数，调减填负数（精确到分）")
        return number

    @field_validator("date", mode="before")
    @classmethod
    def _day(cls, raw):
        if isinstance(raw, date) and not isinstance(raw, datetime):
            return raw
        if isinstance(raw, str) and _ISO_DATE.fullmatch(raw.strip()):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ValueError("必须填写")
        raise ValueError("应为日期，格式 YYYY-MM-DD，例如 2023-06-30")

    @field_validator("doc_no", "reason", mode="before")
    @classmethod
    def _text(cls, raw, info):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ValueError("必须填写")
        if not isinstance(raw, str):
            raise ValueError("应为文字")
        text = raw.strip()
        longest = MAX_DOC_NO if info.field_name == "doc_no" else MAX_REASON
        if len(text) > longest:
            raise ValueError(f"不能超过{longest}字")
        return text


def typed_amount_yuan(kind: str | None, amount: str | None, unit: str | None) -> Decimal | str:
    """The page's 追加/调减, amount and unit (万元 or 元) as the signed 元 the input takes; what
    cannot be read is handed on as typed, for AdjustmentInput to refuse with its reason."""
    if kind not in KINDS:
        raise EntryError(f"请选择{INCREASE}或{DECREASE}", "kind")
    if unit not in AMOUNT_UNITS:
        raise EntryError(f"单位应为：{'、'.join(AMOUNT_UNITS)}", "unit")
    try:
        number = ActualInput.number(amount)
    except ValueError:
        return amount or ""
    if number is None:
        return ""
    if number < 0:
        raise EntryError(f"请填写正数，并选择{INCREASE}或{DECREASE}", "amount")
    scaled = number * (10_000 if unit == "万元" else 1)
    return -scaled if kind == DECREASE else scaled


@dataclass
class Recorded:
    adjustment: BudgetAdjustment
    annual_yuan: Decimal | None          # the budget in force on the write's day, after it


def record_adjustment(session, py: ProjectYear, data: AdjustmentInput, who: str, now: datetime,
                      config: Mapping) -> Recorded:
    """Store one adjustment of `py` at `now` and rebuild what derives from its budget; the caller
    holds the transaction (and rolls it back on EntryError)."""
    lock(session, [py.id])          # adjustments of one project year, and its entries, one after another
    if not date(py.year, 1, 1) <= data.date <= date(py.year, 12, 31):
        raise EntryError(f"调整日期应在项目的 {py.year} 年度内（{py.year}-01-01 至 {py.year}-12-31）", "date")
    if py.annual_total_yuan is None:
        raise EntryError("该项目年度的年度资金总额未知，不能调整预算；请先在申报表中补全年度资金总额", "amount_yuan")
    row = BudgetAdjustment(project_year_id=py.id, effective_on=data.date, amount_yuan=data.amount_yuan,
                           doc_no=data.doc_no, reason=data.reason, created_by=who, created_at=now)
    session.add(row)
    session.flush()
    _check_budgets(session, py, config)
    today = alerts.local_date(now, config)
    derived.rejudge(session, [py.id], config, fix=True, as_of=today, now=now)
    return Recorded(row, inputs.budget_on(session, py, today))


def _check_budgets(session, py: ProjectYear, config: Mapping) -> None:
    """The budget stays ≥ 0 and storable on every day of the year, and every stored spending
    report can still be judged against it."""
    loaded = inputs.load(session, [py.id], config)[py.id]
    adjustments = loaded.inputs.adjustments
    for day in sorted({a.on for a in adjustments}):
        budget = budget_in_force(py.annual_total_yuan, adjustments, day)
        if budget < 0:
            raise EntryError(f"调减后 {day.isoformat()} 起的全年预算数为 {budget:,.2f} 元，不能小于 0", "amount_yuan")
        if budget >= MAX_NUMBER:
            raise EntryError("调整后的全年预算数过大", "amount_yuan")
    for month, judged in derive(loaded.inputs).spending.items():
        if any(r is not None and abs(r) >= MAX_RATIO for r in (judged.rate, judged.pace)):
            raise EntryError(f"调整后的全年预算数与{month}月的累计支出相差过大，无法计算执行率，请检查金额与单位",
                             "amount_yuan")
