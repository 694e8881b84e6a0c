"""Monitoring rounds, their review and 整改 (DOMAIN.md §8), as pure rules: which rounds a year has,
the states a round's submission and a 整改 item go through, and when an item is due soon or late.

- **Rounds.** Besides the monthly entries, 绩效运行监控 happens in rounds, set in settings
  (`MONITORING_ROUNDS`, default one round as of 7-31, due 8-15). A round is as of a month's end
  (the 监控表 headed 1–N月) and is due some days later; every project year of that year takes
  part. For a round the unit submits each project's monitoring (总体目标执行情况, 偏差原因,
  改进（纠偏）措施); the 审核人 reviews it: 通过, 退回 (with a comment: the unit edits and submits
  again) or 需要整改 (with 整改 items).
- **整改.** An item (on a project or one of its indicators) with 整改要求和建议, a deadline and the
  responsible unit goes open → answered (the unit's 整改措施 and 整改结果, with evidence) →
  closed (the 审核人's 整改结论), or back to open (the 审核人 sends the answer back).

No clock and no database here: callers pass `today`.
"""
from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date

from domain.calendar import month_end

# --------------------------------------------------------------------------- rounds

DEFAULT_ROUNDS = ({"as_of": "07-31", "due": "08-15"},)
_MONTH_DAY = re.compile(r"^\s*(\d{1,2})-(\d{1,2})\s*$")


@dataclass(frozen=True)
class RoundRule:
    """One round of every year, as the setting names it: as of the end of `month`, due on
    `due_month`-`due_day` (of the following year when that comes before the as-of date)."""
    month: int
    due_month: int
    due_day: int


@dataclass(frozen=True)
class Round:
    """One year's round: the data as of the end of `month` (1–N月), submissions due by `due`."""
    year: int
    month: int
    due: date

    @property
    def as_of(self) -> date:
        return month_end(self.year, self.month)

    @property
    def key(self) -> str:
        """How URLs and reminders name the round: its as-of period, 2023-07."""
        return f"{self.year}-{self.month:02d}"

    @property
    def span(self) -> str:
        """1-7月, as the 监控表 heads its columns (1月 for a round as of January)."""
        return f"1-{self.month}月" if self.month > 1 else "1月"

    @property
    def title(self) -> str:
        return f"{self.year}年{self.span}绩效运行监控"

    def is_open(self, today: date) -> bool:
        """A round takes submissions once its as-of date has passed (the month it covers is over)."""
        return today > self.as_of

    def days_left(self, today: date) -> int:
        return (self.due - today).days


def parse_rounds(setting) -> tuple[RoundRule, ...]:
    """`[{"as_of": "07-31", "due": "08-15"}, …]` → the rules; ValueError (Chinese) when a round
    is not as of a month's last day, a date does not exist, or two rounds share a month."""
    if not isinstance(setting, (list, tuple)):
        raise ValueError("MONITORING_ROUNDS 应为列表，例如 [{\"as_of\": \"07-31\", \"due\": \"08-15\"}]")
    rules = []
    for entry in setting:
        if not isinstance(entry, dict) or set(entry) - {"as_of", "due"} or not {"as_of", "due"} <= set(entry):
            raise ValueError("每个监控轮次应写作 {\"as_of\": \"07-31\", \"due\": \"08-15\"}")
        month, day = _month_day(entry["as_of"], "as_of")
        if day != _calendar.monthrange(2001, month)[1] and not (month == 2 and day == 29):
            raise ValueError(f"监控轮次的截至日期 {entry['as_of']} 应为月末（如 07-31、09-30、02-28）")
        due_month, due_day = _month_day(entry["due"], "due")
        rules.append(RoundRule(month, due_month, due_day))
    months = [r.month for r in rules]
    if len(set(months)) != len(months):
        raise ValueError("同一个月末只能有一个监控轮次")
    return tuple(sorted(rules, key=lambda r: r.month))


def _month_day(raw, name: str) -> tuple[int, int]:
    match = _MONTH_DAY.match(str(raw)) if isinstance(raw, str) else None
    if not match:
        raise ValueError(f"监控轮次的 {name} 应为“月-日”，例如 07-31")
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 1 <= day <= (29 if month == 2 else _calendar.monthrange(2001, month)[1]):
        raise ValueError(f"监控轮次的 {name} “{raw}”不是有效的日期")
    return month, day


def rounds_of(year: int, rules: tuple[RoundRule, ...]) -> list[Round]:
    """The rounds of a year, earliest first."""
    return [round_of(year, rule) for rule in rules]


def round_of(year: int, rule: RoundRule) -> Round:
    as_of = month_end(year, rule.month)
    due_year = year if (rule.due_month, rule.due_day) > (rule.month, as_of.day) else year + 1
    day = min(rule.due_day, _calendar.monthrange(due_year, rule.due_month)[1])
    return Round(year, rule.month, date(due_year, rule.due_month, day))


def find_round(year: int, month: int, rules: tuple[RoundRule, ...]) -> Round | None:
    return next((r for r in rounds_of(year, rules) if r.month == month), None)


# --------------------------------------------------------------------------- a round's submission

DRAFT, SUBMITTED, RETURNED, APPROVED, RECTIFY = "draft", "submitted", "returned", "approved", "rectify"
NOT_STARTED = "none"                  # no row yet: nothing saved
ROUND_STATE_LABELS = {NOT_STARTED: "未提交", DRAFT: "草稿（未提交）", SUBMITTED: "已提交，待审核", RETURNED: "已退回",
                      APPROVED: "已通过", RECTIFY: "需要整改"}
ROUND_EDITABLE = (NOT_STARTED, DRAFT, RETURNED)
ROUND_DONE = (APPROVED, RECTIFY)      # reviewed: the round is over for this project
SUBMIT, APPROVE, RETURN, REQUIRE_RECTIFICATION = "提交", "通过", "退回", "需要整改"

# Each step: the states it starts from, where it leads, whether a comment is required.
ROUND_TRANSITIONS = {
    SUBMIT: ((DRAFT, RETURNED), SUBMITTED, False),
    APPROVE: ((SUBMITTED,), APPROVED, False),
    RETURN: ((SUBMITTED,), RETURNED, True),
    REQUIRE_RECTIFICATION: ((SUBMITTED,), RECTIFY, False),
}
ROUND_REFUSALS = {
    SUBMIT: "只有未提交或已退回的监控可以提交",
    APPROVE: "只有已提交待审核的监控可以通过",
    RETURN: "只有已提交待审核的监控可以退回",
    REQUIRE_RECTIFICATION: "只有已提交待审核的监控可以要求整改",
}

# --------------------------------------------------------------------------- 整改 items

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
RECTIFICATION_STATES = (OPEN, ANSWERED, CLOSED)
RECTIFICATION_LABELS = {OPEN: "待整改", ANSWERED: "已答复，待审核", CLOSED: "已关闭"}
RAISE, ANSWER, CLOSE, SEND_BACK = "提出", "答复", "关闭", "退回"

RECTIFICATION_TRANSITIONS = {
    ANSWER: (OPEN, ANSWERED),          # an answer may be revised until the 审核人 acts on it
    CLOSE: (ANSWERED,),
    SEND_BACK: (ANSWERED,),
}
RECTIFICATION_TARGETS = {ANSWER: ANSWERED, CLOSE: CLOSED, SEND_BACK: OPEN}
RECTIFICATION_REFUSALS = {
    ANSWER: "整改事项已关闭，不能再修改整改情况",
    CLOSE: "只有已答复的整改事项可以关闭",
    SEND_BACK: "只有已答复的整改事项可以退回",
}

SOON, LATE = "soon", "late"


def due_status(state: str, due: date, today: date, soon_days: int) -> str | None:
    """Of an open item: LATE after its deadline, SOON from `soon_days` days before it up to the
    deadline day; None otherwise (an answered item waits on the 审核人, not on the unit)."""
    if state != OPEN:
        return None
    left = (due - today).days
    if left < 0:
        return LATE
    return SOON if left <= soon_days else None
