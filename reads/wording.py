"""How a figure is written for a person — on pages, printable tables and xlsx text cells — once;
and how a person of the history is named (`user_labels`).

A table headed 1–N月 shows the figures of 1–N月 (DOMAIN.md §9). A figure of an earlier period
is never shown as N's: it names its period and the periods missing since (`as_of_text`:
截至9月：35家（10、11月未填报）), and the line "数据截至…" above the table gives the latest
period actually used (`data_as_of`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Sequence

from sqlmodel import Session, select

from domain import rules
from domain.calendar import QUARTERLY, YearCalendar, month_end, period_name
from models.user import User

LIGHT_WORDS = {rules.GREEN: "绿", rules.YELLOW: "黄", rules.RED: "红", rules.GREY: "灰"}


def yuan_text(value) -> str:
    """37000000 → 37,000,000.00 (元, two decimals as in accounts); None → 空 (unknown, not 0)."""
    if value is None:
        return "空"
    return f"{Decimal(str(value)):,.2f}"


def percent_text(value) -> str:
    """A ratio as a percentage with two decimals (rules.for_display at 4 places): 0.6857… → 68.57%."""
    if value is None:
        return "—"
    return f"{rules.for_display(Decimal(str(value)) * 100, 2)}%"


def plain_number(value) -> str:
    """A stored Decimal as typed: 35, 2500, 0.5 (no trailing zeros, no exponent)."""
    if value is None:
        return ""
    return format(Decimal(str(value)).normalize(), "f")


def value_text(value, unit: str | None) -> str:
    return f"{plain_number(value)}{unit or ''}" if value is not None else ""


def day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def light_word(light: str | None, last_light: str | None = None) -> str:
    """绿 / 黄 / 红 / 灰, and beside a grey one the last known light (灰，上期红); — nothing due."""
    word = LIGHT_WORDS.get(light, "—")
    if light == rules.GREY and last_light in LIGHT_WORDS and last_light != rules.GREY:
        return f"{word}，上期{LIGHT_WORDS[last_light]}"
    return word


def forecast_text(measure: str, forecast, assessment: str | None, unit: str | None) -> str:
    """全年预计 as written (DOMAIN.md §3): a qualitative indicator's assessment (达成), any other's
    number with the unit it was entered in (480平方米); "" when none was given."""
    if measure == rules.QUALITATIVE:
        return assessment or ""
    return value_text(forecast, unit)


def periods_name(cal: YearCalendar, months: Sequence[int]) -> str:
    """A run of periods: 11月, 10、11月, 1-11月 (第3、4季度, 第1-4季度), written as the tables
    write their 1-N月 headers."""
    numbers = [m // 3 for m in months] if cal.periods == QUARTERLY else list(months)
    run = f"{numbers[0]}-{numbers[-1]}" if len(numbers) > 2 else "、".join(map(str, numbers))
    return f"第{run}季度" if cal.periods == QUARTERLY else f"{run}月"


def as_of_text(cal: YearCalendar, text: str, shown: int | None, through: int, *, missing: bool = True) -> str:
    """`text`, a figure of period `shown`, in a table headed 1–`through`: as it is when it is of
    `through`; else named by its period, with the periods missing since unless `missing` is
    off (a second cell of the same figure: then — when nothing was entered); nothing entered at
    all: which periods are missing."""
    if shown == through:
        return text
    lacking = periods_name(cal, cal.periods_after(shown, through))
    if shown is None:
        return f"{lacking}未填报" if missing else "—"
    tail = f"（{lacking}未填报）" if missing else ""
    return f"截至{period_name(cal, shown)}：{text}{tail}"


def data_as_of(cal: YearCalendar, items: Sequence[Sequence[int | None]], through: int, what: str = "项") -> str:
    """The line above a table headed 1–`through`, each of whose items (a row, a project) shows
    figures of some periods (None: nothing entered): the end of the latest period used, and how
    many items lack `through`'s figures."""
    latest = max((m for periods in items for m in periods if m is not None), default=None)
    if latest is None:
        return f"数据截至：{periods_name(cal, cal.periods_after(None, through))}均未填报"
    head = f"数据截至{day_text(month_end(cal.year, latest))}"
    if latest < through:
        lacking = periods_name(cal, cal.periods_after(latest, through))
        return f"{head}（最近一次填报为{period_name(cal, latest)}，{lacking}未填报）"
    behind = sum(1 for periods in items if any(m != through for m in periods))
    if behind:
        return f"{head}（其中{behind}{what}缺{period_name(cal, through)}数据，列示其最近填报数并注明期间）"
    return head


@dataclass(frozen=True)
class Execution:
    """预算执行 in a table headed 1–`through`: the latest cumulative spending up to then, of
    period `shown` (None: none entered), and its 执行率; `mark` says when that spending is 超预算 /
    冲减, with its note (reads.project_year.SpendingFlag.text; "" when not marked)."""
    calendar: YearCalendar
    through: int | None
    shown: int | None
    spent_yuan: Decimal | None
    rate: Decimal | None
    mark: str = ""

    @property
    def is_current(self) -> bool:
        """The spending is the period's own: a number that a total may add up."""
        return self.shown == self.through

    @property
    def spent_text(self) -> str:
        return as_of_text(self.calendar, yuan_text(self.spent_yuan), self.shown, self.through)

    @property
    def rate_text(self) -> str:
        return as_of_text(self.calendar, percent_text(self.rate), self.shown, self.through, missing=False)


def user_labels(session: Session, usernames) -> dict[str, str]:
    """How pages and messages name the people of the history, which records usernames: the
    display name with the username (`填报人甲（tianbao）`: two people may share a name), the
    username of someone without one, and as written what no user wrote (`演示数据`)."""
    names = {n for n in usernames if n}
    if not names:
        return {}
    found = {u.username: u for u in session.exec(select(User).where(User.username.in_(names)))}
    return {n: (f"{found[n].display_name}（{n}）" if n in found and found[n].display_name else n) for n in names}


def user_label(session: Session, username: str) -> str:
    """One person of the history as `user_labels` names them (e.g. who saved a value since)."""
    return user_labels(session, [username]).get(username, username)
