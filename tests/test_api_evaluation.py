"""The year-end self-evaluation through the JSON API (DOMAIN.md §5): qualitative scores at the middle
of their band, `suggested`, until an evaluator sets one inside it."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from conftest import form_like, project_id, signed_in, store_forms
from test_api import Api, year_of
from test_evaluation_review import make_ready, post

SERVICE = "招商引资业务经费"   # 产出 has four indicators (12.5 points each), two of them qualitative
YEAR_END = "2024-01-31"
JANUARY = datetime(2024, 1, 10, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def service(seeded, personas):
    """The project with a 达成 and a 部分达成 at the year's end, and all of its spending."""
    py, ids = year_of(seeded, SERVICE)
    clerk = Api(seeded, personas.manager_a)
    for name, body in (("保障招商活动开展", {"assessment": "达成"}),
                       ("项目按时完成", {"assessment": "部分达成", "deviation_reasons": ["人员保障"]}),
                       ("会议服务次数", {"value": 100})):
        assert clerk.put(f"/indicators/{ids[name]}/actuals/2023-12", body).status_code == 200
    assert clerk.put(f"/projects/{py}/spending/2023-12", {"amount_yuan": 771100}).status_code == 200
    return py, ids


def scored(evaluation: dict, indicator_id: int) -> dict:
    return next(i for i in evaluation["indicators"] if i["id"] == indicator_id)


def test_the_evaluation_has_the_interface_fields(seeded, personas, service):
    py, ids = service
    answer = Api(seeded, personas.manager_a).get(f"/projects/{py}/evaluation", as_of=YEAR_END)
    assert answer.status_code == 200
    evaluation = answer.get_json()
    assert {"total", "grade", "budget_score", "levels", "indicators"} <= evaluation.keys()
    assert evaluation["levels"] == {"产出指标": 50, "效益指标": 30, "满意度指标": 10}
    assert evaluation["budget_score"] == 10
    meetings = scored(evaluation, ids["会议服务次数"])
    assert (meetings["weight"], meetings["score"]) == (12.5, 12.5)
    # 10 (budget) + 12.5 (meetings) + 11.25 (达成, the middle) + 8.75 (部分达成, the middle); the rest has no actual
    assert evaluation["total"] == 42.5 and evaluation["grade"] == "差"


def test_a_qualitative_score_is_suggested_at_the_middle_of_its_band_until_an_evaluator_sets_one(
        seeded, personas, service):
    py, ids = service
    achieved, partly = ids["保障招商活动开展"], ids["项目按时完成"]
    reviewer = Api(seeded, personas.supervisor_a)
    evaluation = reviewer.get(f"/projects/{py}/evaluation", as_of=YEAR_END).get_json()
    assert (scored(evaluation, achieved)["score"], scored(evaluation, achieved)["band"]) == (11.25, [10, 12.5])
    assert (scored(evaluation, partly)["score"], scored(evaluation, partly)["band"]) == (8.75, [7.5, 10])
    assert scored(evaluation, achieved)["suggested"] and scored(evaluation, partly)["suggested"]
    assert not scored(evaluation, ids["会议服务次数"])["suggested"]

    answer = reviewer.put(f"/indicators/{achieved}/score", {"score": 11}, as_of=YEAR_END)
    assert answer.status_code == 200
    assert scored(answer.get_json(), achieved)["score"] == 11 and answer.get_json()["total"] == 42.25
    assert scored(answer.get_json(), achieved)["suggested"] is False
    assert reviewer.put(f"/indicators/{partly}/score", {"score": 7.5}, as_of=YEAR_END).status_code == 200
    evaluation = reviewer.get(f"/projects/{py}/evaluation", as_of=YEAR_END).get_json()
    assert (scored(evaluation, achieved)["score"], scored(evaluation, partly)["score"]) == (11, 7.5)

    reset = reviewer.put(f"/indicators/{achieved}/score", {"score": None}, as_of=YEAR_END).get_json()
    assert scored(reset, achieved)["score"] == 11.25 and scored(reset, achieved)["evaluator_score"] is None
    assert scored(reset, achieved)["suggested"] is True


def test_the_upper_edge_of_a_band_below_achieved_is_excluded(seeded, personas, service):
    _py, ids = service
    reviewer = Api(seeded, personas.supervisor_a)
    refused = reviewer.put(f"/indicators/{ids['项目按时完成']}/score", {"score": 10}, as_of=YEAR_END)
    assert refused.status_code == 422
    assert "评定为部分达成，得分应在7.50–10.00分之间（不含10.00分" in refused.get_json()["error"]
    assert reviewer.put(f"/indicators/{ids['项目按时完成']}/score", {"score": 9.99}, as_of=YEAR_END).status_code == 200


@pytest.mark.parametrize("score,message", [(9, "10.00–12.50"), (13, "10.00–12.50"), (-1, "10.00–12.50"),
                                           ("很高", "不是有效的数字"), (True, "不是有效的数字"),
                                           ([11], "不是有效的数字")])
def test_a_score_outside_the_band_is_refused_and_the_stored_one_stays(seeded, personas, service, score, message):
    py, ids = service
    admin = Api(seeded, personas.admin)
    admin.put(f"/indicators/{ids['保障招商活动开展']}/score", {"score": 11}, as_of=YEAR_END)
    refused = admin.put(f"/indicators/{ids['保障招商活动开展']}/score", {"score": score}, as_of=YEAR_END)
    assert refused.status_code == 422 and message in refused.get_json()["error"]
    evaluation = admin.get(f"/projects/{py}/evaluation", as_of=YEAR_END).get_json()
    assert scored(evaluation, ids["保障招商活动开展"])["score"] == 11


def test_a_quantitative_indicator_takes_no_evaluator_score(seeded, personas, service):
    _py, ids = service
    refused = Api(seeded, personas.admin).put(f"/indicators/{ids['会议服务次数']}/score", {"score": 10},
                                              as_of=YEAR_END)
    assert refused.status_code == 422 and "定量指标" in refused.get_json()["error"]


def test_a_missing_score_or_a_bad_body_is_refused(seeded, personas, service):
    _py, ids = service
    admin = Api(seeded, personas.admin)
    url = f"/indicators/{ids['保障招商活动开展']}/score"
    assert admin.put(url, {}, as_of=YEAR_END).status_code == 422
    assert admin.put(url, raw="11", as_of=YEAR_END).status_code == 400
    assert admin.put(url, {"score": 11}, as_of="2024-1-31").status_code == 400


def test_who_sets_evaluator_scores(seeded, personas, service):
    py, ids = service
    url = f"/indicators/{ids['保障招商活动开展']}/score"
    for person in (personas.manager_a, personas.manager_b):     # 填报人 record actuals, not scores
        response = Api(seeded, person).put(url, {"score": 11}, as_of=YEAR_END)
        assert response.status_code == 403 and response.get_json()["error"] == "您没有权限执行此操作"
    other_py, other_ids = year_of(seeded, "外商投资企业服务经费")
    outside = Api(seeded, personas.supervisor_a).put(f"/indicators/{other_ids['保障招商活动开展']}/score",
                                                     {"score": None}, as_of=YEAR_END)
    assert outside.status_code == 404                           # another 主管部门's project
    assert Api(seeded, personas.supervisor_all).put(url, {"score": 11}, as_of=YEAR_END).status_code == 200
    assert Api(seeded, personas.manager_b).get(f"/projects/{py}/evaluation").status_code == 404


def test_a_project_that_cannot_be_evaluated_is_a_422_in_chinese(seeded, personas):
    form = form_like(2, name="无预算项目")
    form["funds"]["annual"]["total"] = None
    store_forms(seeded, [form], file_name="无预算.pdf", sha="c" * 64)
    py, _ids = year_of(seeded, "无预算项目")
    response = Api(seeded, personas.manager_a).get(f"/projects/{py}/evaluation", as_of=YEAR_END)
    assert response.status_code == 422 and "年度资金总额" in response.get_json()["error"]


# --------------------------------------------------------------------------- issue 13.5 and 13.8

SERVICE_NAMES = ["会议服务次数", "保障招商活动开展", "项目按时完成", "成本指标", "对我省招商引资的作用", "服务投诉率",
                 "服务对象满意度"]


def test_the_answer_lists_what_keeps_the_evaluation_from_being_submitted(seeded, personas, service):
    py, _ids = service
    evaluation = Api(seeded, personas.manager_a).get(f"/projects/{py}/evaluation", as_of="2023-12-31").get_json()
    assert (evaluation["state"], evaluation["ready"]) == ("draft", False)
    assert evaluation["data_through"] == "2023-12" and evaluation["data_label"].startswith("数据截至2023年12月（其中4项")
    assert evaluation["gaps"][0] == {"period": "2023-01", "indicators": SERVICE_NAMES, "spending": True,
                                     "explanation": None}
    assert evaluation["gaps"][-1] == {"period": "2023-12", "indicators": SERVICE_NAMES[3:], "spending": False,
                                      "explanation": None}
    assert len(evaluation["gaps"]) == 12
    assert evaluation["problems"][0] == "1月未填报且未说明原因：全部7项指标及预算支出"
    assert evaluation["problems"][11] == "12月未填报且未说明原因：成本指标、对我省招商引资的作用、服务投诉率、服务对象满意度"
    assert evaluation["problems"][12].startswith("以下指标未得满分，请填写偏差原因分析及改进措施：保障招商活动开展、项目按时完成、成本指标")
    assert evaluation["problems"][13] == "以下定性指标的得分仍为建议分，请评价人（审核人）在区间内确定得分：保障招商活动开展、项目按时完成"
    assert evaluation["weights"] == {"预算执行率": 10, "产出指标": 50, "效益指标": 30, "满意度指标": 10}
    assert evaluation["budget_points"] == 10 and evaluation["weights_reason"] is None


def test_an_execution_rate_below_90_percent_needs_a_reason(seeded, personas, service):
    py, _ids = service
    clerk = Api(seeded, personas.manager_a)
    assert clerk.put(f"/projects/{py}/spending/2023-12", {"amount_yuan": 385550, "version": 1}).status_code == 200
    evaluation = clerk.get(f"/projects/{py}/evaluation", as_of="2023-12-31").get_json()
    assert evaluation["budget_score"] == 5 and evaluation["execution_reason"] is None
    assert "预算执行率为50.00%，低于90%，请填写执行率偏低的原因" in evaluation["problems"]


def test_a_reviewer_changes_the_level_weights_with_a_reason_and_the_total_stays_100(seeded, personas, service):
    py, ids = service
    reviewer = Api(seeded, personas.supervisor_a)
    url = f"/projects/{py}/evaluation/weights"
    weights = {"预算执行率": 20, "产出指标": 40, "效益指标": 30, "满意度指标": 10}
    too_many = reviewer.put(url, {"weights": {**weights, "产出指标": 50}, "reason": "项目以资金保障为主"}, as_of=YEAR_END)
    assert too_many.status_code == 422
    assert too_many.get_json()["error"] == "一级指标分值合计应为100分，现为110.00分"
    no_reason = reviewer.put(url, {"weights": weights, "reason": "  "}, as_of=YEAR_END)
    assert no_reason.status_code == 422 and no_reason.get_json()["error"] == "调整一级指标分值须说明理由"
    assert Api(seeded, personas.manager_a).put(url, {"weights": weights, "reason": "x"}).status_code == 403
    other_py, _ = year_of(seeded, "外商投资企业服务经费")
    assert reviewer.put(f"/projects/{other_py}/evaluation/weights", {"weights": weights, "reason": "x"}).status_code == 404
    changed = reviewer.put(url, {"weights": weights, "reason": "项目以资金保障为主（特殊情况）"}, as_of=YEAR_END)
    assert changed.status_code == 200
    evaluation = changed.get_json()
    assert evaluation["weights"] == weights and evaluation["weights_reason"] == "项目以资金保障为主（特殊情况）"
    assert evaluation["budget_points"] == 20 and evaluation["budget_score"] == 20
    assert evaluation["levels"] == {"产出指标": 40, "效益指标": 30, "满意度指标": 10}
    assert scored(evaluation, ids["会议服务次数"])["weight"] == 10      # 40 over four indicators
    # 20 + 10 (meetings) + 9 (达成, middle of 10) + 7 (部分达成, middle of 10)
    assert evaluation["total"] == 46
    back = reviewer.put(url, {"weights": None, "reason": "恢复默认分值"}, as_of=YEAR_END).get_json()
    assert back["weights"] == {"预算执行率": 10, "产出指标": 50, "效益指标": 30, "满意度指标": 10} and back["total"] == 42.5


def test_edited_indicator_weights_follow_a_change_of_their_level(seeded, personas, service):
    py, ids = service
    output = [ids[name] for name in SERVICE_NAMES[:4]]                  # the four 产出指标
    seeded.config["CLOCK"] = lambda: JANUARY
    clerk = signed_in(seeded, personas.manager_a)
    data = {f"weight_{i}": ("20" if i == ids["会议服务次数"] else "10") for i in output}
    assert post(clerk, project_id(seeded, SERVICE), **data).status_code == 303
    weights = {"预算执行率": 10, "产出指标": 40, "效益指标": 40, "满意度指标": 10}
    evaluation = Api(seeded, personas.supervisor_a).put(f"/projects/{py}/evaluation/weights",
                                                        {"weights": weights, "reason": "效益为主"}, as_of=YEAR_END).get_json()
    assert scored(evaluation, ids["会议服务次数"])["weight"] == 16          # 20 of 50 → 16 of 40
    assert sum(scored(evaluation, i)["weight"] for i in output) == 40


def test_an_evaluator_may_deduct_for_a_target_set_too_low_with_a_reason(seeded, personas):
    py, ids = year_of(seeded, "招商引资专项经费")
    clerk, reviewer = Api(seeded, personas.manager_a), Api(seeded, personas.supervisor_a)
    assert clerk.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-12",
                     {"value": 100, "over_reason": "目标按上年规模设定"}).status_code == 200
    assert clerk.put(f"/indicators/{ids['参展面积']}/actuals/2023-12", {"value": 520}).status_code == 200
    assert clerk.put(f"/projects/{py}/spending/2023-12", {"amount_yuan": 37_000_000}).status_code == 200
    url = f"/indicators/{ids['参展企业数量']}/deduction"
    before = reviewer.get(f"/projects/{py}/evaluation", as_of=YEAR_END).get_json()
    firms = scored(before, ids["参展企业数量"])
    assert firms["over"] is True and firms["deduction"] == 0 and firms["score"] == firms["weight"]   # nothing by itself
    no_reason = reviewer.put(url, {"points": 1}, as_of=YEAR_END)
    assert no_reason.status_code == 422 and "请填写“参展企业数量”的扣分理由" in no_reason.get_json()["error"]
    too_much = reviewer.put(url, {"points": 10, "reason": "目标偏低"}, as_of=YEAR_END)
    assert too_much.status_code == 422 and "扣分应大于0且不超过其得分" in too_much.get_json()["error"]
    not_over = reviewer.put(f"/indicators/{ids['参展面积']}/deduction", {"points": 1, "reason": "目标偏低"}, as_of=YEAR_END)
    assert not_over.status_code == 422 and "“参展面积”未超额完成，不能因目标设定偏低扣分" in not_over.get_json()["error"]
    assert Api(seeded, personas.manager_a).put(url, {"points": 1, "reason": "x"}).status_code == 403
    deducted = reviewer.put(url, {"points": 1.5, "reason": "目标低于上年实际完成数"}, as_of=YEAR_END)
    assert deducted.status_code == 200
    firms = scored(deducted.get_json(), ids["参展企业数量"])
    assert (firms["deduction"], firms["deduction_reason"]) == (1.5, "目标低于上年实际完成数")
    assert firms["score"] == round(firms["weight"] - 1.5, 2)
    assert deducted.get_json()["total"] == round(before["total"] - 1.5, 2)
    cancelled = reviewer.put(url, {"points": None}, as_of=YEAR_END).get_json()
    assert scored(cancelled, ids["参展企业数量"])["deduction"] == 0 and cancelled["total"] == before["total"]


def test_scores_and_weights_are_locked_once_approved(seeded, personas, service):
    from models.db import get_session, transaction
    from models.project import ProjectYear
    from services.self_evaluation import move_review
    py, ids = service
    seeded.config["CLOCK"] = lambda: JANUARY
    make_ready(seeded, py)
    with seeded.app_context():
        session = get_session()
        with transaction(session):
            for action, who, role in (("提交", "tianbao", "manager"), ("通过", "shenhe", "supervisor")):
                move_review(session, session.get(ProjectYear, py), action, who, role, JANUARY, as_of=date(2023, 12, 31))
    reviewer = Api(seeded, personas.supervisor_a)
    locked = reviewer.put(f"/indicators/{ids['保障招商活动开展']}/score", {"score": 11}, as_of=YEAR_END)
    assert locked.status_code == 409 and "自评已通过" in locked.get_json()["error"]
    weights = reviewer.put(f"/projects/{py}/evaluation/weights", {"weights": None, "reason": "x"}, as_of=YEAR_END)
    assert weights.status_code == 409
    assert reviewer.get(f"/projects/{py}/evaluation", as_of=YEAR_END).get_json()["state"] == "approved"
