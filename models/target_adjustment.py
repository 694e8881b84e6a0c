"""Target adjustments (目标调整, DOMAIN.md §7): a 填报人's proposal of new 年度 指标值 for a project
year, with its reason, and the 审核人's decision. The proposal and its items are kept whatever
the decision; what an approval changed is written to the target history (TargetChange rows
with `adjustment_id`), beside the versions that imports made. The write use cases are
services/target_adjustment.py.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

PENDING, APPROVED, RETURNED = "pending", "approved", "returned"
STATES = (PENDING, APPROVED, RETURNED)
STATE_LABELS = {PENDING: "待审核", APPROVED: "已批准", RETURNED: "已退回"}

CHANGE, ADD, WITHDRAW = "change", "add", "withdraw"
ACTIONS = (CHANGE, ADD, WITHDRAW)
ACTION_LABELS = {CHANGE: "调整", ADD: "新增", WITHDRAW: "撤销"}


class TargetAdjustment(SQLModel, table=True):
    """One proposal: pending until a 审核人 (or an admin) approves or returns it, once."""
    __tablename__ = "target_adjustment"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    state: str = Field(default=PENDING, max_length=10, index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    proposed_by: str = Field(max_length=100)         # usernames, as every history records them
    proposed_at: datetime
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = None
    comment: str | None = Field(default=None, sa_column=Column(Text))    # the 审核人's (required to return)


class TargetAdjustmentItem(SQLModel, table=True):
    """One indicator of a proposal: a new 指标值 (`change`), an indicator withdrawn from the
    year's targets (`withdraw`), or a new one (`add`: its names, and on approval the indicator
    made for it). `old_raw` is the target in force when it was proposed: an approval finds out
    from it whether the target has changed meanwhile."""
    __tablename__ = "target_adjustment_item"
    id: int | None = Field(default=None, primary_key=True)
    adjustment_id: int = Field(foreign_key="target_adjustment.id", index=True)
    position: int
    action: str = Field(max_length=10)
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id", index=True)
    level1: str | None = Field(default=None, max_length=40)          # an added indicator's names
    level2: str | None = Field(default=None, max_length=100)
    level3: str | None = Field(default=None, max_length=300)
    old_raw: str | None = Field(default=None, max_length=200)
    new_raw: str | None = Field(default=None, max_length=200)        # None: withdrawn
