"""The year-end self-evaluation (绩效自评) of a project year, from the stored actuals (§5): its
scores, the score table that the page, its xlsx and its printable page show, and where its
review stands."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from domain import rules
from domain.calendar import YearCalendar
from domain.review import DRAFT
from models.evaluation import EvaluationNote, EvaluationReview, EvaluationStep
from models.indicator import Indicator
from models.project import ProjectYear
from reads.project_year import IndicatorState, budget_state, indicator_states
from reads.wording import Execution, as_of_text, data_as_of, day_text, value_text


def scored_states(session: Session, py: ProjectYear, as_of: date) -> list[IndicatorState]:
    """The states of the indicators the evaluation scores: those of a level that carries points."""
    return [s for s in indicator_states(session, py, as_of)
            if (s.indicator.level1_std or s.indicator.level1) in rules.LEVEL1_POINTS]


def evaluation_items(states: list, override: tuple[int, Decimal | None] | None = None) -> list[rules.EvaluationItem]:
    """The items `rules.evaluate` scores; `override`: (indicator id, evaluator score) to try in
    place of the stored one."""
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
    states = scored_states(session, py, as_of)
    budget = budget_state(session, py, as_of)
    spent = budget.spent_yuan if budget.spent_yuan is not None else Decimal(0)
    return rules.evaluate(evaluation_items(states), spent, budget.judged_yuan, thresholds)     # 全年预算数 (§5, §7)


def review_state(session: Session, py: ProjectYear) -> str:
    row = session.exec(select(EvaluationReview).where(EvaluationReview.project_year_id == py.id)).first()
    return row.state if row else DRAFT


def review_steps(session: Session, py: ProjectYear) -> list[EvaluationStep]:
    return list(session.exec(select(EvaluationStep).where(EvaluationStep.project_year_id == py.id)
                             .order_by(EvaluationStep.at, EvaluationStep.id)))


# --------------------------------------------------------------------------- the score table
# What the 绩效自评 page, its xlsx and its printable page show: one row per annual indicator,
# grouped by 一级/二级 (the spans merge the cells), with the evaluation's weight and score.


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
    states = scored_states(session, py, as_of)
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

