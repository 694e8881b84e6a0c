"""What a reminder says, shared by the cycle that plans it (reminders/cycle.py) and the mail
that words it (reminders/messages.py): the kinds of notice, and a notice with its items."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from domain.rules import BLUE

DUE_SOON, OVERDUE = "manager-due-soon", "manager-overdue"
DIGEST, ESCALATION = "supervisor-digest", "supervisor-escalation"
# Monitoring rounds and 整改 (reminders/monitoring.py): a round's monitoring not yet submitted,
# a 整改 item still open, each before and after its deadline.
ROUND_DUE_SOON, ROUND_OVERDUE = "round-due-soon", "round-overdue"
RECTIFY_DUE_SOON, RECTIFY_OVERDUE = "rectify-due-soon", "rectify-overdue"
KIND_LABELS = {DUE_SOON: "截止前提醒", OVERDUE: "逾期提醒", DIGEST: "每周汇总", ESCALATION: "逾期督办",
               ROUND_DUE_SOON: "监控截止前提醒", ROUND_OVERDUE: "监控逾期提醒",
               RECTIFY_DUE_SOON: "整改到期提醒", RECTIFY_OVERDUE: "整改逾期提醒"}
_PERIOD = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{1,2})")
_ITEM = re.compile(r"(\d+)@(\d{4})(\d{2})(\d{2})")


def notice_words(kind: str, period: str) -> str:
    """A queued notice as an admin reads it: 截止前提醒 · 2023年7月, 每周汇总 · 2023年第32周,
    整改逾期提醒 · 整改事项 #17（2023年8月20日到期） — not its key (manager-due-soon:3:2023-07)."""
    if m := _PERIOD.fullmatch(period):
        when = f"{m[1]}年{int(m[2])}月"
    elif m := _WEEK.fullmatch(period):
        when = f"{m[1]}年第{int(m[2])}周"
    elif m := _ITEM.fullmatch(period):
        when = f"整改事项 #{m[1]}（{m[2]}年{int(m[3])}月{int(m[4])}日到期）"
    else:
        when = period
    return f"{KIND_LABELS.get(kind, '提醒')} · {when}"


BUDGET = "预算执行（累计支出）"
MISSING = "missing"          # an item's light while its entry is not due yet
UNSUBMITTED = "unsubmitted"  # a round's monitoring not submitted (or returned), and its deadline ahead
RECTIFY, RECTIFY_LATE = "rectify", "rectify-late"    # an open 整改 item, before and after its deadline
OVER_MARK = BLUE             # an indicator marked 超额 (DOMAIN.md §8), listed in the digest for information


@dataclass(frozen=True)
class Item:
    """One line of a reminder: an entry (or, in an escalation, a project's missing entries)."""
    unit: str
    project: str
    project_id: int
    year: int
    what: str                 # the indicator (三级指标), or BUDGET, or "12项未填报", or a 整改 item
    period: str               # 2023年7月, 2023年第三季度, or a deadline (8月20日到期)
    light: str                # MISSING, grey or red; OVER_MARK; UNSUBMITTED, RECTIFY or RECTIFY_LATE
    position: int = 0
    link: str | None = None   # the page to open (under BASE_URL), when not the project's


@dataclass
class Notice:
    kind: str
    user_id: int
    period: str               # 2023-07 (reporting period, or a round), 2023-W32 (the digest's week),
                              # or 17@20230820 (a 整改 item and its deadline)
    label: str                # 7月, 第三季度, 2022年12月 — how a subject names the period
    items: list[Item]
    deadline: date | None = None
    days: int | None = None   # days left (due-soon) or days past the deadline
    threshold: int | None = None   # escalation: the configured number of days

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.user_id}:{self.period}"
