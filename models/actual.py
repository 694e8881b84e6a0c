"""The tables of actuals, budget spending, their history and alerts (DOMAIN.md §3–§4), and the
validation of what an editor types for them (ActualInput, periods and amounts as typed, the
errors a write reports). The writes are services/entry.py.

One actual per annual indicator and reporting period (keyed by the period's end month). Its
completion, pace and light are a cache of the domain core, stored with it so that lists and
reports read them instead of recomputing a year. Every write keeps the old and new values in
an append-only change table, and carries a version so that a second editor working from a
stale page is told instead of overwriting.
"""
from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from pydantic import ValidationInfo, field_validator
from sqlalchemy import JSON, Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from domain import rules
from domain.units import SPENDING_UNITS, parse_number, to_base, unit_alias
from models.project import ProjectYear

DEVIATION_REASONS = ("经费保障", "制度保障", "人员保障", "硬件保障", "其他")
LIKELIHOODS = ("确定能", "有可能", "完全不可能")
MAX_NUMBER = Decimal(10) ** 15      # what the columns hold (Numeric(24, 6), money Numeric(18, 2))
MAX_RATIO = Decimal(10) ** 14       # what a ratio column holds (Numeric(24, 10); PostgreSQL refuses more)
VALUE_PLACES, MONEY_PLACES = 6, 2    # and the decimals they keep


def kept(number: Decimal, places: int) -> Decimal:
    """`number` as its column keeps it (ROUND_HALF_UP beyond `places` decimals): what is judged
    must be what is stored, or `flask check` finds the stored figures off by the dropped digits."""
    if number.as_tuple().exponent >= -places:
        return number
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def ratio() -> Column:
    return Column(Numeric(24, 10), nullable=True)


def check_ratios(message: str, field: str, *ratios: Decimal | None) -> None:
    """A completion, pace or 执行率 of 10^14 and more is a typo (a value in the wrong unit, an
    extra row of zeros), and no column can store it: refused, never a server error."""
    if any(r is not None and abs(r) >= MAX_RATIO for r in ratios):
        raise EntryError(message, field)


class Actual(SQLModel, table=True):
    __tablename__ = "actual"
    __table_args__ = (UniqueConstraint("indicator_id", "month", name="uq_actual_period"),)
    id: int | None = Field(default=None, primary_key=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    month: int                       # end month of the reporting period (quarterly: 3, 6, 9, 12)
    value: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))
    unit: str | None = Field(default=None, max_length=40)       # as entered
    assessment: str | None = Field(default=None, max_length=10)
    forecast: Decimal | None = Field(default=None, sa_column=Column(Numeric(24, 6), nullable=True))   # in `unit`
    forecast_assessment: str | None = Field(default=None, max_length=10)   # a qualitative one's 全年预计
    deviation_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deviation_note: str | None = Field(default=None, sa_column=Column(Text))
    likelihood: str | None = Field(default=None, max_length=10)
    note: str | None = Field(default=None, sa_column=Column(Text))
    over_reason: str | None = Field(default=None, sa_column=Column(Text))   # 超额原因 (§8)
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
    """Cumulative budget spending (元) at a period's end, with its stored light, and the note
    that explains it when it is 超预算 or 冲减 (domain.project_year.spending_marks)."""
    __tablename__ = "spending"
    __table_args__ = (UniqueConstraint("project_year_id", "month", name="uq_spending_period"),)
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    month: int
    amount_yuan: Decimal = Field(sa_column=Column(Numeric(18, 2), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
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
    note: str | None = Field(default=None, sa_column=Column(Text))       # the note as of this change
    changed_by: str = Field(max_length=100)
    changed_at: datetime


class Alert(SQLModel, table=True):
    """Open while an indicator (or the budget, indicator_id NULL) is yellow/red, while a
    period's actual is missing past its deadline (kind "overdue"), or while an indicator's
    entry shown is 超额 (kind "over", light "blue"; for information)."""
    __tablename__ = "alert"
    # A project year's open alerts (of one indicator, or the budget's: indicator_id NULL), read by
    # every entry. Without it SQLite searches ix_alert_indicator_id for `indicator_id IS NULL`,
    # every budget alert of the province (ANALYZE's stat1 cannot tell NULL is the common value).
    __table_args__ = (Index("ix_alert_open", "project_year_id", "closed_at", "indicator_id"),)
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id", index=True)
    kind: str = Field(max_length=10)          # "light" | "overdue" | "over"
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
    """The value was changed by someone else since the editor loaded it. `updated_by` is their
    username; each caller words the message, naming them as pages do (reads.wording.user_label)."""

    def __init__(self, current_version: int, updated_by: str):
        super().__init__(f"stale edit: version {current_version} saved by {updated_by}")
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
    forecast: Decimal | str | None = None    # a number; an assessment for a qualitative indicator
    deviation_reasons: list[str] = []
    deviation_note: str | None = None
    likelihood: str | None = None
    note: str | None = None
    over_reason: str | None = None           # 超额原因: needed at r >= 1.3 in the year's last period
    version: int | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, raw):
        return cls.number(raw)

    @field_validator("forecast", mode="before")
    @classmethod
    def _forecast(cls, raw, info: ValidationInfo):
        """Validated with `context={"measure": …}` once the indicator is known; without it either
        kind passes here and record_actual checks it against the measure."""
        return forecast_of(raw, (info.context or {}).get("measure"))

    @staticmethod
    def number(raw) -> Decimal | None:
        """A number as sent (JSON number or typed text); None when blank; ValueError (Chinese)
        for anything else, NaN, ∞ or one the columns cannot hold."""
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

    @field_validator("unit", "assessment", "likelihood", "note", "deviation_note", "over_reason", mode="before")
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


def forecast_of(raw, measure: str | None) -> Decimal | str | None:
    """全年预计 as sent (DOMAIN.md §3): for a qualitative indicator an assessment (达成 / 部分达成 /
    未达成), for any other a number; `measure` None accepts either. ValueError (Chinese) otherwise."""
    if isinstance(raw, str) and raw.strip() in rules.ASSESSMENTS:
        if measure not in (None, rules.QUALITATIVE):
            raise ValueError(f"“{raw.strip()}”只用于定性指标，本指标的全年预计应为数字")
        return raw.strip()
    if measure == rules.QUALITATIVE and not (raw is None or (isinstance(raw, str) and not raw.strip())):
        raise ValueError(f"定性指标的全年预计应为：{'、'.join(rules.ASSESSMENTS)}")
    return ActualInput.number(raw)


FIELD_NAMES = {"value": "实际值", "unit": "单位", "assessment": "完成情况", "forecast": "全年预计",
               "deviation_reasons": "偏差原因", "deviation_note": "偏差说明", "likelihood": "完成可能性",
               "note": "备注", "over_reason": "超额原因", "version": "版本", "amount_yuan": "支出金额",
               "score": "评分", "points": "扣分", "reason": "理由", "weights": "一级指标分值",
               # monitoring rounds and 整改 (services/rounds.py, services/rectifications.py)
               "goal_progress": "总体目标执行情况", "deviation": "偏差原因", "correction": "改进（纠偏）措施",
               "indicator_id": "指标", "requirement": "整改要求和建议", "due": "整改期限", "measures": "整改措施",
               "result": "整改结果", "conclusion": "整改结论", "comment": "意见"}


def validation_message(exc, names: Mapping[str, str] | None = None) -> str:
    """The one mapper of pydantic validation errors to Chinese (STYLE.md); `names`: a form's own
    field names, over FIELD_NAMES (an adjustment's amount_yuan is 调整金额, not 支出金额)."""
    labels = FIELD_NAMES | dict(names or {})
    parts = []
    for error in exc.errors():
        name = labels.get(str(error["loc"][0]) if error["loc"] else "", "输入")
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


# --------------------------------------------------------------------------- periods and amounts as typed

def check_period(py: ProjectYear, year: int, month: int) -> None:
    if not 1 <= month <= 12:
        raise EntryError(f"月份“{month}”无效，应为 1 到 12", "period")
    if year != py.year:
        raise EntryError(f"期间 {year}-{month:02d} 不在项目的 {py.year} 年度内", "period")
    if py.periods == rules.QUARTERLY and month % 3:
        raise EntryError("该项目按季度填报，期间只能是 3、6、9、12 月", "period")


def parse_period(raw: str | None) -> tuple[int, int]:
    """`2023-07` → (2023, 7); EntryError (Chinese) for anything else, month 13 included."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", raw or "")
    if not match:
        raise EntryError(f"期间“{(raw or '').strip()[:20]}”无效，应为“年-月”，例如 2023-07", "period")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise EntryError(f"月份“{month}”无效，应为 1 到 12", "period")
    return year, month


def spending_amount_yuan(raw, unit: str | None = "元") -> Decimal:
    """A typed spending amount in 元/万元/亿元, as 元; EntryError for letters, NaN, ∞ or < 0."""
    unit = unit_alias(unit or "元", "元").strip()      # 万 / 亿: 万元 / 亿元
    if unit not in SPENDING_UNITS:
        raise EntryError(f"单位“{unit}”无效，支出金额的单位应为：{'、'.join(SPENDING_UNITS)}", "unit")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise EntryError("请填写累计支出金额", "amount_yuan")
    amount, _ = to_base(spending_number(raw), unit)
    return amount


def spending_number(raw) -> Decimal:
    """A typed spending amount as a number; EntryError for letters, NaN, ∞ or < 0."""
    try:
        number = parse_number(raw) if isinstance(raw, str) else Decimal(str(raw))
    except (ValueError, ArithmeticError) as exc:
        raise EntryError("支出金额不是有效的数字", "amount_yuan") from exc
    if not number.is_finite() or number < 0:
        raise EntryError("支出金额应为不小于 0 的数字", "amount_yuan")
    return number


SPENDING_NOTE_MAX = 500
SPENDING_NOTE_EXAMPLES = ("资金退回", "冲销更正", "追加预算待批复")    # what a 超预算 / 冲减 note says


def spending_note(raw) -> str | None:
    """A spending's note (说明) as stored: trimmed text, None when blank; EntryError for anything
    else or beyond its length."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise EntryError("说明应为文字", "note")
    note = raw.strip()
    if len(note) > SPENDING_NOTE_MAX:
        raise EntryError(f"说明不能超过 {SPENDING_NOTE_MAX} 字", "note")
    return note or None


def actual_of(session: Session, indicator_id: int, month: int) -> Actual | None:
    return session.exec(select(Actual).where(Actual.indicator_id == indicator_id, Actual.month == month)).first()


def spending_of(session: Session, project_year_id: int, month: int) -> Spending | None:
    return session.exec(select(Spending).where(Spending.project_year_id == project_year_id,
                                               Spending.month == month)).first()
