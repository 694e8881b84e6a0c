"""The rules of DOMAIN.md §3–§5: measures, completion, pace, lights and the 绩效自评 score.

Pure functions on Decimals: stdlib and `importers.values` only — no database, no Flask, no clock.
The caller passes the share of the year elapsed (`f`, from `elapsed_share`) and, for "no actual
yet", today's date and the entry deadline. Results are kept at full Decimal precision;
`for_display` rounds (ROUND_HALF_UP) when something is shown: 2 places for points and money,
4 places for ratios (r, p, 执行率 — a percentage with 2 decimals).

The API, in the order a page needs it:

- `Thresholds` — the *(configurable)* bands: pace 0.8 / 0.6, level 0.9, grades 优 90 / 良 80 / 中 60.
- `elapsed_share(period_end_month, periods)` — 序时进度 f; `period_end_month(month, periods)` maps a
  month onto the end month of its reporting period (quarterly: 7 → 9).
- `infer_measure(level3, target)` — cumulative / level / qualitative, the default of §3.
- `to_common_base(t, t_unit, a, a_unit)` — target and actual in one base unit (万元 and 元 → 元);
  `completion(op, t, t_unit, a, a_unit)` — r; both refuse units of different bases.
- `is_met(op, t, a)`, `pace(t, a, f)`, `year_end_projection(a, f)`,
  `light(measure, op, t, a, f, thresholds, assessment)` — on values already in one unit.
- `judge(measure, target, f=…, value=…, unit=…, assessment=…)` — completion, pace and light of
  one actual in one call: what the IND answer shows.
- `light_without_actual(as_of, entry_deadline)` — grey after the deadline, None before it.
- `execution_rate`, `budget_pace`, `budget_light` — 预算执行 against 年度资金总额.
- `is_over(op, r, p)` — 超额 (§8); `over_reason_required(op, r, month)` — the year's last entry
  at r >= 1.3 needs a reason.
- `deviation_reason_required(light)`, `raises_alert(light)`, `worst_light(lights)`.
- `period_progress(measure, year_end_actuals)` — the 实施期 indicator's progress.
- `level_weights`, `level_points`, `evaluate(items, spent, budget, weights=…)`, `grade_of(total)`
  — the 100-point 自评; `qualitative_band`, `check_evaluator_input` (a score or a deduction
  before it is stored), `execution_reason_required(rate)`.

Decisions beyond the spec (DOMAIN.md names the rule; these are the corners it leaves open):

- An actual without a unit is in the target's unit (the entry form shows the target's unit).
- `=` with t > 0 is read like `>=` (`5场` means "hold 5 events"; more is met, and r = a/t may
  exceed 1); `=` with t <= 0 is read as a ceiling (`0起` means none): met when a <= t.
- `<` with t = 0 is read as `<=` 0: "fewer than none" can only mean none, and it keeps r = 1
  (the spec's rule for t = 0) in step with "met".
- `>=`/`>` with t <= 0: r = 1 when met, else 0 (a/t has no meaning there); no pace.
- Cumulative `>` and `=` (t > 0) take the pace bands of `>=`, with their own "met": `>` is met
  only above t, so at a = t the bands decide (p = 1 at year end: green).
- Cumulative `<` is `<=` with strictness: red once a >= t, yellow once the projection a/f >= t.
  A cumulative zero target (`=0`, `<=0`) is green while a <= 0 and red from the first one on.
- Level `<=`/`<` (修复时间, 投诉率): green when met, else yellow/red by r = 1 - (a - t)/t, so
  yellow up to 10 % over the ceiling.
- f = 0 (nothing of the year has elapsed; `elapsed_share` never gives it): nothing is due yet, so
  a growing target is green and a ceiling is red only once crossed; pace and projection are None.
- Band boundaries are inclusive (p = 0.8 is green, p = 0.6 and r = 0.9 are yellow). Ratios are
  compared with a tolerance of 1e-20, far below any real difference, so that f = 7/12 held to 28
  digits cannot push an exact boundary (or a cost exactly on the straight line) to the other side.
- A budget that is unknown or 0 has no execution rate and no light (None); the self-evaluation
  refuses it, since 10 of its 100 points depend on it.
- Self-evaluation: an indicator with no actual (r or assessment None) scores 0; r is clamped to
  [0, 1] (a score is never negative); a level's weights are the edited weight where one is set
  and the equal share otherwise, and, once any is edited, they must add up to the level's points
  at 2 decimals. A qualitative score is checked against its band as displayed, at 2 decimals
  (weights such as 50/3 make the exact band edge 13.333…, and an evaluator types 13.33): 部分达成
  of 16.67 points is [10.00, 13.33), 达成 [13.33, 16.67]. An evaluator score on a quantitative
  indicator, or on a qualitative one not yet assessed, is refused before it is stored; one that
  the assessment has since left behind is set aside (the middle is suggested again, the 自评
  waits for a new score) rather than breaking the page.
- A deduction for a target set too low (§8) applies to an indicator marked 超额 only, needs a
  reason and takes at most what the indicator scores; one whose indicator is no longer 超额 is
  set aside and said so. The 一级 weights a 审核人 sets must each be at least 0 and add up to
  100 at 2 decimals; the 预算执行率 points then score `weight × min(rate, 1)`.
- The grade is decided on the total as displayed (2 decimals), so the shown total and the shown
  grade never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping, NamedTuple, Sequence

from domain.units import Target, parse_number, same_base, to_base

CUMULATIVE, LEVEL, QUALITATIVE = "cumulative", "level", "qualitative"
MEASURES = (CUMULATIVE, LEVEL, QUALITATIVE)
MEASURE_LABELS = {CUMULATIVE: "累计", LEVEL: "水平", QUALITATIVE: "定性"}

GREEN, YELLOW, RED, GREY = "green", "yellow", "red", "grey"
BLUE = "blue"          # 超额 (§8): not a light of its own (the light stays green), the colour of its mark and alert

ACHIEVED, PARTLY_ACHIEVED, NOT_ACHIEVED = "达成", "部分达成", "未达成"
ASSESSMENTS = (ACHIEVED, PARTLY_ACHIEVED, NOT_ACHIEVED)

MONTHLY, QUARTERLY = "monthly", "quarterly"
PERIODS = (MONTHLY, QUARTERLY)

OUTPUT, BENEFIT, SATISFACTION = "产出指标", "效益指标", "满意度指标"
LEVEL1_POINTS = {OUTPUT: Decimal(50), BENEFIT: Decimal(30), SATISFACTION: Decimal(10)}
BUDGET_POINTS = Decimal(10)
BUDGET_LEVEL = "预算执行率"
DEFAULT_LEVEL_WEIGHTS = {BUDGET_LEVEL: BUDGET_POINTS, **LEVEL1_POINTS}    # §5, editable per project year
TOTAL_POINTS = Decimal(100)
EXECUTION_REASON_BELOW = Decimal("0.9")     # a 执行率 below this needs a reason on the 自评表 (§5)
# Share of the weight a qualitative indicator may score, by assessment: [low, high], the upper edge
# excluded except 达成's (§5); until an evaluator sets a score the band's middle is suggested.
QUALITATIVE_BANDS = {
    ACHIEVED: (Decimal("0.8"), Decimal(1)),
    PARTLY_ACHIEVED: (Decimal("0.6"), Decimal("0.8")),
    NOT_ACHIEVED: (Decimal(0), Decimal("0.6")),
}

GRADE_EXCELLENT, GRADE_GOOD, GRADE_FAIR, GRADE_POOR = "优", "良", "中", "差"

OPS = (">=", ">", "=", "<=", "<")
_CEILINGS = ("<=", "<")
_LEVEL_WORDS = ("率", "满意度", "时间", "时长", "周期")
_LEVEL_UNITS = ("%", "％")
_ASSESSMENT_LIGHTS = {ACHIEVED: GREEN, PARTLY_ACHIEVED: YELLOW, NOT_ACHIEVED: RED}
_ZERO, _ONE = Decimal(0), Decimal(1)
_TOLERANCE = Decimal("1e-20")
_POINTS_PLACES, _RATIO_PLACES = 2, 4


def _decimal(value) -> Decimal:
    """A number as Decimal; floats via str (not Decimal(0.1), which keeps the binary error)."""
    kind = type(value)
    if kind is Decimal and value.is_finite():
        return value             # the usual case, and immutable: no copy needed
    if kind is int:
        return Decimal(value)    # sums in fen (not bool, whose type is bool): always finite
    if isinstance(value, str):
        number = parse_number(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    elif isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        number = Decimal(value)
    else:
        raise ValueError(f"“{value}”不是有效的数字")
    if not number.is_finite():
        raise ValueError(f"“{value}”不是有效的数字")
    return number


@dataclass(frozen=True)
class Thresholds:
    """The *(configurable)* numbers of DOMAIN.md §4–§5. Values may come in as int, str or float."""
    pace_green: Decimal = Decimal("0.8")
    pace_yellow: Decimal = Decimal("0.6")
    level_yellow: Decimal = Decimal("0.9")
    grade_excellent: Decimal = Decimal(90)  # 优 from here
    grade_good: Decimal = Decimal(80)       # 良
    grade_fair: Decimal = Decimal(60)       # 中; below it 差
    over: Decimal = Decimal("1.2")          # 超额 at r (or, during the year, p) from here (§8)
    over_reason: Decimal = Decimal("1.3")   # the year's last entry at r from here needs a reason

    def __post_init__(self):
        for each in fields(self):
            object.__setattr__(self, each.name, _decimal(getattr(self, each.name)))
        if not _ZERO < self.pace_yellow <= self.pace_green:
            raise ValueError("序时进度阈值应满足 0 < 黄灯阈值 ≤ 绿灯阈值")
        if not _ZERO < self.level_yellow <= _ONE:
            raise ValueError("水平类指标的黄灯阈值应大于0且不超过1")
        if not _ZERO <= self.grade_fair <= self.grade_good <= self.grade_excellent <= 100:
            raise ValueError("评级分数线应满足 0 ≤ 中 ≤ 良 ≤ 优 ≤ 100")
        if not _ONE < self.over <= self.over_reason:
            raise ValueError("超额阈值应满足 1 < 超额标记阈值 ≤ 需说明理由阈值")


DEFAULT_THRESHOLDS = Thresholds()


# --- the calendar ------------------------------------------------------------------------------

def elapsed_share(period_end_month: int, periods: str = MONTHLY) -> Decimal:
    """序时进度 f at the end of a reporting period: month / 12 (quarterly: the quarter's end month)."""
    _check_month(period_end_month)
    _check_periods(periods)
    if periods == QUARTERLY and period_end_month % 3:
        raise ValueError(f"按季度填报时，期末月份应为3、6、9或12月，不能是{period_end_month}月")
    return Decimal(period_end_month) / Decimal(12)


def period_end_month(month: int, periods: str = MONTHLY) -> int:
    """The end month of the reporting period that contains `month` (quarterly: 7 → 9)."""
    _check_month(month)
    _check_periods(periods)
    return month if periods == MONTHLY else -(-month // 3) * 3


def light_without_actual(as_of: date, entry_deadline: date) -> str | None:
    """No actual for the period: grey once the entry deadline has passed, no light until then.

    The deadline day itself still counts as in time."""
    return GREY if _day(as_of) > _day(entry_deadline) else None


# --- measures and completion -------------------------------------------------------------------

def infer_measure(level3: str | None, target: Target) -> str:
    """The default measure of §3: qualitative without a number, level for % or a rate-like
    三级指标 (率/满意度/时间/时长/周期), cumulative for any other number. Staff may override it."""
    if target.kind != "quantitative" or target.value is None:
        return QUALITATIVE
    if (target.unit or "").strip() in _LEVEL_UNITS or any(word in (level3 or "") for word in _LEVEL_WORDS):
        return LEVEL
    return CUMULATIVE


def to_common_base(target_value, target_unit: str | None, actual_value,
                   actual_unit: str | None = None) -> tuple[Decimal, Decimal]:
    """Target and actual in their common base unit: (3700, 万元, 2500, 万元) → (37000000, 25000000).

    An actual without a unit is in the target's unit; a unit of another base is refused."""
    if target_value is None:
        raise ValueError("该指标没有数值目标，无法与实际值比较")
    if actual_value is None:
        raise ValueError("请填写实际值")
    if actual_unit is None or not str(actual_unit).strip():
        actual_unit = target_unit
    if not same_base(target_unit, actual_unit):
        raise ValueError(f"实际值的单位“{actual_unit}”与目标值的单位“{target_unit or '（无单位）'}”"
                         f"不是同一种单位，无法比较")
    target, _ = to_base(_decimal(target_value), target_unit)
    actual, _ = to_base(_decimal(actual_value), actual_unit)
    return target, actual


def completion(op: str, target_value, target_unit: str | None, actual_value,
               actual_unit: str | None = None) -> Decimal:
    """Completion ratio r of §4, after unit scaling."""
    target, actual = to_common_base(target_value, target_unit, actual_value, actual_unit)
    return _ratio(op, target, actual)


def is_met(op: str, target, actual) -> bool:
    """Whether the actual meets the target; both in one unit (see `to_common_base`)."""
    return _met(_check_op(op), _decimal(target), _decimal(actual))


def _met(op: str, target: Decimal, actual: Decimal) -> bool:
    if op == ">=":
        return actual >= target
    if op == ">":
        return actual > target
    if op == "=":
        return actual >= target if target > 0 else actual <= target
    if op == "<=":
        return actual <= target
    return actual < target if target != 0 else actual <= 0


def _ratio(op: str, target: Decimal, actual: Decimal, met: bool | None = None) -> Decimal:
    if met is None:
        met = _met(op, target, actual)
    if op in _CEILINGS or (op == "=" and target <= 0):
        if met:
            return _ONE
        return max(_ZERO, 1 - (actual - target) / target) if target > 0 else _ZERO
    if target > 0:
        return actual / target
    return _ONE if met else _ZERO


# --- pace and lights ---------------------------------------------------------------------------

def pace(target, actual, f) -> Decimal | None:
    """p = a / (t · f) for a cumulative target; None when t <= 0 or f = 0 (nothing to pace)."""
    return _pace(_decimal(target), _decimal(actual), _share(f))


def _pace(target: Decimal, actual: Decimal, f: Decimal) -> Decimal | None:
    if target <= 0 or f == 0:
        return None
    return actual / (target * f)


def year_end_projection(actual, f) -> Decimal | None:
    """The straight-line projection a / f of a cumulative actual to the year's end."""
    actual, f = _decimal(actual), _share(f)
    return None if f == 0 else actual / f


def light(measure: str, op: str | None, target, actual, f, thresholds: Thresholds = DEFAULT_THRESHOLDS,
          assessment: str | None = None) -> str:
    """The light of one actual (§4); target and actual in one unit. Qualitative reads `assessment`."""
    _check_measure(measure)
    if measure == QUALITATIVE:
        return _assessment_light(assessment)
    if target is None or actual is None:
        raise ValueError("缺少目标值或实际值，无法判断")
    op, target, actual, f = _check_op(op), _decimal(target), _decimal(actual), _share(f)
    return _quantitative_light(measure, op, target, actual, f, thresholds, _met(op, target, actual))


def _quantitative_light(measure: str, op: str, target: Decimal, actual: Decimal, f: Decimal, thresholds: Thresholds,
                        met: bool, completion_ratio: Decimal | None = None) -> str:
    """`light` on checked Decimals in one unit, `met` (and r, when known) already worked out."""
    if measure == LEVEL:
        if met:
            return GREEN
        if completion_ratio is None:
            completion_ratio = _ratio(op, target, actual, met)
        return YELLOW if _at_least(completion_ratio, thresholds.level_yellow) else RED
    return _cumulative_light(op, target, actual, f, thresholds, met)


def _cumulative_light(op: str, target: Decimal, actual: Decimal, f: Decimal, thresholds: Thresholds, met: bool) -> str:
    if op in _CEILINGS:
        if not met:
            return RED  # spent is spent: a cumulative ceiling once crossed stays crossed
        if target > 0 and f > 0 and _projection_crosses(op, actual / (target * f)):
            return YELLOW
        return GREEN
    if met:
        return GREEN
    if target <= 0:
        return RED  # a zero target (`=0`) exceeded, or a negative actual against `>=0`
    if f == 0:
        return GREEN
    return _pace_band(actual / (target * f), thresholds)


def _projection_crosses(op: str, projection_over_target: Decimal) -> bool:
    """Whether a/f breaks the ceiling t, given (a/f)/t; strict for `<=`, reached for `<`."""
    if op == "<=":
        return projection_over_target > _ONE + _TOLERANCE
    return projection_over_target >= _ONE - _TOLERANCE


def _pace_band(p: Decimal, thresholds: Thresholds) -> str:
    if _at_least(p, thresholds.pace_green):
        return GREEN
    return YELLOW if _at_least(p, thresholds.pace_yellow) else RED


def _assessment_light(assessment: str | None) -> str:
    return _ASSESSMENT_LIGHTS[_check_assessment(assessment)]


class Judgement(NamedTuple):
    """What the IND answer shows for one actual: r, p (cumulative growing targets only), light.
    A named tuple: `flask check` makes one per actual of a province."""
    completion: Decimal | None
    pace: Decimal | None
    light: str


def judge(measure: str, target: Target, *, f, value=None, unit: str | None = None,
          assessment: str | None = None, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Judgement:
    """Completion, pace and light of one actual against an annual target (units may differ)."""
    _check_measure(measure)
    if measure == QUALITATIVE:
        return Judgement(None, None, _assessment_light(assessment))
    if target.value is None or target.op is None:
        raise ValueError(f"指标值“{target.raw}”不是数值，不能按{MEASURE_LABELS[measure]}指标计算")
    t, a = to_common_base(target.value, target.unit, value, unit)
    op, f = _check_op(target.op), _share(f)
    # Checked once, each ratio worked out once: `flask check` judges every entry of a province.
    met = _met(op, t, a)
    completion_ratio = _ratio(op, t, a, met)
    growing = measure == CUMULATIVE and not (op in _CEILINGS or (op == "=" and t <= 0))
    return Judgement(
        completion=completion_ratio,
        pace=_pace(t, a, f) if growing else None,
        light=_quantitative_light(measure, op, t, a, f, thresholds, met, completion_ratio),
    )


def is_over(op: str | None, completion_ratio: Decimal | None, pace_ratio: Decimal | None,
            thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """§8 超额: a growing quantitative target (`>=`, `>`) at r >= 1.2, or at pace p >= 1.2."""
    if op not in (">=", ">"):
        return False
    return ((completion_ratio is not None and _at_least(completion_ratio, thresholds.over))
            or (pace_ratio is not None and _at_least(pace_ratio, thresholds.over)))


def over_reason_required(op: str | None, completion_ratio: Decimal | None, month: int,
                         thresholds: Thresholds = DEFAULT_THRESHOLDS) -> bool:
    """§8: the entry of the year's last period (December, the fourth quarter's end) of a growing
    quantitative target at r >= 1.3 needs a reason (target set too low, or a real gain)."""
    return (month == 12 and op in (">=", ">") and completion_ratio is not None
            and _at_least(completion_ratio, thresholds.over_reason))


def deviation_reason_required(current_light: str | None) -> bool:
    """§3: an actual whose light is not green needs a 偏差原因."""
    return current_light in (YELLOW, RED)


def raises_alert(current_light: str | None) -> bool:
    """§4: yellow, red, and grey (no actual past the deadline) raise an alert; green closes it."""
    return current_light in (YELLOW, RED, GREY)


LIGHT_SEVERITY = {RED: 4, GREY: 3, YELLOW: 2, GREEN: 1}   # worst first: red


def worst_light(lights) -> str | None:
    known = [light for light in lights if light in LIGHT_SEVERITY]
    return max(known, key=LIGHT_SEVERITY.get) if known else None


# --- budget ------------------------------------------------------------------------------------

def execution_rate(spent, budget) -> Decimal | None:
    """预算执行率 spent / budget; None when the budget is unknown or 0."""
    if budget is None or _decimal(budget) <= 0:
        return None
    return _decimal(spent) / _decimal(budget)


def budget_pace(spent, budget, f) -> Decimal | None:
    """p = (spent / budget) / f; None without a budget or at f = 0."""
    rate, f = execution_rate(spent, budget), _share(f)
    return None if rate is None or f == 0 else rate / f


def budget_light(spent, budget, f, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str | None:
    """The budget's light: the bands of a cumulative `>=` on p; None without a budget."""
    rate, f = execution_rate(spent, budget), _share(f)
    if rate is None:
        return None
    if f == 0:
        return GREEN
    return _pace_band(rate / f, thresholds)


# --- 实施期 ------------------------------------------------------------------------------------

def period_progress(measure: str, year_end_actuals: Sequence):
    """Progress of a 实施期 indicator from the year-end actuals of the project's years, in year
    order and in one unit (assessments for qualitative): cumulative adds them up, level and
    qualitative take the latest. A year without an actual (None) is skipped; none at all → None."""
    _check_measure(measure)
    known = [value for value in year_end_actuals if value is not None]
    if not known:
        return None
    if measure == CUMULATIVE:
        return sum((_decimal(value) for value in known), _ZERO)
    if measure == QUALITATIVE:
        return _check_assessment(known[-1])
    return _decimal(known[-1])


# --- 绩效自评 ----------------------------------------------------------------------------------

class Band(NamedTuple):
    """The points a qualitative indicator may score for its assessment: [low, high], or
    [low, high) when `high_included` is off (部分达成, 未达成). Checked as displayed (2 places)."""
    low: Decimal
    high: Decimal
    high_included: bool

    @property
    def shown(self) -> tuple[Decimal, Decimal]:
        return for_display(self.low), for_display(self.high)

    @property
    def middle(self) -> Decimal:
        """What the page suggests until an evaluator sets a score (90 / 70 / 30 % of the weight)."""
        return (self.low + self.high) / 2

    def contains(self, score: Decimal) -> bool:
        low, high = self.shown
        return low <= score and (score <= high if self.high_included else score < high)

    @property
    def text(self) -> str:
        """10.00–12.50分, or 7.50–10.00分（不含10.00分）."""
        low, high = self.shown
        return f"{low}–{high}分" + ("" if self.high_included else f"（不含{high}分）")


def qualitative_band(assessment: str, weight) -> Band:
    """§5: 达成 [80 %, 100 %], 部分达成 [60 %, 80 %), 未达成 [0, 60 %) of the weight."""
    low_share, high_share = QUALITATIVE_BANDS[_check_assessment(assessment)]
    weight = _decimal(weight)
    return Band(weight * low_share, weight * high_share, assessment == ACHIEVED)


@dataclass(frozen=True)
class EvaluationItem:
    """One annual indicator as the self-evaluation sees it.

    `level1` is the standard 一级指标; `completion` is r (None: no actual); `weight` an edited
    weight in points (None: the level's equal share); `score` an evaluator's score in points for a
    qualitative indicator (None: not set yet, the band's middle is suggested); `over` whether the
    entry scored is 超额 (§8), and `deduction` with `deduction_reason` what an evaluator deducts
    for a target set too low; `name` is used in messages."""
    id: object
    level1: str
    measure: str
    completion: Decimal | None = None
    assessment: str | None = None
    weight: Decimal | None = None
    score: Decimal | None = None
    name: str = ""
    over: bool = False
    deduction: Decimal | None = None
    deduction_reason: str | None = None


@dataclass(frozen=True)
class IndicatorScore:
    """`score` is after any deduction; `suggested` says it is the band's middle, not yet set by an
    evaluator; `set_aside` says why a stored score or deduction no longer counts (the assessment
    or the 超额 changed since), in Chinese."""
    id: object
    level1: str
    weight: Decimal
    score: Decimal
    band: Band | None = None
    suggested: bool = False
    deduction: Decimal = Decimal(0)
    set_aside: str | None = None


@dataclass(frozen=True)
class Evaluation:
    total: Decimal
    grade: str
    budget_score: Decimal
    execution_rate: Decimal
    levels: dict          # 一级指标 → points it carries (after passing on an empty level's points)
    level_scores: dict    # 一级指标 → points scored
    indicators: tuple     # IndicatorScore, in the order given
    budget_points: Decimal = BUDGET_POINTS

    @property
    def suggested(self) -> tuple:
        """The indicators whose score is still the band's suggestion: the 自评 waits for them."""
        return tuple(each for each in self.indicators if each.suggested)

    def as_dict(self) -> dict:
        """The `evaluation` answer of INTERFACES.md, rounded for display (JSON-ready)."""
        return {
            "total": _json_number(self.total),
            "grade": self.grade,
            "budget_score": _json_number(self.budget_score),
            "execution_rate": _json_number(self.execution_rate, _RATIO_PLACES),
            "levels": {name: _json_number(points) for name, points in self.levels.items()},
            "level_scores": {name: _json_number(points) for name, points in self.level_scores.items()},
            "indicators": [{"id": each.id, "weight": _json_number(each.weight), "score": _json_number(each.score)}
                           for each in self.indicators],
        }


def level_weights(weights: Mapping | None = None) -> dict[str, Decimal]:
    """The 一级 weights (预算执行率 10, 产出 50, 效益 30, 满意度 10 unless a 审核人 changed them
    for the project year, §5), checked: each a number of at least 0, together 100."""
    if weights is None:
        return dict(DEFAULT_LEVEL_WEIGHTS)
    unknown = [name for name in weights if name not in DEFAULT_LEVEL_WEIGHTS]
    if unknown:
        raise ValueError(f"一级指标应为{'、'.join(DEFAULT_LEVEL_WEIGHTS)}，不能是“{unknown[0]}”")
    checked = {}
    for name in DEFAULT_LEVEL_WEIGHTS:
        if weights.get(name) is None:
            raise ValueError(f"请填写{name}的分值")
        try:
            value = _decimal(weights[name])
        except (ValueError, ArithmeticError) as exc:
            raise ValueError(f"{name}的分值“{weights[name]}”不是有效的数字") from exc
        if value < 0:
            raise ValueError(f"{name}的分值不能为负数")
        checked[name] = value
    total = sum(checked.values(), _ZERO)
    if for_display(total) != for_display(TOTAL_POINTS):
        raise ValueError(f"一级指标分值合计应为100分，现为{for_display(total)}分")
    return checked


def level_points(levels_with_indicators: Iterable[str], weights: Mapping | None = None) -> dict[str, Decimal]:
    """Points per 一级指标: 50/30/10 (or the project year's weights), a level without indicators
    passing its points on to the others in proportion (no 满意度指标: 产出 56.25, 效益 33.75).
    Every level is listed."""
    weights = level_weights(weights)
    present = {_check_level1(level) for level in levels_with_indicators}
    carried = sum((weights[level] for level in present), _ZERO)
    indicator_points = sum((weights[level] for level in LEVEL1_POINTS), _ZERO)
    if carried == 0 and indicator_points > 0:
        raise ValueError("有指标的一级指标分值均为0，其余一级指标的分值无处分配")
    return {level: (weights[level] * indicator_points / carried if level in present and carried else _ZERO)
            for level in LEVEL1_POINTS}


def evaluate(items: Iterable[EvaluationItem], spent, budget,
             thresholds: Thresholds = DEFAULT_THRESHOLDS, weights: Mapping | None = None) -> Evaluation:
    """The 100-point 绩效自评 of §5 from the annual indicators, the year's spending and the
    一级 weights in force (None: the defaults). A stored evaluator score or deduction that no
    longer fits (`check_evaluator_input` refuses it) is set aside and said so, never applied."""
    items = list(items)
    if not items:
        raise ValueError("项目没有年度绩效指标，无法进行绩效自评")
    rate = execution_rate(spent, budget)
    if rate is None:
        raise ValueError("年度资金总额未知或为0，无法计算预算执行率得分")
    weights = level_weights(weights)
    budget_score = weights[BUDGET_LEVEL] * _clamp(rate)
    points = level_points((item.level1 for item in items), weights)
    shares = {}  # position in `items` → weight
    for level in LEVEL1_POINTS:
        members = {n: item for n, item in enumerate(items) if item.level1 == level}
        shares.update(_level_weights(level, members, points[level]))
    scored = tuple(_score(item, shares[n]) for n, item in enumerate(items))
    level_scores = {level: sum((s.score for s in scored if s.level1 == level), _ZERO) for level in LEVEL1_POINTS}
    total = budget_score + sum(level_scores.values(), _ZERO)
    return Evaluation(total, grade_of(for_display(total), thresholds), budget_score, rate,
                      points, level_scores, scored, weights[BUDGET_LEVEL])


def grade_of(total, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> str:
    """优 ≥ 90, 良 ≥ 80, 中 ≥ 60, else 差 (configurable)."""
    total = _decimal(total)
    if total >= thresholds.grade_excellent:
        return GRADE_EXCELLENT
    if total >= thresholds.grade_good:
        return GRADE_GOOD
    return GRADE_FAIR if total >= thresholds.grade_fair else GRADE_POOR


def execution_reason_required(rate) -> bool:
    """§5: a 预算执行率 below 90 % needs a written reason on the 自评表."""
    return rate is not None and _decimal(rate) < EXECUTION_REASON_BELOW


def check_evaluator_input(item: EvaluationItem, weight) -> None:
    """An evaluator's score and deduction for one indicator of `weight` points, before they are
    stored: a score only for an assessed qualitative indicator and inside its band; a deduction
    only on an indicator marked 超额, with a reason, and not more than it scores. ValueError
    (Chinese) otherwise."""
    _check_measure(item.measure)
    label = item.name or f"指标{item.id}"
    weight = _decimal(weight)
    if item.score is not None:
        if item.measure != QUALITATIVE:
            raise ValueError(f"“{label}”是定量指标，按完成率计分，不能手工评分")
        if item.assessment is None:
            raise ValueError(f"“{label}”尚未评定完成情况，不能评分")
        band = qualitative_band(item.assessment, weight)
        if not band.contains(_decimal(item.score)):
            low, high = band.shown
            low_share, high_share = QUALITATIVE_BANDS[item.assessment]
            edge = "" if band.high_included else f"不含{high}分，"
            raise ValueError(f"“{label}”评定为{item.assessment}，得分应在{low}–{high}分之间"
                             f"（{edge}权重的{low_share:.0%}–{high_share:.0%}），不能是{item.score}分")
    if item.deduction is not None:
        deduction = _decimal(item.deduction)
        if not item.over:
            raise ValueError(f"“{label}”未超额完成，不能因目标设定偏低扣分")
        if not (item.deduction_reason or "").strip():
            raise ValueError(f"请填写“{label}”的扣分理由（如目标设定偏低）")
        before = _base_score(item, weight)
        if not _ZERO < deduction <= for_display(before):
            raise ValueError(f"“{label}”的扣分应大于0且不超过其得分{for_display(before)}分，不能是{deduction}分")


def _level_weights(level: str, members: dict[int, EvaluationItem], points: Decimal) -> dict[int, Decimal]:
    if not members:
        return {}
    equal_share = points / len(members)
    weights = {n: (equal_share if item.weight is None else _decimal(item.weight)) for n, item in members.items()}
    if any(weight < 0 for weight in weights.values()):
        raise ValueError(f"{level}的权重不能为负数")
    total = sum(weights.values(), _ZERO)
    edited = any(item.weight is not None for item in members.values())
    if edited and for_display(total) != for_display(points):
        raise ValueError(f"{level}各指标的权重合计{for_display(total)}分，应为{for_display(points)}分")
    return weights


def _base_score(item: EvaluationItem, weight: Decimal) -> Decimal:
    """The score before any deduction: weight × min(r, 1), or the evaluator's score inside the
    band (its middle until one is set); 0 without an actual."""
    if item.measure != QUALITATIVE:
        return _ZERO if item.completion is None else weight * _clamp(_decimal(item.completion))
    if item.assessment is None:
        return _ZERO
    band = qualitative_band(item.assessment, weight)
    if item.score is not None and band.contains(_decimal(item.score)):
        return _decimal(item.score)
    return band.middle


def _score(item: EvaluationItem, weight: Decimal) -> IndicatorScore:
    _check_measure(item.measure)
    set_aside = []
    band = None
    suggested = False
    if item.measure == QUALITATIVE and item.assessment is not None:
        band = qualitative_band(item.assessment, weight)
        suggested = item.score is None or not band.contains(_decimal(item.score))
        if item.score is not None and suggested:
            set_aside.append(f"原评分{for_display(item.score)}分不在{item.assessment}的区间{band.text}内，请重新评分")
    base = _base_score(item, weight)
    deduction = _ZERO
    if item.deduction is not None:
        if not item.over:
            set_aside.append("该指标已不再超额，原扣分未计入")
        elif not (item.deduction_reason or "").strip():
            set_aside.append("扣分缺少理由，未计入")
        else:
            deduction = min(_decimal(item.deduction), base)
    return IndicatorScore(item.id, item.level1, weight, base - deduction, band, suggested, deduction,
                          "；".join(set_aside) or None)


# --- numbers and checks ------------------------------------------------------------------------

def for_display(value, places: int = _POINTS_PLACES) -> Decimal:
    """`value` rounded ROUND_HALF_UP to `places` decimals (2 for points and money, 4 for ratios)."""
    return _decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _json_number(value: Decimal, places: int = _POINTS_PLACES):
    rounded = for_display(value, places)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def _share(f) -> Decimal:
    f = _decimal(f)
    if not _ZERO <= f <= _ONE:
        raise ValueError(f"序时进度应在0到1之间，不能是{f}")
    return f


def _clamp(ratio: Decimal) -> Decimal:
    return min(max(ratio, _ZERO), _ONE)


def _at_least(value: Decimal, bound: Decimal) -> bool:
    return value >= bound - _TOLERANCE


def _day(moment: date) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _check_month(month: int) -> None:
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"月份应为1到12的整数，不能是{month}")


def _check_periods(periods: str) -> None:
    if periods not in PERIODS:
        raise ValueError(f"填报周期应为按月（monthly）或按季度（quarterly），不能是“{periods}”")


def _check_op(op: str | None) -> str:
    if op not in OPS:
        raise ValueError(f"无法识别的比较符“{op}”")
    return op


def _check_measure(measure: str) -> None:
    if measure not in MEASURES:
        raise ValueError(f"指标类型应为累计、水平或定性，不能是“{measure}”")


def _check_assessment(assessment: str | None) -> str:
    if assessment not in ASSESSMENTS:
        if assessment is None:
            raise ValueError("请选择完成情况：达成、部分达成或未达成")
        raise ValueError(f"完成情况应为达成、部分达成或未达成，不能是“{assessment}”")
    return assessment


def _check_level1(level1: str) -> str:
    if level1 not in LEVEL1_POINTS:
        raise ValueError(f"一级指标应为产出指标、效益指标或满意度指标，不能是“{level1}”")
    return level1
