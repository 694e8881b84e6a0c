"""A project year's budget adjustments (预算调整, DOMAIN.md §7) as the project page's section and
the API's list show them: 年初预算数, each adjustment in date order with the budget it brings
the year to, and the budget in force on the day asked for. The caller has checked the scope."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from domain.project_year import Adjustment, budget_in_force
from models.adjustment import BudgetAdjustment
from models.project import ProjectYear
from reads.wording import user_labels
from services.adjustment import DECREASE, INCREASE


@dataclass
class AdjustmentLine:
    adjustment: BudgetAdjustment
    by: str                          # who recorded it, as pages name people
    budget_after_yuan: Decimal       # 全年预算数 from its date on, with it and those before it
    in_force: bool                   # dated on or before the day asked for

    @property
    def kind(self) -> str:
        return INCREASE if self.adjustment.amount_yuan > 0 else DECREASE


@dataclass
class AdjustmentHistory:
    year: ProjectYear
    as_of: date
    lines: list[AdjustmentLine]

    @property
    def initial_yuan(self) -> Decimal | None:
        """年初预算数: the 年度资金总额 of the form."""
        return self.year.annual_total_yuan

    @property
    def annual_yuan(self) -> Decimal | None:
        """调整后预算数 (全年预算数) in force on `as_of`."""
        return budget_in_force(self.initial_yuan, [Adjustment(line.adjustment.effective_on, line.adjustment.amount_yuan)
                                                   for line in self.lines], self.as_of)

    @property
    def adjusted_yuan(self) -> Decimal:
        """The adjustments in force on `as_of`, added up."""
        return sum((line.adjustment.amount_yuan for line in self.lines if line.in_force), Decimal(0))


def adjustment_history(session: Session, py: ProjectYear, as_of: date) -> AdjustmentHistory:
    rows = list(session.exec(select(BudgetAdjustment).where(BudgetAdjustment.project_year_id == py.id)
                             .order_by(BudgetAdjustment.effective_on, BudgetAdjustment.id)))
    labels = user_labels(session, [row.created_by for row in rows])
    lines, running = [], py.annual_total_yuan or Decimal(0)
    for row in rows:
        running += row.amount_yuan
        lines.append(AdjustmentLine(row, labels.get(row.created_by, row.created_by), running, row.effective_on <= as_of))
    return AdjustmentHistory(py, as_of, lines)
