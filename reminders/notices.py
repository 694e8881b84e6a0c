"""What a reminder says, shared by the cycle that plans it (reminders/cycle.py) and the mail
that words it (reminders/messages.py): the kinds of notice, and a notice with its items."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DUE_SOON, OVERDUE = "manager-due-soon", "manager-overdue"
DIGEST, ESCALATION = "supervisor-digest", "supervisor-escalation"
KIND_LABELS = {DUE_SOON: "截止前提醒", OVERDUE: "逾期提醒", DIGEST: "每周汇总", ESCALATION: "逾期督办"}
BUDGET = "预算执行（累计支出）"
MISSING = "missing"          # an item's light while its entry is not due yet


@dataclass(frozen=True)
class Item:
    """One line of a reminder: an entry (or, in an escalation, a project's missing entries)."""
    unit: str
    project: str
    project_id: int
    year: int
    what: str                 # the indicator (三级指标), or BUDGET, or "12项未填报"
    period: str               # 2023年7月, 2023年第三季度
    light: str                # MISSING, grey or red
    position: int = 0


@dataclass
class Notice:
    kind: str
    user_id: int
    period: str               # 2023-07 (reporting period) or 2023-W32 (the digest's week)
    label: str                # 7月, 第三季度, 2022年12月 — how a subject names the period
    items: list[Item]
    deadline: date | None = None
    days: int | None = None   # days left (due-soon) or days past the deadline
    threshold: int | None = None   # escalation: the configured number of days

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.user_id}:{self.period}"
