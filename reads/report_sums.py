"""What a set of indicators and project years adds up to in the reports: light counts, and
budget execution in fen (exact integer sums, also in SQLite).

A budget's light is never worked out with default bands: a group's is the domain core's rule
(`rules.budget_light`) on its sums with the settings' bands (the report's `AsOf.bands`); one
project year's is the light the core judged it (its summary row or its state), grey when the
judged period's spending is missing — which the rule on the sums would not say.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from domain import rules
from models.summary import LIGHTS

LIGHT_LABELS = {rules.GREEN: "绿灯", rules.YELLOW: "黄灯", rules.RED: "红灯", rules.GREY: "灰灯"}
FEN = 100


def fen(yuan) -> int | None:
    return None if yuan is None else int((Decimal(str(yuan)) * FEN).to_integral_value())


_PLACES = {n: Decimal(1).scaleb(-n) for n in range(0, 7)}


def json_number(value: Decimal | None, places: int = 2):
    """A Decimal as a JSON number, rounded half up (rules.for_display) — without its checks,
    as the API turns a thousand of them per answer."""
    if value is None:
        return None
    rounded = value.quantize(_PLACES[places], rounding=ROUND_HALF_UP)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _yuan_json(amount_fen: int):
    return amount_fen // FEN if amount_fen % FEN == 0 else amount_fen / FEN


@dataclass
class Counts:
    green: int = 0
    yellow: int = 0
    red: int = 0
    grey: int = 0
    indicators: int = 0

    @property
    def pending(self) -> int:
        """Indicators without a light yet (the first period's window is still open)."""
        return self.indicators - self.green - self.yellow - self.red - self.grey

    def add(self, other: "Counts") -> None:
        self.green += other.green
        self.yellow += other.yellow
        self.red += other.red
        self.grey += other.grey
        self.indicators += other.indicators

    def of(self, light: str) -> int:
        return getattr(self, light)

    def as_dict(self) -> dict:
        return {light: self.of(light) for light in LIGHTS}


@dataclass
class BudgetSums:
    """Budget execution summed over project years with a known budget > 0; its light is the
    subclass's (a group's or one project year's)."""
    annual_fen: int = 0
    spent_fen: int = 0
    expected_fen12: int = 0      # Σ annual × judged period month (÷ 12 gives the 序时 amount)
    projects: int = 0            # with a known budget
    initial_fen: int = 0         # Σ 年初预算数 of those projects (annual: the budgets in force, DOMAIN §7)

    def add_project(self, annual_fen: int | None, spent_fen: int | None, period: int) -> None:
        if not annual_fen or annual_fen <= 0:
            return
        self.annual_fen += annual_fen
        self.spent_fen += spent_fen or 0
        self.expected_fen12 += annual_fen * period
        self.projects += 1

    @property
    def light(self) -> str | None:
        raise NotImplementedError

    @property
    def annual_yuan(self) -> Decimal | None:
        return Decimal(self.annual_fen) / FEN if self.projects else None

    @property
    def spent_yuan(self) -> Decimal | None:
        return Decimal(self.spent_fen) / FEN if self.projects else None

    @property
    def initial_yuan(self) -> Decimal | None:
        return Decimal(self.initial_fen) / FEN if self.projects else None

    @property
    def execution_rate(self) -> Decimal | None:
        return rules.execution_rate(self.spent_fen, self.annual_fen) if self.projects else None

    @property
    def judged_progress(self) -> Decimal | None:
        """序时进度 of each project's judged period, weighted by its budget: what the group's
        light is judged against (a project still in its entry window is judged a month back)."""
        return Decimal(self.expected_fen12) / (12 * self.annual_fen) if self.projects else None

    @property
    def progress(self) -> Decimal | None:
        """序时进度 as shown."""
        return self.judged_progress

    @property
    def pace(self) -> Decimal | None:
        rate, progress = self.execution_rate, self.judged_progress
        return None if rate is None or not progress else rate / progress

    def as_dict(self) -> dict:
        """元 to the fen; the rates as the page rounds them (4 places, half up)."""
        if not self.projects:
            return dict.fromkeys(("annual_yuan", "spent_yuan", "execution_rate", "light", "progress"))
        return {"annual_yuan": _yuan_json(self.annual_fen), "spent_yuan": _yuan_json(self.spent_fen),
                "execution_rate": json_number(self.execution_rate, 4), "light": self.light,
                "progress": json_number(self.progress, 4)}


@dataclass
class Budget(BudgetSums):
    """A group's budget (a 主管部门, a 实施单位, the total): its light is the rule on its sums,
    with the bands of settings. Its 序时进度 as shown is `elapsed`, the share of the year gone at
    the report's latest closed month (DOMAIN §4) — the one figure the page states above it, not
    the weighted mean of its projects' judged periods (74.80 % beside 75.00 % while some
    projects are still in their entry window); its light stays judged as its projects are."""
    bands: rules.Thresholds = field(kw_only=True)
    elapsed: Decimal | None = field(default=None, kw_only=True)

    @property
    def progress(self) -> Decimal | None:
        if self.elapsed is not None and self.projects:
            return self.elapsed
        return self.judged_progress

    def add(self, other: "Budget") -> None:
        self.annual_fen += other.annual_fen
        self.spent_fen += other.spent_fen
        self.expected_fen12 += other.expected_fen12
        self.projects += other.projects
        self.initial_fen += other.initial_fen

    @property
    def light(self) -> str | None:
        if not self.projects or not self.expected_fen12:
            return None          # nothing due yet
        return rules.budget_light(self.spent_fen, self.annual_fen, min(self.judged_progress, Decimal(1)), self.bands)


@dataclass
class ProjectBudget(BudgetSums):
    """One project year's budget: the light the domain core judged it."""
    judged_light: str | None = field(default=None, kw_only=True)

    @classmethod
    def of(cls, annual_fen: int | None, spent_fen: int | None, period: int, light: str | None) -> ProjectBudget:
        budget = cls(judged_light=light)
        budget.add_project(annual_fen, spent_fen, period)
        return budget

    @property
    def light(self) -> str | None:
        return self.judged_light
