"""The writes of the year-end self-evaluation (绩效自评, §5) and its review, each inside the
caller's transaction: an evaluator's score and deduction, the 一级 weights a 审核人 sets, the
填报人's weights, notes and explanations, and the review's steps (domain/review.py). Every step
is kept in `evaluation_step`; the state moves only by a conditional update, so two reviewers
acting at once cannot both succeed. Submitting and approving wait until nothing is missing
(reads.self_evaluation.evaluation_problems, from domain/self_evaluation.py)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import update
from sqlmodel import Session, select

from domain import rules
from domain.review import APPROVE, APPROVED, DRAFT, EDITABLE_STATES, REFUSALS, STATE_LABELS, SUBMIT, TRANSITIONS
from models.actual import EntryError
from models.evaluation import (STATEMENT_TEXTS, WEIGHT_COLUMNS, EvaluationNote, EvaluationPeriodNote, EvaluationReview,
                               EvaluationStatement, EvaluationStep, EvaluationWeights)
from models.indicator import Indicator
from models.project import ProjectYear
from reads.self_evaluation import (evaluate, evaluation_inputs, evaluation_items, evaluation_problems, review_state,
                                   weights_in_force)

MAX_NOTE = 2000
MAX_COMMENT = 1000
_STORED = Decimal("0.0001")          # what the score, weight and deduction columns keep


class ReviewConflict(Exception):
    """The step does not fit the review's state (already acted on, or not submitted): Chinese."""


class NotReady(EntryError):
    """The 自评 cannot be submitted or approved yet: `problems` says what is missing, a line each."""

    def __init__(self, action: str, problems: list[str]):
        super().__init__(f"自评尚不能{action}：" + "；".join(problems), "review")
        self.action, self.problems = action, problems


# --------------------------------------------------------------------------- the evaluator's part

def set_evaluator_score(session: Session, py: ProjectYear, ind: Indicator, score, as_of: date) -> None:
    """An evaluator's score for a qualitative indicator, refused outside its assessment's band
    (None: back to the band's suggestion)."""
    _check_not_approved(session, py)
    value = _number(score, f"“{ind.name}”的评分", "score")
    _check_input(session, py, ind, as_of, {"score": value}, "score")
    ind.eval_score = value
    session.add(ind)


def set_deduction(session: Session, py: ProjectYear, ind: Indicator, points, reason: str | None, as_of: date) -> None:
    """An evaluator's deduction for a target set too low (§8): only on an indicator marked 超额,
    with a reason, not more than it scores (None: no deduction). Nothing is deducted otherwise."""
    _check_not_approved(session, py)
    value = _number(points, f"“{ind.name}”的扣分", "deduction")
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_NOTE:
        raise EntryError(f"扣分理由不能超过{MAX_NOTE}字", "deduction_reason")
    if value is not None:
        _check_input(session, py, ind, as_of, {"deduction": value, "deduction_reason": reason}, "deduction")
    ind.eval_deduction, ind.eval_deduction_reason = value, (reason if value is not None else None)
    session.add(ind)


def set_level_weights(session: Session, py: ProjectYear, weights: dict | None, reason: str | None, who: str,
                      role: str, now: datetime, as_of: date) -> None:
    """A 审核人's 一级 weights for the project year (财预〔2020〕10号's 特殊情况), with the reason,
    kept in the history (None: back to the defaults). They must add up to 100. A 填报人's edited
    indicator weights follow their level's new points in proportion; a qualitative score the
    change moves out of its band is unset (suggested again)."""
    _check_not_approved(session, py)
    reason = (reason or "").strip()
    if not reason:
        raise EntryError("调整一级指标分值须说明理由", "reason")
    if len(reason) > MAX_NOTE:
        raise EntryError(f"理由不能超过{MAX_NOTE}字", "reason")
    try:
        new = rules.level_weights(weights)
        old = rules.level_weights(weights_in_force(session, py))
        inputs = evaluation_inputs(session, py, as_of)
        points_before = rules.level_points(_levels(inputs.states), old)
        points_after = rules.level_points(_levels(inputs.states), new)
    except ValueError as exc:
        raise EntryError(str(exc), "weights") from exc
    for state in inputs.states:
        ind = state.indicator
        level = ind.level1_std or ind.level1
        if ind.eval_weight is not None and points_before[level]:
            ind.eval_weight = ind.eval_weight * points_after[level] / points_before[level]
    _even_out(inputs.states, points_after)
    inputs.weights = new
    try:
        evaluation = evaluate(py, inputs)
    except ValueError as exc:
        raise EntryError(str(exc), "weights") from exc
    _unset_scores_out_of_band(session, inputs.states, evaluation)
    session.add(EvaluationWeights(project_year_id=py.id, reason=reason, set_by=who, role=role, set_at=now,
                                  **{WEIGHT_COLUMNS[name]: value for name, value in new.items()}))
    session.flush()


def _levels(states) -> list[str]:
    return [s.indicator.level1_std or s.indicator.level1 for s in states]


def _even_out(states, points: dict) -> None:
    """Edited weights scaled and kept at the columns' 4 places still add up to their level's points:
    the last edited one of a level takes the rounding."""
    for level, level_points in points.items():
        members = [s.indicator for s in states if (s.indicator.level1_std or s.indicator.level1) == level]
        if not any(ind.eval_weight is not None for ind in members):
            continue
        share = level_points / len(members)
        for ind in members:
            if ind.eval_weight is not None:
                ind.eval_weight = Decimal(ind.eval_weight).quantize(_STORED)
        edited = [ind for ind in members if ind.eval_weight is not None]
        others = sum((ind.eval_weight if ind.eval_weight is not None else share for ind in members), Decimal(0))
        edited[-1].eval_weight += (level_points - others).quantize(_STORED)


def save_evaluator_part(session: Session, py: ProjectYear, scores: dict[int, str],
                        deductions: dict[int, tuple[str, str]], as_of: date) -> None:
    """The evaluator's part of the page: qualitative scores (blank: back to the suggestion) and
    deductions with their reasons (blank: none), each checked as `set_evaluator_score` and
    `set_deduction` do; only what changed is written."""
    _check_not_approved(session, py)
    indicators = {s.indicator.id: s.indicator for s in evaluation_inputs(session, py, as_of).states}
    for ind_id, raw in scores.items():
        ind = indicators.get(ind_id)
        if ind is not None and _number(raw, f"“{ind.name}”的评分", "score") != ind.eval_score:
            set_evaluator_score(session, py, ind, raw, as_of)
    for ind_id, (raw, reason) in deductions.items():
        ind = indicators.get(ind_id)
        if ind is None:
            continue
        points = _number(raw, f"“{ind.name}”的扣分", "deduction")
        if points != ind.eval_deduction or (reason or "").strip() != (ind.eval_deduction_reason or ""):
            set_deduction(session, py, ind, points, reason, as_of)


def _check_input(session: Session, py: ProjectYear, ind: Indicator, as_of: date, change: dict, field: str) -> None:
    inputs = evaluation_inputs(session, py, as_of)
    if all(s.indicator.id != ind.id for s in inputs.states):
        raise EntryError("该指标不计入绩效自评", field)
    changes = {ind.id: change}
    try:
        evaluation = evaluate(py, inputs, changes=changes)
        position = next(n for n, s in enumerate(inputs.states) if s.indicator.id == ind.id)
        item = evaluation_items(inputs.states, changes)[position]
        rules.check_evaluator_input(item, evaluation.indicators[position].weight)
    except ValueError as exc:
        raise EntryError(str(exc), field) from exc


def _check_not_approved(session: Session, py: ProjectYear) -> None:
    if review_state(session, py) == APPROVED:
        raise ReviewConflict("自评已通过，评分、扣分和一级指标分值已锁定；如需修改，请管理员先撤回。")


def _number(raw, what: str, field: str) -> Decimal | None:
    """A score or a deduction as sent: None for blank; a number kept at the columns' 4 places."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "")) if not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or abs(value) >= 10 ** 4:
        raise EntryError(f"{what}不是有效的数字", field)
    return value.quantize(_STORED)


def _unset_scores_out_of_band(session: Session, states, evaluation: rules.Evaluation) -> None:
    for state, scored in zip(states, evaluation.indicators):
        ind = state.indicator
        if ind.eval_score is not None and (scored.band is None or not scored.band.contains(ind.eval_score)):
            ind.eval_score = None
            session.add(ind)


# --------------------------------------------------------------------------- the review

def move_review(session: Session, py: ProjectYear, action: str, who: str, role: str, now: datetime,
                comment: str | None = None, as_of: date | None = None) -> str:
    """One step of the review, inside the caller's write transaction. The move is a conditional
    update (`WHERE state IN (…)`): of two reviewers acting at once, the second changes no row
    and is told (ReviewConflict), and no step is recorded for them. Submitting and approving
    (as of `as_of`, the evaluation date) wait until nothing is missing (NotReady)."""
    sources, target, needs_comment = TRANSITIONS[action]
    comment = (comment or "").strip() or None
    if needs_comment and not comment:
        raise EntryError("退回时请填写退回意见", "comment")
    if comment and len(comment) > MAX_COMMENT:
        raise EntryError(f"意见不能超过{MAX_COMMENT}字", "comment")
    _ensure_review(session, py, now)
    current = review_state(session, py)
    if action in (SUBMIT, APPROVE) and as_of is not None and current in sources:
        problems = evaluation_problems(session, py, as_of)
        if problems:
            raise NotReady(action, problems)
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


# --------------------------------------------------------------------------- the 填报人's part

def _check_editable(session: Session, py: ProjectYear) -> None:
    state = review_state(session, py)
    if state not in EDITABLE_STATES:
        raise ReviewConflict(f"自评{STATE_LABELS[state]}，权重和偏差原因分析已锁定；如需修改，请先撤回。")


def save_self_evaluation(session: Session, py: ProjectYear, weights: dict, notes: dict, who: str, now: datetime,
                         as_of: date, execution_reason: str | None = None,
                         explanations: dict[int, str] | None = None, texts: dict[str, str] | None = None) -> None:
    """The 填报人's part, while the evaluation is a draft or returned: weights (blank: the level's
    equal share) and 偏差原因分析及改进措施 per indicator, the reason for a 执行率 below 90 %,
    why a period was not entered (`explanations`: period month → text; None leaves them), and
    the form's texts (`texts`: a column of models.evaluation.STATEMENT_TEXTS → text, e.g.
    实际完成情况, 评价结论; those not given are left as they are).
    Weights go through rules.evaluate: per level they must add up to its points (Chinese
    EntryError otherwise)."""
    _check_editable(session, py)
    inputs = evaluation_inputs(session, py, as_of)
    indicators = {s.indicator.id: s.indicator for s in inputs.states}
    parsed = {ind_id: _weight(indicators[ind_id], raw) for ind_id, raw in weights.items() if ind_id in indicators}
    for ind_id, value in parsed.items():
        indicators[ind_id].eval_weight = value
    try:
        evaluation = evaluate(py, inputs)
    except ValueError as exc:
        raise EntryError(str(exc), "weights") from exc
    _unset_scores_out_of_band(session, inputs.states, evaluation)
    for ind in indicators.values():
        session.add(ind)
    for ind_id, text in notes.items():
        if ind_id in indicators:
            _set_note(session, ind_id, text, who, now)
    statement = {"execution_reason": execution_reason} if execution_reason is not None else {}
    statement.update({column: text for column, text in (texts or {}).items()
                      if column in STATEMENT_TEXTS and text is not None})
    if statement:
        _set_statement(session, py, statement, who, now)
    for month, text in (explanations or {}).items():
        if month in inputs.year.facts.calendar.months:
            _set_period_note(session, py, month, text, who, now)
    session.flush()


def _weight(ind: Indicator, raw) -> Decimal | None:
    raw = (raw or "").strip() if isinstance(raw, str) else raw
    if raw in ("", None):
        return None
    try:
        value = Decimal(str(raw).replace(",", ""))
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite():
        raise EntryError(f"“{ind.name}”的权重“{raw}”不是有效的数字", "weights")
    if value < 0 or value > 100:
        raise EntryError(f"“{ind.name}”的权重应在0到100分之间", "weights")
    return value.quantize(_STORED)


def _text(text: str | None, what: str, field: str) -> str:
    text = (text or "").strip()
    if len(text) > MAX_NOTE:
        raise EntryError(f"{what}不能超过{MAX_NOTE}字", field)
    return text


def _set_note(session: Session, indicator_id: int, text: str | None, who: str, now: datetime) -> None:
    text = _text(text, "偏差原因分析及改进措施", "notes")
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


def _set_statement(session: Session, py: ProjectYear, texts: dict[str, str | None], who: str, now: datetime) -> None:
    """The form's texts given (column → text; blank clears it), written only when one changed."""
    cleaned = {column: _text(text, STATEMENT_TEXTS[column], column) or None for column, text in texts.items()}
    row = session.get(EvaluationStatement, py.id)
    if row is None:
        if not any(cleaned.values()):
            return
        row = EvaluationStatement(project_year_id=py.id, updated_by=who, updated_at=now)
    elif all(getattr(row, column) == text for column, text in cleaned.items()):
        return
    for column, text in cleaned.items():
        setattr(row, column, text)
    row.updated_by, row.updated_at = who, now
    session.add(row)


def _set_period_note(session: Session, py: ProjectYear, month: int, text: str | None, who: str,
                     now: datetime) -> None:
    text = _text(text, "未填报原因", "explanations")
    row = session.get(EvaluationPeriodNote, (py.id, month))
    if not text:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = EvaluationPeriodNote(project_year_id=py.id, month=month, text=text, updated_by=who, updated_at=now)
    elif row.text == text:
        return
    row.text, row.updated_by, row.updated_at = text, who, now
    session.add(row)

