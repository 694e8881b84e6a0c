"""The writes of the year-end self-evaluation (绩效自评, §5) and its review, each inside the
caller's transaction: an evaluator's score, the 填报人's weights and notes, and the review's
steps (domain/review.py). Every step is kept in `evaluation_step`; the state moves only by a
conditional update, so two reviewers acting at once cannot both succeed."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, select

from domain import rules
from domain.review import DRAFT, EDITABLE_STATES, REFUSALS, STATE_LABELS, TRANSITIONS
from models.actual import EntryError
from models.evaluation import EvaluationNote, EvaluationReview, EvaluationStep
from models.indicator import Indicator
from models.project import ProjectYear
from reads.project_year import budget_state
from reads.self_evaluation import evaluation_items, review_state, scored_states

MAX_NOTE = 2000
MAX_COMMENT = 1000


class ReviewConflict(Exception):
    """The step does not fit the review's state (already acted on, or not submitted): Chinese."""


def set_evaluator_score(session: Session, py: ProjectYear, ind: Indicator, score, as_of: date) -> None:
    """An evaluator's score for a qualitative indicator, refused outside its assessment's band."""
    try:
        value = None if score is None else Decimal(str(score))
    except ArithmeticError as exc:
        raise EntryError("评分不是有效的数字", "score") from exc
    states = scored_states(session, py, as_of)
    budget = budget_state(session, py, as_of)
    try:
        rules.evaluate(evaluation_items(states, (ind.id, value)), budget.spent_yuan or 0, budget.judged_yuan)
    except ValueError as exc:
        raise EntryError(str(exc), "score") from exc
    ind.eval_score = value
    session.add(ind)


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
        raise ReviewConflict(f"{REFUSALS[action]}；当前状态：{STATE_LABELS.get(current, current)}。请刷新页面查看最新状态。")
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
    return [s.indicator for s in scored_states(session, py, date(py.year, 1, 1))]


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
    states = scored_states(session, py, as_of)
    items = [rules.EvaluationItem(id=it.id, level1=it.level1, measure=it.measure, completion=it.completion,
                                  assessment=it.assessment, weight=parsed.get(it.id, it.weight), score=None,
                                  name=it.name) for it in evaluation_items(states)]
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
