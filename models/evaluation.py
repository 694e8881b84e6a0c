"""The year-end self-evaluation (绩效自评) of a project year, from the stored actuals (§5).

Also its review: the 填报人 submits (weights and 偏差原因分析及改进措施 are locked from then on),
the 审核人 approves or returns it with a comment, the 填报人 or an admin withdraws it (撤回: back
to a draft). Every step is kept in `evaluation_step`; the state moves only by a conditional
update, so two reviewers acting at once cannot both succeed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Text, UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, select

from domain.calendar import YearCalendar
from domain import rules
from models.actual import EntryError
from models.indicator import Indicator
from models.project import ProjectYear
from reads.project_year import budget_state, indicator_states
from reads.wording import Execution, as_of_text, data_as_of, day_text, value_text


def _items(states: list, override: tuple[int, Decimal | None] | None = None):
    items = []
    for s in states:
        ind = s.indicator
        score = ind.eval_score
        if override and override[0] == ind.id:
            score = override[1]
        items.append(rules.EvaluationItem(
            id=ind.id, level1=ind.level1_std or ind.level1, measure=s.measure,
            completion=s.completion,
            assessment=s.actual.assessment if s.actual else None,
            weight=ind.eval_weight, score=score, name=ind.name))
    return items


def project_evaluation(session: Session, py: ProjectYear, as_of: date,
                       thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS) -> rules.Evaluation:
    """Raises ValueError (Chinese) when the project cannot be evaluated (no indicators, no budget)."""
    states = [s for s in indicator_states(session, py, as_of) if (s.indicator.level1_std or s.indicator.level1)
              in rules.LEVEL1_POINTS]
    budget = budget_state(session, py, as_of)
    spent = budget.spent_yuan if budget.spent_yuan is not None else Decimal(0)
    return rules.evaluate(_items(states), spent, budget.judged_yuan, thresholds)     # 全年预算数 (§5, §7)


def set_evaluator_score(session: Session, py: ProjectYear, ind: Indicator, score, as_of: date) -> None:
    """An evaluator's score for a qualitative indicator, refused outside its assessment's band."""
    try:
        value = None if score is None else Decimal(str(score))
    except ArithmeticError as exc:
        raise EntryError("评分不是有效的数字", "score") from exc
    states = [s for s in indicator_states(session, py, as_of)
              if (s.indicator.level1_std or s.indicator.level1) in rules.LEVEL1_POINTS]
    budget = budget_state(session, py, as_of)
    try:
        rules.evaluate(_items(states, (ind.id, value)), budget.spent_yuan or 0, budget.judged_yuan)
    except ValueError as exc:
        raise EntryError(str(exc), "score") from exc
    ind.eval_score = value
    session.add(ind)


# --------------------------------------------------------------------------- the score table
# What the 绩效自评 page, its xlsx and its printable page show: one row per annual indicator,
# grouped by 一级/二级 (the spans merge the cells), with the evaluation's weight and score.



DRAFT, SUBMITTED, APPROVED, RETURNED = "draft", "submitted", "approved", "returned"
STATE_LABELS = {DRAFT: "草稿", SUBMITTED: "已提交，待审核", APPROVED: "已通过", RETURNED: "已退回"}
SUBMIT, APPROVE, RETURN, WITHDRAW = "提交", "通过", "退回", "撤回"
EDITABLE_STATES = (DRAFT, RETURNED)
MAX_NOTE = 2000
MAX_COMMENT = 1000


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


class ReviewConflict(Exception):
    """The step does not fit the review's state (already acted on, or not submitted): Chinese."""


def review_state(session: Session, py: ProjectYear) -> str:
    row = session.exec(select(EvaluationReview).where(EvaluationReview.project_year_id == py.id)).first()
    return row.state if row else DRAFT


def review_steps(session: Session, py: ProjectYear) -> list[EvaluationStep]:
    return list(session.exec(select(EvaluationStep).where(EvaluationStep.project_year_id == py.id)
                             .order_by(EvaluationStep.at, EvaluationStep.id)))


# Each action: the states it starts from, where it leads, whether a comment is required.
TRANSITIONS = {
    SUBMIT: ((DRAFT, RETURNED), SUBMITTED, False),
    APPROVE: ((SUBMITTED,), APPROVED, False),
    RETURN: ((SUBMITTED,), RETURNED, True),
    WITHDRAW: ((SUBMITTED, APPROVED), DRAFT, False),
}
_REFUSALS = {
    SUBMIT: "只有草稿或已退回的自评可以提交",
    APPROVE: "只有已提交待审核的自评可以通过",
    RETURN: "只有已提交待审核的自评可以退回",
    WITHDRAW: "只有已提交或已通过的自评可以撤回",
}


def move_review(session: Session, py: ProjectYear, action: str, who: str, role: str, now: datetime,
                comment: str | None = None) -> str:
    """One step of the review, inside the caller's write transaction. The move is a conditional
    update (`WHERE state IN (…)`): of two reviewers acting at once, the second changes no row
    and is told (ReviewConflict), and no step is recorded for them."""
    sources, target, needs_comment = TRANSITIONS[action]
    comment = (comment or "").strip() or None
    if needs_comment and not comment:
        raise EntryError("退回时请填写退回意见", "comment")
    if comment and len(comment) > MAX_COMMENT:
        raise EntryError(f"意见不能超过{MAX_COMMENT}字", "comment")
    _ensure_review(session, py, now)
    current = review_state(session, py)
    result = session.exec(update(EvaluationReview)
                          .where(EvaluationReview.project_year_id == py.id, EvaluationReview.state.in_(sources))
                          .values(state=target, updated_at=now))
    if result.rowcount != 1:
        raise ReviewConflict(f"{_REFUSALS[action]}；当前状态：{STATE_LABELS.get(current, current)}。请刷新页面查看最新状态。")
    session.add(EvaluationStep(project_year_id=py.id, who=who, role=role, action=action, from_state=current,
                               to_state=target, comment=comment, at=now))
    session.flush()
    return target


def _ensure_review(session: Session, py: ProjectYear, now: datetime) -> None:
    if session.exec(select(EvaluationReview).where(EvaluationReview.project_year_id == py.id)).first() is None:
        session.add(EvaluationReview(project_year_id=py.id, state=DRAFT, updated_at=now))
        session.flush()


def _check_editable(session: Session, py: ProjectYear) -> None:
    state = review_state(session, py)
    if state not in EDITABLE_STATES:
        raise ReviewConflict(f"自评{STATE_LABELS[state]}，权重和偏差原因分析已锁定；如需修改，请先撤回。")


def _level_indicators(session: Session, py: ProjectYear) -> list[Indicator]:
    return [s.indicator for s in indicator_states(session, py, date(py.year, 1, 1))
            if (s.indicator.level1_std or s.indicator.level1) in rules.LEVEL1_POINTS]


def save_self_evaluation(session: Session, py: ProjectYear, weights: dict, notes: dict, who: str, now: datetime,
                         as_of: date) -> None:
    """The 填报人's part: weights (blank: the level's equal share) and 偏差原因分析及改进措施 per
    indicator, while the evaluation is a draft or returned. Weights go through rules.evaluate:
    per level they must add up to its points (Chinese EntryError otherwise)."""
    _check_editable(session, py)
    indicators = {i.id: i for i in _level_indicators(session, py)}
    parsed = {}
    for ind_id, raw in weights.items():
        if ind_id not in indicators:
            continue
        raw = (raw or "").strip() if isinstance(raw, str) else raw
        if raw in ("", None):
            parsed[ind_id] = None
            continue
        try:
            value = Decimal(str(raw).replace(",", ""))
        except ArithmeticError:
            value = None
        if value is None or not value.is_finite():
            raise EntryError(f"“{indicators[ind_id].name}”的权重“{raw}”不是有效的数字", "weights")
        if value < 0 or value > 100:
            raise EntryError(f"“{indicators[ind_id].name}”的权重应在0到100分之间", "weights")
        parsed[ind_id] = value.quantize(Decimal("0.0001"))
    states = [s for s in indicator_states(session, py, as_of)
              if (s.indicator.level1_std or s.indicator.level1) in rules.LEVEL1_POINTS]
    items = [rules.EvaluationItem(id=it.id, level1=it.level1, measure=it.measure, completion=it.completion,
                                  assessment=it.assessment, weight=parsed.get(it.id, it.weight), score=None,
                                  name=it.name) for it in _items(states)]
    # an evaluator score may sit outside a band that new weights move: checked with the weights
    scored = [rules.EvaluationItem(**{**item.__dict__, "score": indicators[item.id].eval_score}) for item in items]
    budget = budget_state(session, py, as_of)
    try:
        rules.evaluate(items, budget.spent_yuan or 0, budget.judged_yuan or 1)
    except ValueError as exc:
        raise EntryError(str(exc), "weights") from exc
    try:
        rules.evaluate(scored, budget.spent_yuan or 0, budget.judged_yuan or 1)
    except ValueError:
        for ind_id, ind in indicators.items():   # the weight moved the band: back to its top
            if ind.eval_score is not None:
                ind.eval_score = None
                session.add(ind)
    for ind_id, value in parsed.items():
        indicators[ind_id].eval_weight = value
        session.add(indicators[ind_id])
    for ind_id, text in notes.items():
        if ind_id in indicators:
            _set_note(session, ind_id, text, who, now)
    session.flush()


def _set_note(session: Session, indicator_id: int, text: str | None, who: str, now: datetime) -> None:
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise EntryError(f"偏差原因分析及改进措施不能超过{MAX_NOTE}字", "notes")
    row = session.get(EvaluationNote, indicator_id)
    if not text:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = EvaluationNote(indicator_id=indicator_id, text=text, updated_by=who, updated_at=now)
    elif row.text == text:
        return
    row.text, row.updated_by, row.updated_at = text, who, now
    session.add(row)


@dataclass
class ScoreRow:
    indicator: Indicator
    level1: str
    level2: str
    name: str
    target: str
    actual: str               # 实际完成值 as of the evaluation date, named by its period when older
    measure: str
    assessment: str | None
    completion: Decimal | None
    weight: Decimal
    score: Decimal
    evaluator_score: Decimal | None
    band: tuple[Decimal, Decimal] | None
    note: str
    shown: int | None         # the period of the actual shown (None: none entered)
    level1_span: int = 0      # rows the merged 一级 cell covers (0: covered by the one above)
    level2_span: int = 0


@dataclass
class ScoreTable:
    """The 绩效自评表 of one project year as of a date: its figures are those of the periods
    closed by then (`execution.through`), or name the earlier period they are of."""
    py: ProjectYear
    as_of: date
    evaluation: rules.Evaluation | None
    error: str | None
    execution: Execution
    rows: list[ScoreRow] = field(default_factory=list)
    budget_yuan: Decimal | None = None     # 全年预算数 (调整后) the 执行率 is of; 年初: py.annual_total_yuan

    @property
    def spent_yuan(self) -> Decimal | None:
        return self.execution.spent_yuan

    @property
    def data_as_of(self) -> str:
        """数据截至…: the date asked for, or the end of the latest period used when older."""
        through = self.execution.through
        if through is None:
            return f"数据截至{day_text(self.as_of)}"
        shown = [r.shown for r in self.rows] + [self.execution.shown]
        return data_as_of(self.execution.calendar, [[m] for m in shown], through)

    @property
    def level_totals(self) -> list[tuple[str, Decimal, Decimal]]:
        """(一级指标, points it carries, points scored) for each level with indicators."""
        if self.evaluation is None:
            return []
        return [(level, points, self.evaluation.level_scores[level])
                for level, points in self.evaluation.levels.items() if points]


def score_table(session: Session, py: ProjectYear, as_of: date,
                thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS) -> ScoreTable:
    states = [s for s in indicator_states(session, py, as_of)
              if (s.indicator.level1_std or s.indicator.level1) in rules.LEVEL1_POINTS]
    budget = budget_state(session, py, as_of)
    cal = YearCalendar(py.year, py.periods)
    through = cal.closed_month(as_of)
    spent_in = budget.spending.month if budget.spending else None
    try:
        evaluation = project_evaluation(session, py, as_of, thresholds)
    except ValueError as exc:
        return ScoreTable(py, as_of, None, str(exc), Execution(cal, through, spent_in, budget.spent_yuan, None),
                          budget_yuan=budget.judged_yuan)
    notes = {n.indicator_id: n.text for n in session.exec(select(EvaluationNote).where(
        EvaluationNote.indicator_id.in_([s.indicator.id for s in states])))}
    order = {level: n for n, level in enumerate(rules.LEVEL1_POINTS)}
    paired = sorted(zip(states, evaluation.indicators),
                    key=lambda pair: (order[pair[1].level1], pair[0].indicator.position))
    rows = []
    for state, scored in paired:
        ind, actual = state.indicator, state.actual
        assessment = actual.assessment if actual else None
        band = None
        if state.measure == rules.QUALITATIVE and assessment in rules.QUALITATIVE_BANDS:
            low, high = rules.QUALITATIVE_BANDS[assessment]
            band = (rules.for_display(scored.weight * low), rules.for_display(scored.weight * high))
        if actual is None:
            actual_text = ""
        elif state.measure == rules.QUALITATIVE:
            actual_text = assessment or ""
        else:
            actual_text = value_text(actual.value, actual.unit)
        shown = actual.month if actual else None
        rows.append(ScoreRow(ind, scored.level1, ind.annual_level2 or ind.annual_level2_std or "", ind.name,
                             ind.annual_raw or "", as_of_text(cal, actual_text, shown, through), state.measure,
                             assessment, actual.completion if actual else None, scored.weight, scored.score,
                             ind.eval_score, band, notes.get(ind.id, ""), shown))
    spans(rows)
    return ScoreTable(py, as_of, evaluation, None,
                      Execution(cal, through, spent_in, budget.spent_yuan, evaluation.execution_rate), rows,
                      budget.judged_yuan)


def spans(rows) -> None:
    """Mark the merged 一级/二级 cells: the first row of a run carries the run's length."""
    for n, row in enumerate(rows):
        if n == 0 or rows[n - 1].level1 != row.level1:
            row.level1_span = sum(1 for _ in _run(rows, n, lambda r: r.level1))
        if n == 0 or (rows[n - 1].level1, rows[n - 1].level2) != (row.level1, row.level2):
            row.level2_span = sum(1 for _ in _run(rows, n, lambda r: (r.level1, r.level2)))


def _run(rows, start, key):
    for row in rows[start:]:
        if key(row) != key(rows[start]):
            return
        yield row

