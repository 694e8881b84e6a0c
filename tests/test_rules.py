"""The rules of DOMAIN.md §3–§5: the worked example of §6 figure by figure, then the edges."""
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from importers.values import parse_target
from domain.rules import (
    CUMULATIVE, GREEN, GREY, LEVEL, QUALITATIVE, RED, YELLOW, EvaluationItem, Thresholds,
    budget_light, budget_pace, check_evaluator_input, completion, deviation_reason_required, elapsed_share, evaluate,
    execution_rate, execution_reason_required, for_display, grade_of, infer_measure, is_met, judge, level_points,
    level_weights, light, over_reason_required, qualitative_band,
    light_without_actual, pace, period_end_month, period_progress, raises_alert, to_common_base,
    year_end_projection,
)

JULY = elapsed_share(7)  # the worked example is as of 2023-07-31


def r3(value):
    return for_display(value, 3)


def judged(raw, level3, value, unit=None, f=JULY, **kwargs):
    target = parse_target(raw)
    return judge(infer_measure(level3, target), target, f=f, value=Decimal(value), unit=unit, **kwargs)


# --- §6 worked example: 招商引资专项经费, 2023, as of 2023-07-31 ----------------------------------

def test_elapsed_share_of_july_is_seven_twelfths():
    assert JULY == Decimal(7) / Decimal(12)
    assert r3(JULY) == Decimal("0.583")


def test_exhibitors_on_pace_are_green():
    target = parse_target("≥70家")
    assert infer_measure("参展企业数量", target) == CUMULATIVE
    result = judge(CUMULATIVE, target, f=JULY, value=Decimal(35))
    assert r3(result.pace) == Decimal("0.857")
    assert result.completion == Decimal("0.5")
    assert result.light == GREEN
    assert not deviation_reason_required(result.light)


def test_exhibition_area_behind_pace_is_yellow_and_needs_a_reason():
    result = judged("≥500平方米", "参展面积", 200)
    assert r3(result.pace) == Decimal("0.686")
    assert result.completion == Decimal("0.4")
    assert result.light == YELLOW
    assert deviation_reason_required(result.light)
    assert raises_alert(result.light)


@pytest.mark.parametrize("value, unit", [("2500", "万元"), ("2500", None), ("25000000", "元"), ("0.25", "亿元")])
def test_business_cost_projected_over_its_ceiling_is_yellow_in_any_unit(value, unit):
    target = parse_target("≤3700万元")
    assert infer_measure("业务成本", target) == CUMULATIVE
    result = judge(CUMULATIVE, target, f=JULY, value=Decimal(value), unit=unit)
    assert result.light == YELLOW
    assert result.completion == 1  # not crossed yet: the ceiling is still met
    assert result.pace is None     # pace belongs to growing targets; a ceiling has a projection
    t, a = to_common_base(target.value, target.unit, Decimal(value), unit)
    assert (t, a) == (Decimal(37000000), Decimal(25000000))
    assert for_display(year_end_projection(a, JULY)) == Decimal("42857142.86")


def test_business_cost_projection_in_wan_yuan_is_4285_7():
    assert for_display(year_end_projection(Decimal(2500), JULY), 1) == Decimal("4285.7")


def test_investor_satisfaction_below_target_but_within_ten_percent_is_yellow():
    target = parse_target("≥95%")
    assert infer_measure("投资者满意度", target) == LEVEL
    result = judge(LEVEL, target, f=JULY, value=Decimal(93))
    assert r3(result.completion) == Decimal("0.979")
    assert result.pace is None
    assert result.light == YELLOW


@pytest.mark.parametrize("value, unit", [("300", "亿元"), ("30000000000", "元"), ("3000000", "万元")])
def test_signed_project_funds_behind_pace_are_yellow(value, unit):
    result = judged("≥800亿元", "签约项目到位资金", value, unit)
    assert r3(result.pace) == Decimal("0.643")
    assert result.completion == Decimal("0.375")
    assert result.light == YELLOW


def test_budget_execution_behind_pace_is_yellow():
    spent, budget = Decimal(15000000), Decimal(37000000)
    assert r3(execution_rate(spent, budget)) == Decimal("0.405")
    assert r3(budget_pace(spent, budget, JULY)) == Decimal("0.695")
    assert budget_light(spent, budget, JULY) == YELLOW


# --- measures ----------------------------------------------------------------------------------

@pytest.mark.parametrize("level3, raw, measure", [
    ("参展企业数量", "≥70家", CUMULATIVE),
    ("业务成本", "≤3700万元", CUMULATIVE),
    ("展会观众人次", "≥4万人次", CUMULATIVE),
    ("活动举办成功率", "≥95%", LEVEL),
    ("宣传报道及时率", "≥95%", LEVEL),
    ("服务对象满意度", "≥90%", LEVEL),
    ("覆盖比例", "≥60%", LEVEL),            # the unit alone makes it a level
    ("设备完好率", "≥98", LEVEL),           # the name alone makes it a level
    ("系统故障修复时间", "≤12小时", LEVEL),
    ("单次培训时长", "≥2小时", LEVEL),
    ("审批周期", "≤15个工作日", LEVEL),
    ("保障招商活动开展", "保障", QUALITATIVE),
    ("项目按时完成", "2024年8月底前", QUALITATIVE),
    ("对我省招商引资的作用", "积极", QUALITATIVE),
    ("主流媒体报道次数", "*", QUALITATIVE),
])
def test_infer_measure(level3, raw, measure):
    assert infer_measure(level3, parse_target(raw)) == measure


# --- completion --------------------------------------------------------------------------------

@pytest.mark.parametrize("op, t, a, r, met", [
    (">=", "70", "35", Decimal("0.5"), False),
    (">=", "70", "70", Decimal(1), True),
    (">=", "70", "84", Decimal("1.2"), True),
    (">", "70", "70", Decimal(1), False),
    (">", "70", "71", Decimal(71) / Decimal(70), True),
    ("=", "5", "4", Decimal("0.8"), False),     # `5场` with no comparator: reach 5
    ("=", "5", "6", Decimal("1.2"), True),
    ("<=", "12", "12", Decimal(1), True),
    ("<=", "12", "13.2", Decimal("0.9"), False),  # 10 % over the ceiling
    ("<=", "12", "18", Decimal("0.5"), False),
    ("<=", "12", "24", Decimal(0), False),      # 0 at twice the target
    ("<=", "12", "30", Decimal(0), False),      # and never below 0
    ("<", "12", "12", Decimal(1), False),       # strict: at the ceiling is not met, yet 1 - 0/12 = 1
    ("<", "12", "11.5", Decimal(1), True),
])
def test_completion_ratio(op, t, a, r, met):
    assert completion(op, Decimal(t), None, Decimal(a)) == r
    assert is_met(op, Decimal(t), Decimal(a)) is met


@pytest.mark.parametrize("op", ["<=", "<"])
def test_ceiling_of_zero(op):
    assert completion(op, 0, "起", 0) == 1
    assert completion(op, 0, "起", 1) == 0
    assert is_met(op, 0, 0) is True
    assert is_met(op, 0, 1) is False
    assert light(CUMULATIVE, op, Decimal(0), Decimal(0), JULY) == GREEN
    assert light(CUMULATIVE, op, Decimal(0), Decimal(1), JULY) == RED
    assert light(LEVEL, op, Decimal(0), Decimal("0.5"), JULY) == RED


def test_equal_to_zero_means_none():
    assert completion("=", 0, "起", 0) == 1
    assert completion("=", 0, "起", 2) == 0
    assert is_met("=", 0, 0) is True
    assert is_met("=", 0, 2) is False
    assert light(CUMULATIVE, "=", Decimal(0), Decimal(0), JULY) == GREEN
    assert light(CUMULATIVE, "=", Decimal(0), Decimal(2), JULY) == RED
    assert light(LEVEL, "=", Decimal(0), Decimal(0), JULY) == GREEN
    assert light(LEVEL, "=", Decimal(0), Decimal(3), JULY) == RED
    result = judge(CUMULATIVE, parse_target("0起"), f=JULY, value=Decimal(0))
    assert (result.completion, result.pace, result.light) == (1, None, GREEN)


def test_greater_or_equal_zero_has_no_pace():
    assert completion(">=", 0, None, 3) == 1
    assert completion(">=", 0, None, -1) == 0
    assert pace(0, 3, JULY) is None
    assert light(CUMULATIVE, ">=", Decimal(0), Decimal(-1), JULY) == RED


# --- units -------------------------------------------------------------------------------------

@pytest.mark.parametrize("actual, unit", [
    ("3000000", "元"), ("300", "万元"), ("0.03", "亿元"), ("300", None),
])
def test_money_in_yuan_wan_yuan_and_yi_yuan_compare_alike(actual, unit):
    assert completion(">=", 400, "万元", Decimal(actual), unit) == Decimal("0.75")


@pytest.mark.parametrize("actual, unit", [("35000", "人次"), ("3.5", "万人次"), ("3.5", None)])
def test_visitors_in_ren_ci_and_wan_ren_ci_compare_alike(actual, unit):
    target = parse_target("≥4万人次")
    assert infer_measure("展会观众人次", target) == CUMULATIVE
    assert completion(target.op, target.value, target.unit, Decimal(actual), unit) == Decimal("0.875")
    result = judge(CUMULATIVE, target, f=elapsed_share(12), value=Decimal(actual), unit=unit)
    assert (result.pace, result.light) == (Decimal("0.875"), GREEN)


@pytest.mark.parametrize("target_unit, actual_unit", [("家", "平方米"), ("万元", "人次"), ("%", "元"), (None, "家")])
def test_a_unit_of_another_base_is_refused(target_unit, actual_unit):
    with pytest.raises(ValueError, match="不是同一种单位"):
        completion(">=", 70, target_unit, 35, actual_unit)
    with pytest.raises(ValueError, match="不是同一种单位"):
        judge(CUMULATIVE, parse_target(f"≥70{target_unit or ''}"), f=JULY, value=35, unit=actual_unit)


def test_a_qualitative_target_cannot_be_judged_as_a_number():
    with pytest.raises(ValueError, match="不是数值"):
        judge(CUMULATIVE, parse_target("保障"), f=JULY, value=1)


# --- no actual yet ------------------------------------------------------------------------------

def test_no_actual_has_no_light_until_the_deadline_then_grey():
    deadline = date(2023, 8, 5)
    assert light_without_actual(date(2023, 8, 1), deadline) is None
    assert light_without_actual(date(2023, 8, 5), deadline) is None  # the deadline day is in time
    assert light_without_actual(date(2023, 8, 6), deadline) == GREY
    assert light_without_actual(datetime(2023, 8, 6, 9, 0), deadline) == GREY
    assert raises_alert(GREY)
    assert not raises_alert(None)
    assert not raises_alert(GREEN)


# --- the calendar: last month, quarters ----------------------------------------------------------

def test_last_month_is_the_whole_year():
    december = elapsed_share(12)
    assert december == 1
    short = judged("≥70家", "参展企业数量", 63, f=december)
    assert (short.completion, short.pace, short.light) == (Decimal("0.9"), Decimal("0.9"), GREEN)
    behind = judged("≥70家", "参展企业数量", 49, f=december)
    assert (behind.pace, behind.light) == (Decimal("0.7"), YELLOW)
    assert judged("≥70家", "参展企业数量", 41, f=december).light == RED
    assert judged("≤3700万元", "业务成本", 3700, f=december).light == GREEN
    assert judged("≤3700万元", "业务成本", "3700.01", f=december).light == RED


def test_quarterly_periods():
    assert [elapsed_share(m, "quarterly") for m in (3, 6, 9, 12)] == [
        Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal(1)]
    assert [period_end_month(m, "quarterly") for m in (1, 3, 4, 7, 12)] == [3, 3, 6, 9, 12]
    assert period_end_month(7, "monthly") == 7
    with pytest.raises(ValueError, match="按季度"):
        elapsed_share(7, "quarterly")
    with pytest.raises(ValueError, match="填报周期"):
        elapsed_share(7, "weekly")
    with pytest.raises(ValueError, match="月份"):
        elapsed_share(13)
    q3 = judged("≥70家", "参展企业数量", 35, f=elapsed_share(9, "quarterly"))
    assert (r3(q3.pace), q3.light) == (Decimal("0.667"), YELLOW)
    q2 = judged("≥70家", "参展企业数量", 35, f=elapsed_share(6, "quarterly"))
    assert (q2.pace, q2.light) == (Decimal(1), GREEN)


# --- lights ------------------------------------------------------------------------------------

def test_met_is_always_green_even_under_strict_bands():
    strict = Thresholds(pace_green=Decimal("1.5"), pace_yellow=Decimal("1.2"))
    year = elapsed_share(12)
    assert light(CUMULATIVE, ">=", Decimal(70), Decimal(70), year, strict) == GREEN
    assert light(CUMULATIVE, ">=", Decimal(70), Decimal(69), year, strict) == RED  # p = 0.986 < 1.2
    assert light(CUMULATIVE, ">", Decimal(70), Decimal(71), year, strict) == GREEN
    assert light(CUMULATIVE, ">", Decimal(70), Decimal(70), year, strict) == RED   # not met, p = 1
    assert light(CUMULATIVE, "=", Decimal(5), Decimal(5), year, strict) == GREEN
    assert light(LEVEL, ">=", Decimal(95), Decimal(95), year, strict) == GREEN


@pytest.mark.parametrize("actual, expected", [
    ("40", GREEN), ("39.99", YELLOW), ("30", YELLOW), ("29.99", RED),
])
def test_pace_band_boundaries_at_half_year(actual, expected):
    june = elapsed_share(6)
    assert light(CUMULATIVE, ">=", Decimal(100), Decimal(actual), june) == expected
    assert budget_light(Decimal(actual), Decimal(100), june) == expected


def test_exact_boundaries_hold_when_f_is_a_repeating_decimal():
    # 7/12 and 5/12 are held to 28 digits; p computes as 0.5999…98 and 0.7999…99 without care
    assert pace(Decimal(200), Decimal(70), JULY) < Decimal("0.6")
    assert light(CUMULATIVE, ">=", Decimal(200), Decimal(70), JULY) == YELLOW
    assert light(CUMULATIVE, ">=", Decimal(21), Decimal(7), elapsed_share(5)) == GREEN
    assert budget_light(Decimal(3200000), Decimal(12000000), elapsed_share(4)) == GREEN
    # a cost exactly on the straight line (2100 of 3600 by July) is not projected over it
    assert light(CUMULATIVE, "<=", Decimal(3600), Decimal(2100), JULY) == GREEN
    assert light(CUMULATIVE, "<=", Decimal(3600), Decimal("2100.01"), JULY) == YELLOW
    assert light(CUMULATIVE, "<", Decimal(3600), Decimal(2100), JULY) == YELLOW


def test_cost_lights():
    assert light(CUMULATIVE, "<=", Decimal(3700), Decimal(2000), JULY) == GREEN   # projects 3428.6
    assert light(CUMULATIVE, "<=", Decimal(3700), Decimal(2500), JULY) == YELLOW  # projects 4285.7
    assert light(CUMULATIVE, "<=", Decimal(3700), Decimal(3800), JULY) == RED
    assert light(CUMULATIVE, "<", Decimal(3700), Decimal(3700), elapsed_share(12)) == RED


@pytest.mark.parametrize("op, t, a, expected", [
    (">=", "95", "95", GREEN),
    (">=", "95", "85.5", YELLOW),   # r = 0.9 exactly
    (">=", "95", "85.4", RED),
    ("<=", "12", "12", GREEN),      # 修复时间 ≤12小时
    ("<=", "12", "13.2", YELLOW),   # r = 0.9
    ("<=", "12", "13.3", RED),
    ("<=", "10", "9", GREEN),       # 投诉率 ≤10%
])
def test_level_lights(op, t, a, expected):
    assert light(LEVEL, op, Decimal(t), Decimal(a), JULY) == expected


def test_level_band_is_configurable():
    loose = Thresholds(level_yellow=Decimal("0.8"))
    assert light(LEVEL, ">=", Decimal(95), Decimal(80), JULY) == RED
    assert light(LEVEL, ">=", Decimal(95), Decimal(80), JULY, loose) == YELLOW


@pytest.mark.parametrize("assessment, expected", [("达成", GREEN), ("部分达成", YELLOW), ("未达成", RED)])
def test_qualitative_lights(assessment, expected):
    assert light(QUALITATIVE, None, None, None, JULY, assessment=assessment) == expected
    result = judge(QUALITATIVE, parse_target("保障"), f=JULY, assessment=assessment)
    assert (result.completion, result.pace, result.light) == (None, None, expected)


def test_an_unknown_assessment_is_refused():
    with pytest.raises(ValueError, match="完成情况"):
        light(QUALITATIVE, None, None, None, JULY, assessment="基本达成")
    with pytest.raises(ValueError, match="请选择完成情况"):
        judge(QUALITATIVE, parse_target("保障"), f=JULY)


def test_nothing_elapsed_is_not_behind():
    assert pace(Decimal(70), Decimal(0), 0) is None
    assert year_end_projection(Decimal(10), 0) is None
    assert light(CUMULATIVE, ">=", Decimal(70), Decimal(0), 0) == GREEN
    assert light(CUMULATIVE, "<=", Decimal(70), Decimal(10), 0) == GREEN
    assert light(CUMULATIVE, "<=", Decimal(70), Decimal(71), 0) == RED
    assert budget_light(Decimal(0), Decimal(100), 0) == GREEN
    with pytest.raises(ValueError, match="序时进度"):
        light(CUMULATIVE, ">=", Decimal(70), Decimal(0), Decimal("1.1"))


def test_budget_without_an_amount_has_no_light():
    assert execution_rate(Decimal(100), None) is None
    assert execution_rate(Decimal(100), Decimal(0)) is None
    assert budget_light(Decimal(100), Decimal(0), JULY) is None
    assert budget_pace(Decimal(100), None, JULY) is None


def test_thresholds_are_checked():
    assert Thresholds(pace_green="0.9", pace_yellow=0.7).pace_yellow == Decimal("0.7")
    with pytest.raises(ValueError, match="黄灯阈值"):
        Thresholds(pace_green=Decimal("0.5"), pace_yellow=Decimal("0.6"))
    with pytest.raises(ValueError, match="评级分数线"):
        Thresholds(grade_good=Decimal(95))


# --- 实施期 progress ---------------------------------------------------------------------------

def test_period_progress():
    assert period_progress(CUMULATIVE, [Decimal(35), Decimal(40), Decimal(30)]) == Decimal(105)
    assert period_progress(CUMULATIVE, [Decimal(35), None]) == Decimal(35)
    assert period_progress(LEVEL, [Decimal(93), Decimal(96)]) == Decimal(96)
    assert period_progress(LEVEL, [Decimal(93), None]) == Decimal(93)
    assert period_progress(QUALITATIVE, ["部分达成", "达成"]) == "达成"
    assert period_progress(CUMULATIVE, []) is None
    # 实施期 ≥100家 against three years of 35 + 40 + 30
    assert completion(">=", 100, "家", period_progress(CUMULATIVE, [35, 40, 30])) == Decimal("1.05")


# --- 绩效自评 ----------------------------------------------------------------------------------

def item(id, level1, measure=CUMULATIVE, **kwargs):
    return EvaluationItem(id=id, level1=level1, measure=measure, **kwargs)


def test_evaluation_of_a_full_project():
    items = [
        item(1, "产出指标", completion=Decimal("1.2")),      # over-achieved: capped at its weight
        item(2, "产出指标", completion=Decimal("0.8")),
        item(3, "效益指标", QUALITATIVE, assessment="达成"),  # not scored yet: the band's middle, suggested
        item(4, "满意度指标", LEVEL, completion=Decimal(93) / Decimal(95)),
    ]
    result = evaluate(items, spent=Decimal(33300000), budget=Decimal(37000000))
    assert result.budget_score == Decimal(9)
    assert result.levels == {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
    assert [(s.id, s.weight, s.score) for s in result.indicators][:3] == [
        (1, Decimal(25), Decimal(25)), (2, Decimal(25), Decimal(20)), (3, Decimal(30), Decimal(27))]
    assert [s.suggested for s in result.indicators] == [False, False, True, False]
    assert [s.id for s in result.suggested] == [3]
    assert for_display(result.indicators[3].score) == Decimal("9.79")
    assert result.level_scores["产出指标"] == Decimal(45)
    assert for_display(result.total) == Decimal("90.79")
    assert result.grade == "优"
    assert result.as_dict() == {
        "total": 90.79, "grade": "优", "budget_score": 9, "execution_rate": 0.9,
        "levels": {"产出指标": 50, "效益指标": 30, "满意度指标": 10},
        "level_scores": {"产出指标": 45, "效益指标": 27, "满意度指标": 9.79},
        "indicators": [{"id": 1, "weight": 25, "score": 25}, {"id": 2, "weight": 25, "score": 20},
                       {"id": 3, "weight": 30, "score": 27}, {"id": 4, "weight": 10, "score": 9.79}],
    }


def test_budget_score_is_capped_at_ten():
    items = [item(1, "产出指标", completion=Decimal(1))]
    assert evaluate(items, Decimal(120), Decimal(100)).budget_score == Decimal(10)
    assert evaluate(items, Decimal(50), Decimal(100)).budget_score == Decimal(5)
    with pytest.raises(ValueError, match="年度资金总额"):
        evaluate(items, Decimal(50), Decimal(0))


def test_a_level_without_indicators_passes_its_points_on_in_proportion():
    assert level_points(["产出指标", "效益指标"]) == {
        "产出指标": Decimal("56.25"), "效益指标": Decimal("33.75"), "满意度指标": 0}
    assert level_points(["产出指标", "满意度指标"]) == {"产出指标": 75, "效益指标": 0, "满意度指标": 15}
    assert level_points(["满意度指标"]) == {"产出指标": 0, "效益指标": 0, "满意度指标": 90}
    result = evaluate([item(1, "产出指标", completion=Decimal(1)), item(2, "产出指标", completion=Decimal("0.5")),
                       item(3, "效益指标", completion=Decimal(1))], Decimal(100), Decimal(100))
    assert [(s.weight, s.score) for s in result.indicators] == [
        (Decimal("28.125"), Decimal("28.125")), (Decimal("28.125"), Decimal("14.0625")),
        (Decimal("33.75"), Decimal("33.75"))]
    assert result.total == Decimal("85.9375")
    assert result.grade == "良"


def test_equal_shares_of_thirds_still_add_up():
    result = evaluate([item(n, "产出指标", completion=Decimal(1)) for n in range(3)]
                      + [item(3, "效益指标", completion=Decimal(1)), item(4, "满意度指标", completion=Decimal(1))],
                      Decimal(1), Decimal(1))
    assert for_display(result.indicators[0].weight) == Decimal("16.67")
    assert for_display(result.total) == Decimal(100)
    assert result.grade == "优"


def test_edited_weights_must_add_up_to_the_level():
    good = evaluate([item(1, "产出指标", completion=Decimal(1), weight=Decimal(30)),
                     item(2, "产出指标", completion=Decimal("0.5"), weight=Decimal(20)),
                     item(3, "效益指标", completion=Decimal(1)), item(4, "满意度指标", completion=Decimal(1))],
                    Decimal(1), Decimal(1))
    assert [(s.weight, s.score) for s in good.indicators][:2] == [(Decimal(30), Decimal(30)), (Decimal(20), Decimal(10))]
    assert good.total == Decimal(90)
    # one edited weight, the other keeps its equal share of 25: 40 + 25 = 65
    with pytest.raises(ValueError, match="产出指标各指标的权重合计65.00分，应为50.00分"):
        evaluate([item(1, "产出指标", completion=Decimal(1), weight=Decimal(40)),
                  item(2, "产出指标", completion=Decimal(1)),
                  item(3, "效益指标", completion=Decimal(1)), item(4, "满意度指标", completion=Decimal(1))],
                 Decimal(1), Decimal(1))
    with pytest.raises(ValueError, match="权重合计60.00分，应为50.00分"):
        evaluate([item(1, "产出指标", completion=Decimal(1), weight=Decimal(30)),
                  item(2, "产出指标", completion=Decimal(1), weight=Decimal(30)),
                  item(3, "效益指标", completion=Decimal(1)), item(4, "满意度指标", completion=Decimal(1))],
                 Decimal(1), Decimal(1))
    with pytest.raises(ValueError, match="不能为负数"):
        evaluate([item(1, "效益指标", completion=Decimal(1), weight=Decimal(-10)),
                  item(2, "效益指标", completion=Decimal(1), weight=Decimal(40))], Decimal(1), Decimal(1))


def test_edited_weights_follow_passed_on_points():
    # no 满意度指标: 效益指标 carries 33.75, and edited weights must add up to that
    result = evaluate([item(1, "产出指标", completion=Decimal(1)),
                       item(2, "效益指标", completion=Decimal(1), weight=Decimal("20")),
                       item(3, "效益指标", QUALITATIVE, assessment="部分达成", weight=Decimal("13.75"))],
                      Decimal(1), Decimal(1))
    # 部分达成 not scored yet: the middle of [60 %, 80 %) of 13.75
    assert [s.score for s in result.indicators] == [Decimal("56.25"), Decimal(20), Decimal("9.625")]
    assert result.total == Decimal("95.875")


@pytest.mark.parametrize("assessment, score, expected, suggested", [
    ("达成", None, "9", True), ("达成", "8", "8", False), ("达成", "10", "10", False),
    ("部分达成", None, "7", True), ("部分达成", "6", "6", False), ("部分达成", "7.99", "7.99", False),
    ("未达成", None, "3", True), ("未达成", "0", "0", False), ("未达成", "5.99", "5.99", False),
])
def test_a_qualitative_score_is_the_evaluators_inside_its_band_else_the_middle_is_suggested(
        assessment, score, expected, suggested):
    items = [item(1, "满意度指标", QUALITATIVE, assessment=assessment, score=None if score is None else Decimal(score)),
             item(2, "产出指标", completion=Decimal(1)), item(3, "效益指标", completion=Decimal(1))]
    result = evaluate(items, Decimal(0), Decimal(1))
    assert result.indicators[0].weight == Decimal(10)
    assert result.indicators[0].score == Decimal(expected)
    assert result.indicators[0].suggested is suggested and result.indicators[0].set_aside is None
    assert result.total == Decimal(80) + Decimal(expected)


@pytest.mark.parametrize("assessment, low, high, included", [
    ("达成", "8", "10", True), ("部分达成", "6", "8", False), ("未达成", "0", "6", False)])
def test_bands_are_half_open_but_the_top_one(assessment, low, high, included):
    band = qualitative_band(assessment, Decimal(10))
    assert (band.low, band.high, band.high_included) == (Decimal(low), Decimal(high), included)
    assert band.contains(Decimal(low)) and band.contains(Decimal(high)) is included
    assert not band.contains(Decimal(low) - Decimal("0.01"))
    assert band.middle == (Decimal(low) + Decimal(high)) / 2
    assert band.text == (f"{low}.00–{high}.00分" + ("" if included else f"（不含{high}.00分）"))


@pytest.mark.parametrize("assessment, score, message", [
    ("达成", "7.9", "得分应在8.00–10.00分之间（权重的80%–100%），不能是7.9分"),
    ("部分达成", "8", "得分应在6.00–8.00分之间（不含8.00分，权重的60%–80%），不能是8分"),
    ("部分达成", "8.5", "得分应在6.00–8.00分之间（不含8.00分"),
    ("部分达成", "5", "得分应在6.00–8.00分之间"),
    ("未达成", "6", "得分应在0.00–6.00分之间（不含6.00分"),
])
def test_a_qualitative_score_outside_its_band_is_refused_before_it_is_stored(assessment, score, message):
    refused = item(1, "产出指标", QUALITATIVE, assessment=assessment, score=Decimal(score), name="保障招商活动开展")
    with pytest.raises(ValueError, match=re.escape(f"“保障招商活动开展”评定为{assessment}，{message}")):
        check_evaluator_input(refused, Decimal(10))


def test_a_stored_score_the_assessment_left_behind_is_set_aside_and_suggested_again():
    # scored 9.5 while 达成; the assessment is now 部分达成 ([6, 8) of 10 points)
    items = [item(1, "产出指标", QUALITATIVE, assessment="部分达成", score=Decimal("9.5"), weight=Decimal(10)),
             item(2, "产出指标", completion=Decimal(1), weight=Decimal(80))]
    scored = evaluate(items, Decimal(1), Decimal(1)).indicators[0]
    assert scored.score == Decimal(7) and scored.suggested
    assert scored.set_aside == "原评分9.50分不在部分达成的区间6.00–8.00分（不含8.00分）内，请重新评分"


def test_band_edges_are_checked_as_displayed():
    # weight 50/3: the exact edge of 达成 is 13.333…, and 13.33 is what an evaluator types
    items = [item(n, "产出指标", QUALITATIVE, assessment="达成", score=Decimal("13.33")) for n in range(3)]
    others = [item(3, "效益指标", completion=Decimal(1)), item(4, "满意度指标", completion=Decimal(1))]
    result = evaluate(items + others, Decimal(1), Decimal(1))
    assert for_display(result.indicators[0].weight * Decimal("0.8"), 4) == Decimal("13.3333")
    assert [s.score for s in result.indicators[:3]] == [Decimal("13.33")] * 3
    # 部分达成 of the same weight is [10.00, 13.33): 13.33 belongs to 达成 alone
    with pytest.raises(ValueError, match="不含13.33分"):
        check_evaluator_input(item(1, "产出指标", QUALITATIVE, assessment="部分达成", score=Decimal("13.33")),
                              Decimal(50) / 3)
    check_evaluator_input(item(1, "产出指标", QUALITATIVE, assessment="部分达成", score=Decimal("13.32")),
                          Decimal(50) / 3)


def test_unreported_indicators_score_nothing_and_manual_scores_need_a_qualitative_assessment():
    result = evaluate([item(1, "产出指标"), item(2, "效益指标", QUALITATIVE),
                       item(3, "满意度指标", completion=Decimal("-0.5"))], Decimal(1), Decimal(1))
    assert [s.score for s in result.indicators] == [0, 0, 0]
    assert not any(s.suggested for s in result.indicators)      # nothing to suggest without an assessment
    assert result.total == Decimal(10)
    assert result.grade == "差"
    with pytest.raises(ValueError, match="定量指标"):
        check_evaluator_input(item(1, "产出指标", completion=Decimal(1), score=Decimal(40)), Decimal(90))
    with pytest.raises(ValueError, match="尚未评定"):
        check_evaluator_input(item(1, "产出指标", QUALITATIVE, score=Decimal(40)), Decimal(90))
    with pytest.raises(ValueError, match="一级指标"):
        evaluate([item(1, "经济收益指标", completion=Decimal(1))], Decimal(1), Decimal(1))
    with pytest.raises(ValueError, match="没有年度绩效指标"):
        evaluate([], Decimal(1), Decimal(1))


def test_a_reviewer_may_change_the_level_weights_and_the_total_stays_100():
    weights = {"预算执行率": 20, "产出指标": 40, "效益指标": 30, "满意度指标": 10}
    result = evaluate([item(1, "产出指标", completion=Decimal(1)), item(2, "效益指标", completion=Decimal("0.5")),
                       item(3, "满意度指标", completion=Decimal(1))], Decimal(45), Decimal(100), weights=weights)
    assert result.budget_points == 20 and result.budget_score == 9          # 20 × 45 %
    assert result.levels == {"产出指标": 40, "效益指标": 30, "满意度指标": 10}
    assert result.total == Decimal(9 + 40 + 15 + 10)
    # a level without indicators still passes its (changed) points on in proportion
    assert level_points(["产出指标", "效益指标"], weights) == {
        "产出指标": Decimal(40) * 80 / 70, "效益指标": Decimal(30) * 80 / 70, "满意度指标": 0}
    assert level_weights(None) == {"预算执行率": 10, "产出指标": 50, "效益指标": 30, "满意度指标": 10}
    for wrong, message in (({**weights, "产出指标": 50}, "一级指标分值合计应为100分，现为110.00分"),
                           ({**weights, "产出指标": -10, "效益指标": 80}, "产出指标的分值不能为负数"),
                           ({**weights, "产出指标": "很多"}, "产出指标的分值“很多”不是有效的数字"),
                           ({k: v for k, v in weights.items() if k != "满意度指标"}, "请填写满意度指标的分值"),
                           ({**weights, "经济效益": 0}, "一级指标应为预算执行率、产出指标、效益指标、满意度指标")):
        with pytest.raises(ValueError, match=re.escape(message)):
            level_weights(wrong)
    with pytest.raises(ValueError, match="有指标的一级指标分值均为0"):
        level_points(["满意度指标"], {"预算执行率": 10, "产出指标": 90, "效益指标": 0, "满意度指标": 0})


def test_an_evaluator_may_deduct_for_a_target_set_too_low_never_automatically():
    over = item(1, "产出指标", completion=Decimal("1.43"), over=True, weight=Decimal(50), name="参展企业数量")
    others = [item(2, "效益指标", completion=Decimal(1)), item(3, "满意度指标", completion=Decimal(1))]
    untouched = evaluate([over] + others, Decimal(1), Decimal(1))
    assert untouched.indicators[0].score == 50 and untouched.total == 100      # nothing deducted by itself
    deducted = replace(over, deduction=Decimal(5), deduction_reason="目标设定偏低，仅为上年实际的七成")
    check_evaluator_input(deducted, Decimal(50))
    scored = evaluate([deducted] + others, Decimal(1), Decimal(1)).indicators[0]
    assert (scored.score, scored.deduction, scored.set_aside) == (45, 5, None)
    for wrong, message in ((replace(deducted, deduction_reason=" "), "请填写“参展企业数量”的扣分理由"),
                           (replace(deducted, over=False), "“参展企业数量”未超额完成，不能因目标设定偏低扣分"),
                           (replace(deducted, deduction=Decimal(51)), "扣分应大于0且不超过其得分50.00分"),
                           (replace(deducted, deduction=Decimal(0)), "扣分应大于0")):
        with pytest.raises(ValueError, match=re.escape(message)):
            check_evaluator_input(wrong, Decimal(50))
    # a later entry that is no longer 超额: the stored deduction is set aside, and said so
    later = evaluate([replace(deducted, over=False, completion=Decimal("1.1"))] + others, Decimal(1), Decimal(1))
    assert later.indicators[0].score == 50 and later.indicators[0].set_aside == "该指标已不再超额，原扣分未计入"


@pytest.mark.parametrize("op, r, month, required", [
    (">=", "1.3", 12, True), (">=", "1.4286", 12, True), (">", "1.31", 12, True), (">=", "1.2999", 12, False),
    (">=", "1.43", 11, False), (">=", "1.43", 9, False), ("<=", "1.43", 12, False), ("=", "1.5", 12, False),
    (">=", None, 12, False),
])
def test_the_years_last_entry_at_130_percent_needs_a_reason(op, r, month, required):
    ratio = None if r is None else Decimal(r)
    assert over_reason_required(op, ratio, month) is required
    assert over_reason_required(">=", Decimal("1.35"), 12, Thresholds(over_reason=Decimal("1.4"))) is False


def test_an_execution_rate_below_90_percent_needs_a_reason():
    assert execution_reason_required(Decimal("0.8999"))
    assert not execution_reason_required(Decimal("0.9")) and not execution_reason_required(None)


@pytest.mark.parametrize("total, grade", [
    ("100", "优"), ("90", "优"), ("89.99", "良"), ("80", "良"), ("79.99", "中"), ("60", "中"),
    ("59.99", "差"), ("0", "差"),
])
def test_grade_bands(total, grade):
    assert grade_of(Decimal(total)) == grade


def test_grade_bands_are_configurable_and_decided_on_the_displayed_total():
    assert grade_of(Decimal(85), Thresholds(grade_excellent=Decimal(85))) == "优"
    assert grade_of(Decimal(70), Thresholds(grade_good=Decimal(70))) == "良"
    # no spending (0 of 10) and one indicator carrying all 90 points: total = 90 × r
    result = evaluate([item(1, "产出指标", completion=Decimal("0.99992"))], Decimal(0), Decimal(1))
    assert result.total == Decimal("89.9928")  # shows as 89.99
    assert result.grade == "良"
    result = evaluate([item(1, "产出指标", completion=Decimal("0.99996"))], Decimal(0), Decimal(1))
    assert result.total == Decimal("89.9964")  # shows as 90.00: graded as shown
    assert for_display(result.total) == Decimal("90.00")
    assert result.grade == "优"
