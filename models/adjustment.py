"""Budget adjustments (预算调整, DOMAIN.md §7): a 追加 (positive) or 调减 (negative) of a project
year's budget from a date, with its 文号 and reason. Rows are only ever added: the history is
the table, and a wrong entry is corrected by another adjustment (冲正), never edited away.
The budget in force on a date is 年度资金总额 plus every adjustment dated on or before it
(domain.project_year.budget_in_force); services/adjustment.py writes them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text
from sqlmodel import Field, SQLModel


class BudgetAdjustment(SQLModel, table=True):
    __tablename__ = "budget_adjustment"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    effective_on: date                       # 调整日期: in force from this day
    amount_yuan: Decimal = Field(sa_column=Column(Numeric(18, 2), nullable=False))    # + 追加, − 调减
    doc_no: str = Field(max_length=100)      # 文号, e.g. 晋财预〔2023〕12号
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=100)  # the username (views/context.py)
    created_at: datetime
