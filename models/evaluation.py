"""The year-end self-evaluation (绩效自评) of a project year, from the stored actuals (§5)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from models import rules
from models.actual import EntryError, IndicatorState, budget_state, indicator_states
from models.indicator import Indicator
from models.project import ProjectYear


def _items(states: list[IndicatorState], override: tuple[int, Decimal | None] | None = None):
    items = []
    for s in states:
        ind = s.indicator
        score = ind.eval_score
        if override and override[0] == ind.id:
            score = override[1]
        items.append(rules.EvaluationItem(
            id=ind.id, level1=ind.level1_std or ind.level1, measure=s.measure,
            completion=s.actual.completion if s.actual else None,
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
    return rules.evaluate(_items(states), spent, py.annual_total_yuan, thresholds)


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
        rules.evaluate(_items(states, (ind.id, value)), budget.spent_yuan or 0, py.annual_total_yuan)
    except ValueError as exc:
        raise EntryError(str(exc), "score") from exc
    ind.eval_score = value
    session.add(ind)
