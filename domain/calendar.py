"""The reporting calendar of one project year (DOMAIN.md §3, §4, §9), written once.

A project year is reported monthly or quarterly; a period's actual is due by the deadline day
(default the 5th) of the following month. As of a date `D`:

- `closed` is the end month of the latest period that has ended by `D` (None before the first);
- `late` says whether that period's entry window has closed too (`D` after its deadline);
- the *judged period* decides a light: `closed` once it has an entry or its window has closed;
  while its window is open and nothing has come in, the period before it (the unit is not late
  yet, so the previous period's light still stands); None when there is none (nothing due).

A judged period without an entry is grey; the light of the latest entered period stays beside
it as the last known light (灰，上期红), at year end too.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Container

MONTHLY, QUARTERLY = "monthly", "quarterly"
PERIODS = (MONTHLY, QUARTERLY)
PERIODS_LABELS = {MONTHLY: "按月", QUARTERLY: "按季度"}
DEFAULT_DEADLINE_DAY = 5


@dataclass(frozen=True)
class Moment:
    """Where a date stands in a project year: the latest closed period (`closed`, its end
    month; None: none yet) and whether that period's entry window has closed (`late`)."""
    closed: int | None
    late: bool


@dataclass(frozen=True)
class YearCalendar:
    year: int
    periods: str = MONTHLY
    deadline_day: int = DEFAULT_DEADLINE_DAY

    def __post_init__(self):
        if self.periods not in PERIODS:
            raise ValueError(f"填报周期应为按月（monthly）或按季度（quarterly），不能是“{self.periods}”")
        # At most the 27th: every month then ends after the previous period's deadline, so the
        # period judged while the latest one's window is open has its own window closed (with
        # the 28th, on 28 February January would be judged grey on its own deadline day).
        if not 1 <= self.deadline_day <= 27:
            raise ValueError(f"填报截止日应为1到27日，不能是{self.deadline_day}日")

    @property
    def step(self) -> int:
        return 3 if self.periods == QUARTERLY else 1

    @property
    def months(self) -> tuple[int, ...]:
        """The end months of the reporting periods: 1…12, or 3, 6, 9, 12."""
        return tuple(range(self.step, 13, self.step))

    def is_period(self, month: int) -> bool:
        return 1 <= month <= 12 and month % self.step == 0

    def period_of(self, month: int) -> int:
        """The end month of the period that contains `month` (quarterly: 7 → 9)."""
        return -(-month // self.step) * self.step

    def period_end(self, month: int) -> date:
        return month_end(self.year, month)

    def deadline(self, month: int) -> date:
        """The period's actual is due by this day of the following month."""
        y, m = (self.year + 1, 1) if month == 12 else (self.year, month + 1)
        return date(y, m, min(self.deadline_day, _calendar.monthrange(y, m)[1]))

    @staticmethod
    @lru_cache(maxsize=12)
    def share(month: int) -> Decimal:
        """序时进度 f at the end of a period: month / 12."""
        return Decimal(month) / Decimal(12)

    def closed_month(self, as_of: date) -> int | None:
        """The end month of the latest period that has ended by `as_of`."""
        if as_of.year > self.year:
            return 12
        if as_of.year < self.year:
            return None
        ended = as_of.month if as_of >= month_end(self.year, as_of.month) else as_of.month - 1
        closed = ended - ended % self.step
        return closed or None

    def moment(self, as_of: date) -> Moment:
        closed = self.closed_month(as_of)
        return Moment(closed, closed is not None and as_of > self.deadline(closed))

    def default_month(self, as_of: date) -> int:
        """The period a page opens on: the latest that has ended (early August: July), else the first."""
        return self.closed_month(as_of) or self.months[0]

    def month_moment(self, month: int, late: bool) -> Moment:
        """The moment of dates whose latest closed calendar month is `month`, after (`late`) or
        before that month's deadline: what the report summaries store, one row per month."""
        closed = month - month % self.step
        if closed <= 0:
            return Moment(None, False)
        return Moment(closed, late or closed != month)   # a quarter that ended earlier is past due

    def table_moment(self, month: int, made_on: date) -> Moment:
        """The moment a table headed 1–`month` (a period) reads, made on `made_on`: that period
        closed, and late once its entry deadline has passed — so a period still open to entry
        is judged as the pages judge it then, and a missing one after its deadline is grey."""
        return self.month_moment(month, made_on > self.deadline(month))

    def judged(self, moment: Moment, entered: Container[int]) -> int | None:
        """The period whose entry decides a light at `moment`, given the periods entered."""
        if moment.closed is None:
            return None
        if moment.late or moment.closed in entered:
            return moment.closed
        previous = moment.closed - self.step
        return previous if previous > 0 else None

    def periods_after(self, shown: int | None, through: int) -> tuple[int, ...]:
        """The periods after `shown` (None: from the first) up to `through`: those a table
        headed 1–`through` lacks when its latest entry is of `shown`."""
        return tuple(m for m in self.months if (shown or 0) < m <= through)


def month_end(year: int, month: int) -> date:
    return date(year, month, _calendar.monthrange(year, month)[1])


def period_label(year: int, month: int, periods: str = MONTHLY) -> str:
    """2023年7月, or 2023年第3季度 for a quarterly project."""
    if periods == QUARTERLY and month % 3 == 0:
        return f"{year}年第{month // 3}季度"
    return f"{year}年{month}月"


def period_name(cal: YearCalendar, month: int) -> str:
    """9月, or 第3季度 for a quarterly project year."""
    return f"第{month // 3}季度" if cal.periods == QUARTERLY else f"{month}月"
