"""The year-end self-evaluation through the JSON API (DOMAIN.md §5): qualitative scores at the middle
of their band, `suggested`, until an evaluator sets one inside it."""
from __future__ import annotations

import pytest

from conftest import form_like, store_forms
from test_api import Api, year_of

SERVICE = "招商引资业务经费"   # 产出 has four indicators (12.5 points each), two of them qualitative
YEAR_END = "2024-01-31"


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
