"""The year-end self-evaluation (绩效自评) of a project year, from the stored actuals (§5): its
scores (with the 一级 weights in force and the evaluators' scores and deductions), the score
table that the page, its xlsx and its printable page show, what still keeps it from being
submitted (domain/self_evaluation.py), and where its review stands."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timezone
from decimal import Decimal
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from domain import rules
from domain.calendar import YearCalendar, period_name
from domain.funds import fund_groups
from domain.indicators import annual_target
from domain.review import DRAFT, SUBMIT
from domain.self_evaluation import PeriodGap, Readiness, period_gaps, readiness
from models.evaluation import (STATEMENT_TEXTS, EvaluationNote, EvaluationPeriodNote, EvaluationReview,
                               EvaluationStatement, EvaluationStep, EvaluationWeights)
from models.indicator import Indicator
from models.project import ProjectYear
from reads.project_year import IndicatorState, YearState, year_state
from reads.wording import Execution, as_of_text, periods_name, plain_number, value_text, wan_text
from services.inputs import current_config, thresholds


def scored(states: list[IndicatorState]) -> list[IndicatorState]:
    """The indicators the evaluation scores: those of a level that carries points."""
    return [s for s in states if (s.indicator.level1_std or s.indicator.level1) in rules.LEVEL1_POINTS]


def evaluation_items(states: list, changes: Mapping[int, dict] | None = None) -> list[rules.EvaluationItem]:
    """The items `rules.evaluate` scores, with each indicator's stored evaluator score and
    deduction; `changes`: indicator id → the fields to try in place of the stored ones."""
    items = []
    for s in states:
        ind = s.indicator
        item = rules.EvaluationItem(
            id=ind.id, level1=ind.level1_std or ind.level1, measure=s.measure, completion=s.completion,
            assessment=s.actual.assessment if s.actual else None, weight=ind.eval_weight, score=ind.eval_score,
            name=ind.name, over=bool(s.over), deduction=ind.eval_deduction,
            deduction_reason=ind.eval_deduction_reason)
        items.append(rules.EvaluationItem(**{**item.__dict__, **(changes or {}).get(ind.id, {})}))
    return items


def weights_history(session: Session, py: ProjectYear) -> list[EvaluationWeights]:
    """Every change of the project year's 一级 weights, oldest first; the last is in force."""
    return list(session.exec(select(EvaluationWeights).where(EvaluationWeights.project_year_id == py.id)
                             .order_by(EvaluationWeights.set_at, EvaluationWeights.id)))


def weights_in_force(session: Session, py: ProjectYear) -> dict[str, Decimal] | None:
    """The 一级 weights a 审核人 set for the project year; None: the defaults."""
    history = weights_history(session, py)
    return history[-1].weights if history else None


@dataclass
class Inputs:
    """What one project year's 自评 is computed from as of a date, read once."""
    year: YearState
    states: list[IndicatorState]          # the scored indicators
    weights: dict[str, Decimal] | None    # the 一级 weights in force (None: the defaults)

    @property
    def spent_yuan(self) -> Decimal:
        spent = self.year.budget.spent_yuan
        return spent if spent is not None else Decimal(0)

    @property
    def budget_yuan(self) -> Decimal | None:
        """全年预算数 the 执行率 is of: the adjusted budget in force at the spending's period end (§5, §7)."""
        return self.year.budget.judged_yuan


def evaluation_inputs(session: Session, py: ProjectYear, as_of: date) -> Inputs:
    year = year_state(session, py, as_of)
    return Inputs(year, scored(year.indicators), weights_in_force(session, py))


def evaluate(py: ProjectYear, inputs: Inputs, thresholds_: rules.Thresholds = rules.DEFAULT_THRESHOLDS,
             changes: Mapping[int, dict] | None = None) -> rules.Evaluation:
    """Raises ValueError (Chinese) when the project cannot be evaluated (no indicators, no budget)."""
    return rules.evaluate(evaluation_items(inputs.states, changes), inputs.spent_yuan, inputs.budget_yuan,
                          thresholds_, inputs.weights)


def project_evaluation(session: Session, py: ProjectYear, as_of: date,
                       thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS) -> rules.Evaluation:
    """Raises ValueError (Chinese) when the project cannot be evaluated (no indicators, no budget)."""
    return evaluate(py, evaluation_inputs(session, py, as_of), thresholds)


# --------------------------------------------------------------------------- ready to submit?

@dataclass
class Completeness:
    """What the 自评 rests on besides the scores: the periods missing entries (explained or not),
    the 填报人's texts, and what still keeps it from being submitted."""
    calendar: YearCalendar
    through: int | None                    # the latest period ended by the evaluation date
    gaps: tuple[PeriodGap, ...]
    explanations: dict[int, str]           # period month → why it was not entered
    notes: dict[int, str]                  # indicator id → 偏差原因分析及改进措施
    execution_reason: str
    readiness: Readiness | None            # None: the project cannot be evaluated at all

    @property
    def problems(self) -> list[str]:
        return self.readiness.problems if self.readiness else []


def completeness(session: Session, py: ProjectYear, inputs: Inputs, evaluation: rules.Evaluation | None,
                 as_of: date) -> Completeness:
    facts = inputs.year.facts
    cal = facts.calendar
    through = cal.closed_month(as_of)
    entered = [(s.indicator.name, set(facts.inputs.entries.get(s.indicator.id, {}))) for s in inputs.states]
    gaps = period_gaps(cal, through, entered, set(facts.inputs.spending))
    explanations = {n.month: n.text for n in session.exec(select(EvaluationPeriodNote).where(
        EvaluationPeriodNote.project_year_id == py.id))}
    notes = {n.indicator_id: n.text for n in session.exec(select(EvaluationNote).where(
        EvaluationNote.indicator_id.in_([s.indicator.id for s in inputs.states])))}
    statement = session.get(EvaluationStatement, py.id)
    reason = (statement.execution_reason or "") if statement else ""
    check = None
    if evaluation is not None:
        bands = thresholds(current_config())
        names = {s.indicator.id: s.indicator.name for s in inputs.states}
        over_missing = tuple(s.indicator.name for s in inputs.states if s.actual is not None and s.actual.month == 12
                             and not (s.actual.over_reason or "").strip()
                             and rules.over_reason_required(annual_target(s.indicator).op, s.completion, 12, bands))
        check = readiness(cal, evaluation, names, notes, gaps, explanations, reason, over_missing)
    return Completeness(cal, through, gaps, explanations, notes, reason, check)


def evaluation_problems(session: Session, py: ProjectYear, as_of: date) -> list[str]:
    """What keeps the 自评 from being submitted or approved, one line each (Chinese)."""
    inputs = evaluation_inputs(session, py, as_of)
    try:
        evaluation = evaluate(py, inputs)
    except ValueError as exc:
        return [str(exc)]
    return completeness(session, py, inputs, evaluation, as_of).problems


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
    score: Decimal            # after any deduction
    evaluator_score: Decimal | None
    band: rules.Band | None   # where an evaluator may score a qualitative one
    note: str
    shown: int | None         # the period of the actual shown (None: none entered)
    suggested: bool = False   # the score is the band's middle, not yet an evaluator's
    over: bool = False        # 超额 (§8): an evaluator may deduct for a target set too low
    deduction: Decimal = Decimal(0)
    deduction_reason: str = ""
    set_aside: str | None = None    # why a stored score or deduction no longer counts
    level1_span: int = 0      # rows the merged 一级 cell covers (0: covered by the one above)
    level2_span: int = 0

    @property
    def target_parts(self) -> tuple[str, str, str]:
        """指标性质 / 指标值 / 度量单位, the three columns the official 自评表 splits 指标值 into."""
        return target_parts(self.indicator)

    @property
    def full_marks(self) -> bool:
        return rules.for_display(self.score) >= rules.for_display(self.weight)

    @property
    def remarks(self) -> str:
        """The 偏差原因分析及改进措施 cell of the printed and xlsx 自评表: the note, then any
        deduction with its reason, and whether the score is still a suggestion."""
        parts = [self.note] if self.note else []
        if self.deduction:
            parts.append(f"因目标设定偏低扣{rules.for_display(self.deduction)}分：{self.deduction_reason}")
        if self.suggested:
            parts.append("得分为建议分（区间中值），待评价人确定")
        return "；".join(parts)


# 指标性质 as the official forms write it: the comparator, or 定性 for an assessed indicator
NATURES = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜", "=": "＝"}
QUALITATIVE_NATURE = "定性"


def target_parts(ind: Indicator) -> tuple[str, str, str]:
    """(指标性质, 指标值, 度量单位) of the annual target in force: ≥ / 70 / 家; a qualitative one
    is 定性 with its words as the value (保障); a target the grammar could not read keeps its raw
    text as the value."""
    target = annual_target(ind)
    if target.kind == rules.QUALITATIVE or target.value is None:
        return (QUALITATIVE_NATURE if target.kind == rules.QUALITATIVE else ""), target.raw, ""
    return NATURES.get(target.op or "=", "＝"), plain_number(target.value), target.unit or ""


@dataclass
class FundsLine:
    """One row of the 自评表's 项目资金 block (万元 on the form): 年度资金总额, or one of its
    sources; None: not known (the form does not give it, or the entries are not split by it)."""
    label: str
    initial_yuan: Decimal | None      # 年初预算数
    annual_yuan: Decimal | None       # 全年预算数 (调整后)
    spent_yuan: Decimal | None        # 全年执行数
    rate: Decimal | None = None       # 执行率
    total: bool = False               # 年度资金总额: the row that carries 分值 and 得分


def funds_lines(py: ProjectYear, budget_yuan: Decimal | None, spent_yuan: Decimal | None, rate: Decimal | None,
                adjusted: bool) -> tuple[list[FundsLine], list[str]]:
    """年度资金总额 and 其中：当年财政拨款 / 上年结转资金 / 其他资金 as the form gives its funds,
    with a note for each split left empty. 当年财政拨款 and 其他资金 are grouped as the 监控表 groups
    them (domain.funds: the form's own 财政拨款 line, or its 中央、省级、市县财政资金; 单位自筹 and
    其他资金; a group with an unknown cell is unknown). The 申报表 has no 上年结转资金; budget
    adjustments (§7) and spending are recorded for the whole budget, not by source: those cells
    of the sources stay empty rather than be apportioned."""
    funds = py.funds("annual")
    total = funds["total"]
    fiscal, other, fiscal_given = fund_groups(funds)
    lines = [FundsLine("年度资金总额", total, budget_yuan, spent_yuan, rate, total=True)]
    for label, initial in (("当年财政拨款", fiscal), ("上年结转资金", None), ("其他资金", other)):
        lines.append(FundsLine(label, initial, None if adjusted else initial, None))
    notes = ["当年财政拨款按申报表的财政拨款填列，其他资金按申报表的其他资金填列" if fiscal_given else
             "当年财政拨款按申报表的中央、省级、市县财政资金合计填列，其他资金按单位自筹和其他资金合计填列"]
    unknown = [line.label for line in lines[1:] if line.initial_yuan is None]
    if unknown:
        notes.append(f"{'、'.join(unknown)}：申报表未列明，年初预算数不填")
    if adjusted:
        notes.append("预算调整未分资金来源，各来源的全年预算数不填")
    notes.append("支出按项目合计填报、未分资金来源，各来源的全年执行数和执行率不填")
    return lines, notes


def later_budget_note(cal: YearCalendar, spent_in: int | None, judged_yuan: Decimal | None,
                      year_end_yuan: Decimal | None) -> list[str]:
    """The 执行率 is of the budget in force at its spending's period end (§7); when an adjustment
    dated after that period changed the budget by the evaluation date, the 说明 row says so."""
    if spent_in is None or judged_yuan is None or year_end_yuan is None or judged_yuan == year_end_yuan:
        return []
    return [f"全年执行数为{period_name(cal, spent_in)}的填报数，全年预算数和执行率按该期末的预算数填列；"
            f"其后调整，评价日的预算数为{wan_text(year_end_yuan)}万元"]


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
    completeness: Completeness | None = None
    weights: dict[str, Decimal] = field(default_factory=rules.level_weights)   # the 一级 weights in force
    weights_history: list[EvaluationWeights] = field(default_factory=list)
    budget_yuan: Decimal | None = None     # 全年预算数 (调整后) the 执行率 is of; 年初: py.annual_total_yuan
    funds: list[FundsLine] = field(default_factory=list)    # 年度资金总额, then 其中 its sources
    funds_notes: list[str] = field(default_factory=list)    # why a source's cell is empty
    texts: dict[str, str] = field(default_factory=dict)     # the 填报人's texts: STATEMENT_TEXTS column → text
    submitted_on: date | None = None       # the date of the latest 提交 (the form's 填报日期)

    @property
    def execution_reason_shown(self) -> str | None:
        """The form's 执行率偏低原因 row (§5): the reason written, （未填写） while a 执行率 below
        90 % still lacks one; None: no row."""
        reason = self.completeness.execution_reason if self.completeness else ""
        if reason:
            return reason
        return "（未填写）" if self.execution_reason_needed else None

    @property
    def signed_on_text(self) -> str:
        """The 填报日期 beside the signatures: the day of the latest 提交, else blank to write in."""
        day = self.submitted_on
        return f"{day.year}年{day.month}月{day.day}日" if day else "　　年　　月　　日"

    @property
    def spent_text_wan(self) -> str:
        """全年执行数 in 万元 as the 自评表 writes it, named by its period when older."""
        ex = self.execution
        return as_of_text(ex.calendar, wan_text(ex.spent_yuan), ex.shown, ex.through)

    @property
    def spent_yuan(self) -> Decimal | None:
        return self.execution.spent_yuan

    @property
    def data_through(self) -> int | None:
        """The latest period whose figures the table uses (None: nothing entered)."""
        return max((m for m in [r.shown for r in self.rows] + [self.execution.shown] if m is not None), default=None)

    @property
    def data_as_of(self) -> str:
        """数据截至2023年9月: the last period actually used, never the evaluation date over older
        figures; then the periods not entered since, or how many rows lag behind it."""
        cal, through, latest = self.execution.calendar, self.execution.through, self.data_through
        if through is None:
            return "数据截至：尚无已结束的填报期间"
        if latest is None:
            return f"数据截至：{periods_name(cal, cal.periods_after(None, through))}均未填报"
        head = f"数据截至{self.py.year}年{latest}月"
        if latest < through:
            return f"{head}（{periods_name(cal, cal.periods_after(latest, through))}未填报）"
        behind = sum(1 for m in [r.shown for r in self.rows] + [self.execution.shown] if m != latest)
        return f"{head}（其中{behind}项的数据早于该期，见各行）" if behind else head

    @property
    def level_totals(self) -> list[tuple[str, Decimal, Decimal]]:
        """(一级指标, points it carries, points scored) for each level with indicators."""
        if self.evaluation is None:
            return []
        return [(level, points, self.evaluation.level_scores[level])
                for level, points in self.evaluation.levels.items() if points]

    @property
    def weights_changed(self) -> bool:
        return bool(self.weights_history)

    @property
    def execution_reason_needed(self) -> bool:
        return self.evaluation is not None and rules.execution_reason_required(self.evaluation.execution_rate)


def statement_texts(session: Session, py: ProjectYear) -> dict[str, str]:
    """The 填报人's texts of the 自评表 (STATEMENT_TEXTS column → text; "" when not written)."""
    row = session.get(EvaluationStatement, py.id)
    return {column: (getattr(row, column) or "") if row else "" for column in STATEMENT_TEXTS}


def submitted_on(session: Session, py: ProjectYear) -> date | None:
    """The day (where the users are) of the latest 提交: the form's 填报日期."""
    submits = [step.at for step in review_steps(session, py) if step.action == SUBMIT]
    if not submits:
        return None
    moment = submits[-1] if submits[-1].tzinfo else submits[-1].replace(tzinfo=timezone.utc)   # SQLite: naive UTC
    return moment.astimezone(ZoneInfo(current_config().get("TIMEZONE") or "Asia/Shanghai")).date()


def score_table(session: Session, py: ProjectYear, as_of: date,
                thresholds: rules.Thresholds = rules.DEFAULT_THRESHOLDS) -> ScoreTable:
    inputs = evaluation_inputs(session, py, as_of)
    budget = inputs.year.budget
    cal = YearCalendar(py.year, py.periods)
    through = cal.closed_month(as_of)
    spent_in = budget.spending.month if budget.spending else None
    history = weights_history(session, py)
    weights = rules.level_weights(history[-1].weights if history else None)
    mark = budget.flag.text if budget.flag else ""          # §5: spending above the budget is marked 超预算
    judged_on = cal.period_end(spent_in) if spent_in is not None else as_of
    adjusted = any(a.on <= judged_on for a in inputs.year.facts.inputs.adjustments)
    form = dict(texts=statement_texts(session, py), submitted_on=submitted_on(session, py))
    try:
        evaluation = evaluate(py, inputs, thresholds)
    except ValueError as exc:
        lines, notes = funds_lines(py, inputs.budget_yuan, budget.spent_yuan, None, adjusted)
        return ScoreTable(py, as_of, None, str(exc),
                          Execution(cal, through, spent_in, budget.spent_yuan, None, mark),
                          completeness=completeness(session, py, inputs, None, as_of), weights=weights,
                          weights_history=history, budget_yuan=inputs.budget_yuan, funds=lines, funds_notes=notes,
                          **form)
    checked = completeness(session, py, inputs, evaluation, as_of)
    order = {level: n for n, level in enumerate(rules.LEVEL1_POINTS)}
    paired = sorted(zip(inputs.states, evaluation.indicators),
                    key=lambda pair: (order[pair[1].level1], pair[0].indicator.position))
    rows = []
    for state, scored_ in paired:
        ind, actual = state.indicator, state.actual
        assessment = actual.assessment if actual else None
        if actual is None:
            actual_text = ""
        elif state.measure == rules.QUALITATIVE:
            actual_text = assessment or ""
        else:
            actual_text = value_text(actual.value, actual.unit)
        shown = actual.month if actual else None
        rows.append(ScoreRow(ind, scored_.level1, ind.annual_level2 or ind.annual_level2_std or "", ind.name,
                             ind.annual_raw or "", as_of_text(cal, actual_text, shown, through), state.measure,
                             assessment, state.completion, scored_.weight, scored_.score,
                             ind.eval_score, scored_.band, checked.notes.get(ind.id, ""), shown,
                             scored_.suggested, bool(state.over), scored_.deduction, ind.eval_deduction_reason or "",
                             scored_.set_aside))
    spans(rows)
    lines, notes = funds_lines(py, inputs.budget_yuan, budget.spent_yuan, evaluation.execution_rate, adjusted)
    notes += later_budget_note(cal, spent_in, inputs.budget_yuan, budget.annual_yuan)
    return ScoreTable(py, as_of, evaluation, None,
                      Execution(cal, through, spent_in, budget.spent_yuan, evaluation.execution_rate, mark), rows,
                      checked, weights, history, inputs.budget_yuan, lines, notes, **form)


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

