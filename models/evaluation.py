"""The tables of a project year's year-end self-evaluation (绩效自评, §5) and its review: where
the review stands, every step taken, the 偏差原因分析及改进措施 of each indicator, the 一级
weights a 审核人 set with their reason, the 填报人's texts of the form (the reason for a 执行率
below 90 %, 实际完成情况, 评价结论, 存在问题, 改进措施), and why a period was not entered (the evaluator's score and deduction of an indicator are columns of `indicator`). The
states and steps are domain/review.py; the writes services/self_evaluation.py, which moves the
state only by a conditional update; the score table reads/self_evaluation.py."""
from __future__ import annotations

from datetime import datetime

from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.review import DRAFT


class EvaluationReview(SQLModel, table=True):
    """Where a project year's 绩效自评 stands; moved only by conditional updates."""
    __tablename__ = "evaluation_review"
    __table_args__ = (UniqueConstraint("project_year_id", name="uq_evaluation_review_year"),)
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    state: str = Field(default=DRAFT, max_length=12)
    updated_at: datetime


class EvaluationStep(SQLModel, table=True):
    """Append-only: every 提交/通过/退回/撤回, who (and in which role), with the comment."""
    __tablename__ = "evaluation_step"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    who: str = Field(max_length=100)
    role: str = Field(max_length=20)
    action: str = Field(max_length=10)
    from_state: str = Field(max_length=12)
    to_state: str = Field(max_length=12)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    at: datetime


class EvaluationNote(SQLModel, table=True):
    """偏差原因分析及改进措施 of one annual indicator, written by the 填报人 for the 自评表."""
    __tablename__ = "evaluation_note"
    indicator_id: int = Field(foreign_key="indicator.id", primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=100)
    updated_at: datetime


# 一级指标 → its column of `evaluation_weights`
WEIGHT_COLUMNS = {"预算执行率": "budget_points", "产出指标": "output_points", "效益指标": "benefit_points",
                  "满意度指标": "satisfaction_points"}


def _points() -> Column:
    return Column(Numeric(8, 4), nullable=False)


class EvaluationWeights(SQLModel, table=True):
    """Append-only: the 一级 weights a 审核人 set for a project year (§5), with the reason. The
    latest row is in force; without one the defaults (10 / 50 / 30 / 10) are."""
    __tablename__ = "evaluation_weights"
    id: int | None = Field(default=None, primary_key=True)
    project_year_id: int = Field(foreign_key="project_year.id", index=True)
    budget_points: Decimal = Field(sa_column=_points())
    output_points: Decimal = Field(sa_column=_points())
    benefit_points: Decimal = Field(sa_column=_points())
    satisfaction_points: Decimal = Field(sa_column=_points())
    reason: str = Field(sa_column=Column(Text, nullable=False))
    set_by: str = Field(max_length=100)
    role: str = Field(max_length=20)
    set_at: datetime

    @property
    def weights(self) -> dict[str, Decimal]:
        return {name: getattr(self, column) for name, column in WEIGHT_COLUMNS.items()}


# The 填报人's texts of the 自评表 kept in `evaluation_statement`: column → how the form names it
STATEMENT_TEXTS = {"execution_reason": "执行率偏低的原因", "goal_achieved": "实际完成情况", "conclusion": "评价结论",
                   "problems": "存在问题", "improvements": "改进措施"}


class EvaluationStatement(SQLModel, table=True):
    """The 填报人's texts of a project year's 自评表 beyond the indicators' rows: why the 执行率
    is below 90 % (§5), the 年度总体目标's 实际完成情况, and the form's closing 评价结论 /
    存在问题 / 改进措施 (the official 项目支出绩效自评表's rows; the 审核人 reads them)."""
    __tablename__ = "evaluation_statement"
    project_year_id: int = Field(foreign_key="project_year.id", primary_key=True)
    execution_reason: str | None = Field(default=None, sa_column=Column(Text))
    goal_achieved: str | None = Field(default=None, sa_column=Column(Text))     # 实际完成情况
    conclusion: str | None = Field(default=None, sa_column=Column(Text))        # 评价结论
    problems: str | None = Field(default=None, sa_column=Column(Text))          # 存在问题
    improvements: str | None = Field(default=None, sa_column=Column(Text))      # 改进措施
    updated_by: str = Field(max_length=100)
    updated_at: datetime


class EvaluationPeriodNote(SQLModel, table=True):
    """Why a reporting period of the year was not entered (for the indicators, or the spending,
    that lack it): a period missing without one keeps the 自评 from being submitted."""
    __tablename__ = "evaluation_period_note"
    project_year_id: int = Field(foreign_key="project_year.id", primary_key=True)
    month: int = Field(primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=100)
    updated_at: datetime
