"""What keeps a 绩效自评 from being submitted (domain/self_evaluation.py, issue 13.8): periods
neither entered nor explained, indicators below full marks without 偏差原因分析及改进措施, a
执行率 below 90 % without a reason, qualitative scores still suggested."""
from __future__ import annotations

from decimal import Decimal

from domain import rules
from domain.calendar import MONTHLY, QUARTERLY, YearCalendar
from domain.self_evaluation import PeriodGap, period_gaps, readiness

CAL = YearCalendar(2023, MONTHLY)
THROUGH_SEPTEMBER = set(range(1, 10))


def test_every_period_up_to_the_evaluation_date_is_entered_or_listed():
    entered = [("参展企业数量", set(range(1, 13))), ("投资者满意度", THROUGH_SEPTEMBER)]
    gaps = period_gaps(CAL, 12, entered, spending=THROUGH_SEPTEMBER | {12})
    assert gaps == (PeriodGap(10, ("投资者满意度",), True, 2), PeriodGap(11, ("投资者满意度",), True, 2),
                    PeriodGap(12, ("投资者满意度",), False, 2))
    assert period_gaps(CAL, 9, entered, THROUGH_SEPTEMBER) == ()
    assert period_gaps(CAL, None, entered, set()) == ()
    quarterly = YearCalendar(2023, QUARTERLY)
    assert [g.month for g in period_gaps(quarterly, 12, [("会议服务次数", {3, 6, 9})], {3, 6, 9})] == [12]


def _evaluation(rate: str = "1", *scores):
    items = [rules.EvaluationItem(1, "产出指标", rules.CUMULATIVE, completion=Decimal(1)),
             rules.EvaluationItem(2, "效益指标", rules.CUMULATIVE, completion=Decimal("0.8")),
             rules.EvaluationItem(3, "满意度指标", rules.QUALITATIVE, assessment="达成",
                                  score=scores[0] if scores else None)]
    return rules.evaluate(items, Decimal(rate), Decimal(1))


NAMES = {1: "参展企业数量", 2: "签约项目到位资金", 3: "保障招商活动开展"}


def test_a_complete_self_evaluation_may_be_submitted():
    evaluation = _evaluation("0.95", Decimal(10))
    check = readiness(CAL, evaluation, NAMES, {2: "招商项目落地周期长，次年继续跟踪"}, (), {}, None)
    assert check.ok and check.problems == []


def test_what_is_missing_is_listed_one_line_each():
    evaluation = _evaluation("0.85")
    gaps = period_gaps(CAL, 12, [(name, THROUGH_SEPTEMBER) for name in NAMES.values()], THROUGH_SEPTEMBER)
    check = readiness(CAL, evaluation, NAMES, {}, gaps, {11: "系统升级，11月暂停填报"}, "  ", ("参展企业数量",))
    assert not check.ok
    assert check.problems == [
        "10月未填报且未说明原因：全部3项指标及预算支出",
        "12月未填报且未说明原因：全部3项指标及预算支出",
        # 参展企业数量 scores its full 50 points; the 达成 one scores the suggested 9 of 10
        "以下指标未得满分，请填写偏差原因分析及改进措施：签约项目到位资金、保障招商活动开展",
        "预算执行率为85.00%，低于90%，请填写执行率偏低的原因",
        "以下定性指标的得分仍为建议分，请评价人（审核人）在区间内确定得分：保障招商活动开展",
        "以下指标12月完成率超额，请在12月的填报中补充超额原因：参展企业数量",
    ]


def test_a_missing_spending_report_alone_is_named_as_such():
    gaps = period_gaps(CAL, 3, [("参展企业数量", {1, 2, 3})], {1, 2})
    check = readiness(CAL, _evaluation("1", Decimal(10)), NAMES, {2: "说明"}, gaps, {}, None)
    assert check.problems == ["3月未填报且未说明原因：预算支出"]
