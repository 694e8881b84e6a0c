"""目标调整 (DOMAIN.md §7, issue 13.2): a 填报人 proposes new 年度 指标值 (or adds or withdraws an
indicator) with a reason; the 主管部门's 审核人 approves it or returns it with a comment. While
pending the old target stands; on approval the new one applies to the whole year, the actuals
are judged again (caches rebuilt: `flask check` finds nothing), the original stays visible as
原目标, and the proposer is told (工作台, mail)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from conftest import DEPARTMENT_B, NOW, add_user, form_like, set_annual_target, store_forms
from test_api import Api, year_of
from test_api_actuals import annual

SPECIAL = "招商引资专项经费"
REASON = "受展馆改造影响，可用展览面积缩减"
AREA_500 = {"raw": "≥500平方米", "kind": "quantitative", "op": ">=", "value": 500, "unit": "平方米"}


class Caller(Api):
    def post(self, url: str, body=None):
        return self.client.post(f"/api/v1{url}", json=body, headers=self.headers)


@pytest.fixture
def callers(seeded, personas):
    """The 填报人, the 主管部门's 审核人, another 主管部门's 审核人 and the admin, on 2023-08-06 (the
    seed was imported then: alerts, which `flask check` compares as of today, are of that day)."""
    seeded.config["CLOCK"] = lambda: NOW
    return {"tianbao": Caller(seeded, personas.manager_a), "shenhe": Caller(seeded, personas.supervisor_a),
            "other_shenhe": Caller(seeded, add_user(seeded, "shenhe_fgw", "supervisor", department=DEPARTMENT_B)),
            "admin": Caller(seeded, personas.admin)}


def area_in_july(api: Api, py: int, area: int, as_of: str = "2023-08-06") -> dict:
    return annual(api.get(f"/projects/{py}", as_of=as_of).get_json(), area)


def check_finds_nothing(app) -> list:
    """What `flask check` finds: the cached figures, the summaries and the open alerts as of today."""
    from services import derived
    from views.clock import today
    with app.app_context(), Session(app.extensions["engine"]) as session:
        return [str(d) for d in derived.check(session, app.config, today())]


# --------------------------------------------------------------------------- the case

def test_the_exhibition_area_lowered_to_300_is_proposed_approved_and_judges_july_green(seeded, callers):
    tianbao, shenhe = callers["tianbao"], callers["shenhe"]
    py, ids = year_of(seeded, SPECIAL)
    area = ids["参展面积"]
    entered = tianbao.put(f"/indicators/{area}/actuals/2023-07", {"value": 200, "deviation_reasons": ["其他"]})
    assert entered.status_code == 200 and entered.get_json()["light"] == "yellow"

    proposed = tianbao.post(f"/projects/{py}/target-changes",
                            {"reason": REASON, "changes": [{"indicator_id": area, "target": "≥300平方米"}]})
    assert proposed.status_code == 201
    assert proposed.get_json() == {"id": proposed.get_json()["id"], "state": "pending"}
    change = proposed.get_json()["id"]

    pending = area_in_july(tianbao, py, area)                        # while pending the old target stands
    assert pending["target"]["raw"] == "≥500平方米" and pending["original_target"] is None
    assert round(pending["pace"], 3) == 0.686 and pending["light"] == "yellow"

    assert tianbao.post(f"/target-changes/{change}/approve").status_code == 403      # the 填报人 may not decide
    assert callers["other_shenhe"].post(f"/target-changes/{change}/approve").status_code == 404
    assert area_in_july(tianbao, py, area)["target"]["raw"] == "≥500平方米"

    approved = shenhe.post(f"/target-changes/{change}/approve")
    assert approved.status_code == 200 and approved.get_json() == {"id": change, "state": "approved"}

    after = area_in_july(tianbao, py, area)
    assert after["target"] == {"raw": "≥300平方米", "kind": "quantitative", "op": ">=", "value": 300, "unit": "平方米"}
    assert round(after["pace"], 3) == 1.143                  # 200 / (300 · 7/12)
    assert after["light"] == "green"
    assert after["original_target"] == AREA_500
    assert area_in_july(tianbao, py, area, as_of="2023-03-31")["target"]["raw"] == "≥300平方米"   # the whole year
    assert check_finds_nothing(seeded) == []


def test_a_decision_is_taken_once(seeded, callers):
    py, ids = year_of(seeded, SPECIAL)
    change = callers["tianbao"].post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    assert callers["shenhe"].post(f"/target-changes/{change}/approve").status_code == 200
    again = callers["admin"].post(f"/target-changes/{change}/return", {"comment": "不同意"})
    assert again.status_code == 409 and "已批准" in again.get_json()["error"]
    assert callers["shenhe"].post(f"/target-changes/{change}/approve").status_code == 409


def test_returned_with_a_comment_the_old_target_stays(seeded, callers):
    tianbao, shenhe = callers["tianbao"], callers["shenhe"]
    py, ids = year_of(seeded, SPECIAL)
    change = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    no_comment = shenhe.post(f"/target-changes/{change}/return", {"comment": "  "})
    assert no_comment.status_code == 422 and no_comment.get_json() == {"error": "审核意见：必须填写", "field": "comment"}
    assert tianbao.post(f"/target-changes/{change}/return", {"comment": "x"}).status_code == 403
    returned = shenhe.post(f"/target-changes/{change}/return", {"comment": "面积缩减须附场馆方的书面说明"})
    assert returned.status_code == 200 and returned.get_json() == {"id": change, "state": "returned"}
    assert area_in_july(tianbao, py, ids["参展面积"])["target"]["raw"] == "≥500平方米"
    listed = tianbao.get(f"/projects/{py}/target-changes").get_json()["target_changes"]
    assert [(c["id"], c["state"], c["proposed_by"], c["decided_by"], c["comment"]) for c in listed] == [
        (change, "returned", "tianbao", "shenhe", "面积缩减须附场馆方的书面说明")]
    assert listed[0]["changes"] == [{"action": "change", "indicator_id": ids["参展面积"], "level1": None,
                                     "level2": None, "level3": "参展面积", "old_target": "≥500平方米",
                                     "target": "≥300平方米"}]


# --------------------------------------------------------------------------- who may do what

def test_proposing_is_for_the_units_tianbao_within_scope(seeded, personas, callers):
    py, ids = year_of(seeded, SPECIAL)
    body = {"reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}
    assert callers["shenhe"].post(f"/projects/{py}/target-changes", body).status_code == 403
    other = Caller(seeded, personas.manager_b)
    assert other.post(f"/projects/{py}/target-changes", body).status_code == 404
    b_py, b_ids = year_of(seeded, "外商投资企业服务经费")
    foreign = {"reason": REASON, "changes": [{"indicator_id": min(b_ids.values()), "target": "≥300平方米"}]}
    refused = callers["tianbao"].post(f"/projects/{py}/target-changes", foreign)     # another unit's target
    assert refused.status_code == 422 and refused.get_json()["field"] == "changes[0].indicator_id"
    assert "不是本项目2023年度的指标" in refused.get_json()["error"]
    assert callers["tianbao"].post(f"/projects/{b_py}/target-changes", foreign).status_code == 404
    assert callers["tianbao"].get(f"/projects/{py}/target-changes").get_json() == {"target_changes": []}


@pytest.mark.parametrize("change, field, words", [
    ({"target": "/"}, "changes[0].target", "表示没有目标"),
    ({"target": ""}, "changes[0].target", "请填写“参展面积”的新指标值"),
    ({"target": "≥500平方米"}, "changes[0].target", "与现行指标值“≥500平方米”相同"),
    ({"target": "≥300家"}, "changes[0].target", "无法按新指标值“≥300家”评判"),        # July's 200平方米 would be lost
    ({"target": "按时完成"}, "changes[0].target", "无法按新指标值“按时完成”评判"),
    ({"target": "≥10000000000000000平方米"}, "changes[0].target", "新指标值过大"),
    ({"target": "≥0.0000001平方米"}, "changes[0].target", "最多6位小数"),
])
def test_a_new_target_is_read_by_the_grammar_and_refused_in_chinese(seeded, callers, change, field, words):
    tianbao = callers["tianbao"]
    py, ids = year_of(seeded, SPECIAL)
    tianbao.put(f"/indicators/{ids['参展面积']}/actuals/2023-07", {"value": 200, "deviation_reasons": ["其他"]})
    response = tianbao.post(f"/projects/{py}/target-changes",
                            {"reason": REASON, "changes": [{"indicator_id": ids["参展面积"], **change}]})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field and words in response.get_json()["error"]
    assert tianbao.get(f"/projects/{py}/target-changes").get_json() == {"target_changes": []}


def test_a_target_the_entered_actuals_cannot_be_compared_with_is_refused(seeded, callers):
    tianbao = callers["tianbao"]
    py, ids = year_of(seeded, SPECIAL)
    assert tianbao.put(f"/indicators/{ids['参展面积']}/actuals/2023-07", {"value": 1_000_000_000_000}).status_code == 200
    response = tianbao.post(f"/projects/{py}/target-changes", {      # r = 10^18: no column holds it
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥0.000001平方米"}]})
    assert response.status_code == 422 and "相差过大，无法计算完成率" in response.get_json()["error"]


# --------------------------------------------------------------------------- adding and withdrawing

def test_an_indicator_added_and_one_withdrawn_count_from_the_approval(seeded, callers):
    tianbao, shenhe = callers["tianbao"], callers["shenhe"]
    py, ids = year_of(seeded, SPECIAL)
    media = ids["主流媒体报道次数"]
    tianbao.put(f"/indicators/{media}/actuals/2023-07", {"value": 2, "deviation_reasons": ["其他"]})
    change = tianbao.post(f"/projects/{py}/target-changes", {"reason": "新增线上展会，媒体报道改由宣传部门统计", "changes": [
        {"indicator_id": media, "withdraw": True},
        {"level1": "产出指标", "level2": "数量指标", "level3": "线上展会场次", "target": "≥2场"}]})
    assert change.status_code == 201
    before = tianbao.get(f"/projects/{py}", as_of="2023-08-06").get_json()
    assert len([i for i in before["indicators"] if i["scope"] == "annual"]) == 14
    assert shenhe.post(f"/target-changes/{change.get_json()['id']}/approve").status_code == 200

    project = tianbao.get(f"/projects/{py}", as_of="2023-08-06").get_json()
    annual_names = [i["level3"] for i in project["indicators"] if i["scope"] == "annual"]
    assert len(annual_names) == 14 and "主流媒体报道次数" not in annual_names and annual_names[-1] == "线上展会场次"
    added = next(i for i in project["indicators"] if i["level3"] == "线上展会场次")
    assert (added["level1"], added["level2"], added["target"]["raw"], added["original_target"]) == \
        ("产出指标", "数量指标", "≥2场", None)
    assert added["light"] == "grey"                          # July's entry is due by now, and missing
    period = [i for i in project["indicators"] if i["id"] == media]     # its 实施期 target stays
    assert [(i["scope"], i["target"]["raw"]) for i in period] == [("period", "≥800次")]
    listed = tianbao.get(f"/projects/{py}/target-changes").get_json()["target_changes"][0]["changes"]
    assert [(c["action"], c["indicator_id"] is not None, c["old_target"], c["target"]) for c in listed] == [
        ("withdraw", True, "≥20次", None), ("add", True, None, "≥2场")]
    assert put_refused(tianbao, media) == "该指标没有年度目标，不能填报实际值"
    assert check_finds_nothing(seeded) == []


def put_refused(api: Api, indicator_id: int) -> str:
    response = api.put(f"/indicators/{indicator_id}/actuals/2023-08", {"value": 3})
    assert response.status_code == 422
    return response.get_json()["error"]


@pytest.mark.parametrize("added, field, words", [
    ({"level1": "投入指标", "level2": "数量指标", "level3": "培训班次", "target": "≥2期"}, "level1",
     "一级指标应为：产出指标、效益指标、满意度指标"),
    ({"level1": "产出指标", "level2": "社会效益指标", "level3": "培训班次", "target": "≥2期"}, "level2",
     "产出指标的二级指标应为：数量指标、质量指标、时效指标、成本指标"),
    ({"level1": "产出指标", "level2": "数量指标", "level3": "", "target": "≥2期"}, "level3", "三级指标"),
    ({"level1": "产出指标", "level2": "数量指标", "level3": "参展 面积", "target": "≥2平方米"}, "level3",
     "本年度已有指标“参展面积”"),
    ({"level1": "产出", "level2": "数量指标", "level3": "培训班次", "target": "*"}, "target", "表示没有目标"),
])
def test_an_added_indicator_needs_names_of_the_taxonomy_and_a_target(seeded, callers, added, field, words):
    py, _ids = year_of(seeded, SPECIAL)
    response = callers["tianbao"].post(f"/projects/{py}/target-changes", {"reason": REASON, "changes": [added]})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == f"changes[0].{field}" and words in response.get_json()["error"]


# --------------------------------------------------------------------------- one change at a time

def test_an_indicator_in_a_pending_proposal_waits_for_its_decision(seeded, callers):
    tianbao = callers["tianbao"]
    py, ids = year_of(seeded, SPECIAL)
    first = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    again = tianbao.post(f"/projects/{py}/target-changes", {"reason": "再调", "changes": [
        {"indicator_id": ids["参展企业数量"], "target": "≥60家"}, {"indicator_id": ids["参展面积"], "target": "≥250平方米"}]})
    assert again.status_code == 409
    assert again.get_json()["error"] == f"“参展面积”已有待审核的目标调整（第{first}号）：请待其审核后再提出"
    twice = tianbao.post(f"/projects/{py}/target-changes", {"reason": "再调", "changes": [
        {"indicator_id": ids["参展企业数量"], "target": "≥60家"}, {"indicator_id": ids["参展企业数量"], "target": "≥65家"}]})
    assert twice.status_code == 422 and twice.get_json()["field"] == "changes[1].indicator_id"
    other = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": "再调", "changes": [{"indicator_id": ids["参展企业数量"], "target": "≥60家"}]})
    assert other.status_code == 201


def test_a_proposal_made_against_a_target_changed_since_cannot_be_approved(seeded, callers):
    tianbao, shenhe = callers["tianbao"], callers["shenhe"]
    py, ids = year_of(seeded, SPECIAL)
    change = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    store_forms(seeded, [set_annual_target(form_like(0), "参展面积", "≥400平方米", 400)], file_name="更正.pdf",
                sha="e" * 64, now=NOW + timedelta(hours=1))
    refused = shenhe.post(f"/target-changes/{change}/approve")
    assert refused.status_code == 409
    assert "“参展面积”的指标值已由“≥500平方米”变为“≥400平方米”" in refused.get_json()["error"]
    assert area_in_july(tianbao, py, ids["参展面积"])["target"]["raw"] == "≥400平方米"
    assert shenhe.post(f"/target-changes/{change}/return", {"comment": "申报表已更正，请按现行指标值重新提出"}).status_code == 200


# --------------------------------------------------------------------------- one history, one 原目标

def test_imports_and_approved_adjustments_make_one_history_with_one_original(seeded, personas, callers, client):
    from conftest import project_id, text_of
    seeded.config["CLOCK"] = lambda: NOW
    tianbao, shenhe = callers["tianbao"], callers["shenhe"]
    py, ids = year_of(seeded, SPECIAL)
    store_forms(seeded, [set_annual_target(form_like(0), "参展企业数量", "≥80家", 80)], file_name="更正.pdf",
                sha="e" * 64, now=NOW - timedelta(days=1))
    change = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    assert shenhe.post(f"/target-changes/{change}/approve").status_code == 200
    later = set_annual_target(set_annual_target(form_like(0), "参展企业数量", "≥80家", 80), "参展面积", "≥350平方米", 350)
    store_forms(seeded, [later], file_name="再次更正.pdf", sha="f" * 64, now=NOW + timedelta(days=30))

    project = tianbao.get(f"/projects/{py}", as_of="2023-09-06").get_json()
    assert annual(project, ids["参展企业数量"])["original_target"]["raw"] == "≥70家"
    area = annual(project, ids["参展面积"])
    assert (area["target"]["raw"], area["original_target"]["raw"]) == ("≥350平方米", "≥500平方米")

    text = text_of(client.get(f"/projects/{project_id(seeded, SPECIAL)}?year=2023").get_data(as_text=True))
    history = text.split("指标值变更记录")[1]
    assert "2023-09-05 09:00 2023 参展面积 年度 ≥300平方米 ≥350平方米 再次更正.pdf" in history
    assert f"2023-08-06 09:00 2023 参展面积 年度 ≥500平方米 ≥300平方米 目标调整第{change}号（shenhe批准）" in history
    assert "2023-08-05 09:00 2023 参展企业数量 年度 ≥70家 ≥80家 更正.pdf" in history
    indicators = text.split("绩效指标")[1].split("目标调整")[0]
    assert "≥350平方米 原目标 ≥500平方米 （2023-09-05 导入“再次更正.pdf”）" in indicators


# --------------------------------------------------------------------------- what derives from the targets

def test_approval_rebuilds_the_stored_judgement_summaries_and_alerts(seeded, callers):
    from models.actual import Actual, Alert
    from models.summary import LightSummary
    seeded.config["CLOCK"] = lambda: NOW
    tianbao = callers["tianbao"]
    py, ids = year_of(seeded, SPECIAL)
    area = ids["参展面积"]
    tianbao.put(f"/indicators/{area}/actuals/2023-07", {"value": 200, "deviation_reasons": ["其他"]})

    def stored():
        with Session(seeded.extensions["engine"]) as session:
            actual = session.exec(select(Actual).where(Actual.indicator_id == area, Actual.month == 7)).one()
            alerts = session.exec(select(Alert.kind, Alert.light).where(Alert.indicator_id == area,
                                                                        Alert.closed_at.is_(None))).all()
            summary = session.exec(select(LightSummary).where(LightSummary.project_year_id == py,
                                                              LightSummary.month == 7, LightSummary.level1 == "")).one()
            return actual.light, round(float(actual.pace), 3), alerts, (summary.green, summary.yellow)

    light, pace, alerts, (green, yellow) = stored()
    assert (light, pace, alerts, yellow) == ("yellow", 0.686, [("light", "yellow")], 1)
    change = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": area, "target": "≥300平方米"}]}).get_json()["id"]
    assert stored() == (light, pace, alerts, (green, yellow))            # pending: nothing changes
    callers["shenhe"].post(f"/target-changes/{change}/approve")
    assert stored() == ("green", 1.143, [], (green + 1, yellow - 1))
    assert check_finds_nothing(seeded) == []


# --------------------------------------------------------------------------- telling the proposer

def give_email(app, person, email: str) -> None:
    from models.user import User
    with Session(app.extensions["engine"]) as session:
        user = session.get(User, person.id)
        user.email = email
        session.add(user)
        session.commit()


def outbox(app) -> list:
    from models.outbox import OutboxMessage
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_the_proposer_is_told_by_mail_and_on_the_workbench(seeded, personas, callers):
    from conftest import signed_in, text_of
    seeded.config["CLOCK"] = lambda: NOW
    give_email(seeded, personas.manager_a, "tianbao@example.gov.cn")
    tianbao, shenhe = callers["tianbao"], callers["shenhe"]
    py, ids = year_of(seeded, SPECIAL)
    first = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    second = tianbao.post(f"/projects/{py}/target-changes", {
        "reason": "活动取消", "changes": [{"indicator_id": ids["参加活动场次"], "target": "≥3场"}]}).get_json()["id"]
    assert outbox(seeded) == []                               # nobody is told of a proposal yet
    home = signed_in(seeded, personas.manager_a)
    waiting = text_of(home.get("/").get_data(as_text=True))
    assert f"待审核 招商引资专项经费 · 目标调整第{second}号" in waiting and "等待主管部门审核" in waiting

    shenhe.post(f"/target-changes/{first}/approve")
    shenhe.post(f"/target-changes/{second}/return", {"comment": "活动场次不宜下调，请说明原因后再报"})
    approved, returned = outbox(seeded)
    assert (approved.to_address, approved.state, approved.kind) == ("填报人甲 <tianbao@example.gov.cn>", "pending",
                                                                     "target-adjustment")
    assert approved.subject == "【绩效目标跟踪】目标调整已批准：招商引资专项经费（2023年度）"
    assert (f"您于2023年8月6日提出的招商引资专项经费（2023年度）目标调整（第{first}号）已由shenhe于2023年8月6日批准。"
            in approved.text_body)
    assert "参展面积：≥500平方米 → ≥300平方米" in approved.text_body and REASON in approved.text_body
    assert f"/projects/{personas.project_a}?year=2023#target-adjustments" in approved.text_body
    assert "参展面积：≥500平方米 → ≥300平方米" in approved.html_body
    assert returned.subject == "【绩效目标跟踪】目标调整已退回：招商引资专项经费（2023年度）"
    assert "活动场次不宜下调，请说明原因后再报" in returned.text_body and "原指标值继续有效" in returned.text_body

    told = text_of(home.get("/").get_data(as_text=True))
    assert f"已批准 招商引资专项经费 · 目标调整第{first}号 shenhe 于 2023-08-06 09:00 批准：新指标值已适用于全年" in told
    assert (f"已退回 招商引资专项经费 · 目标调整第{second}号 shenhe 于 2023-08-06 09:00 退回 "
            "审核意见：活动场次不宜下调，请说明原因后再报") in told
    seeded.config["CLOCK"] = lambda: NOW + timedelta(days=31)          # a decision stays on the 工作台 a month
    assert "目标调整第" not in text_of(home.get("/").get_data(as_text=True))


def test_without_an_address_nobody_is_mailed(seeded, callers):
    py, ids = year_of(seeded, SPECIAL)
    change = callers["tianbao"].post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    assert callers["shenhe"].post(f"/target-changes/{change}/approve").status_code == 200
    assert outbox(seeded) == []


# --------------------------------------------------------------------------- the project page

HX = {"HX-Request": "true"}


def page_of(browser, project: int) -> str:
    from conftest import text_of
    return text_of(browser.get(f"/projects/{project}?year=2023").get_data(as_text=True))


def latest_adjustment(app) -> int:
    from models.target_adjustment import TargetAdjustment
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(TargetAdjustment.id).order_by(TargetAdjustment.id.desc())).first()


def form_token(browser, project: int) -> str:
    from conftest import csrf_token
    return csrf_token(browser, f"/projects/{project}?year=2023")


def test_on_the_page_tianbao_proposes_and_the_reviewer_approves(seeded, personas):
    from conftest import signed_in, text_of
    seeded.config["CLOCK"] = lambda: NOW
    project = personas.project_a
    py, ids = year_of(seeded, SPECIAL)
    area = ids["参展面积"]
    tianbao = signed_in(seeded, personas.manager_a)
    shown = page_of(tianbao, project)
    assert "提出目标调整" in shown and "本年度没有目标调整。" in shown and "批准第" not in shown

    token = form_token(tianbao, project)
    refused = tianbao.post(f"/projects/{project}/target-adjustments", headers=HX,
                           data={"csrf_token": token, "year": "2023", f"target-{area}": "≥300平方米", "reason": ""})
    assert refused.status_code == 422
    section = refused.get_data(as_text=True)
    assert 'id="ta-reason-error"' in section and "调整原因：必须填写" in text_of(section)
    assert 'value="≥300平方米"' in section                  # what was typed stays
    bad = tianbao.post(f"/projects/{project}/target-adjustments", headers=HX,
                       data={"csrf_token": token, "year": "2023", f"target-{area}": "/", "reason": REASON})
    assert bad.status_code == 422 and f'id="ta-target-{area}-error"' in bad.get_data(as_text=True)

    proposed = tianbao.post(f"/projects/{project}/target-adjustments",
                            data={"csrf_token": token, "year": "2023", f"target-{area}": "≥300平方米", "reason": REASON})
    assert proposed.status_code == 303 and proposed.headers["Location"].endswith("#target-adjustments")
    n = latest_adjustment(seeded)      # not 1 on PostgreSQL: the refused posts used up their ids
    shown = page_of(tianbao, project)
    assert f"第{n}号 待审核 填报人甲（tianbao） 于 2023-08-06 09:00 提出" in shown
    assert "参展面积 调整 ≥500平方米 ≥300平方米" in shown and f"调整原因 {REASON}" in shown
    assert f"第{n}号调整待审核" in shown                          # the form does not offer it again

    shenhe = signed_in(seeded, personas.supervisor_a)
    assert "提出目标调整" not in page_of(shenhe, project)
    token = form_token(shenhe, project)
    no_comment = shenhe.post(f"/target-adjustments/{n}/return", headers=HX, data={"csrf_token": token, "comment": ""})
    assert no_comment.status_code == 422 and "审核意见：必须填写" in text_of(no_comment.get_data(as_text=True))
    approved = shenhe.post(f"/target-adjustments/{n}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    shown = page_of(shenhe, project)
    assert f"已批准目标调整第{n}号（参展面积：≥500平方米 → ≥300平方米）" in shown
    assert f"第{n}号 已批准 填报人甲（tianbao） 于 2023-08-06 09:00 提出；shenhe 于 2023-08-06 09:00 批准" in shown
    assert shown.count(f"≥300平方米 原目标 ≥500平方米 （ 目标调整第{n}号 批准）") == 2   # the tracking row, the table
    assert shenhe.post(f"/target-adjustments/{n}/approve", data={"csrf_token": token}).status_code == 409


def test_the_decisions_are_the_reviewers_of_the_department(seeded, personas):
    from conftest import signed_in
    project = personas.project_a
    py, ids = year_of(seeded, SPECIAL)
    change = Caller(seeded, personas.manager_a).post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    tianbao = signed_in(seeded, personas.manager_a)
    token = form_token(tianbao, project)
    assert tianbao.post(f"/target-adjustments/{change}/approve", data={"csrf_token": token}).status_code == 403
    assert "批准第" not in page_of(tianbao, project)
    other = signed_in(seeded, add_user(seeded, "shenhe_fgw", "supervisor", department=DEPARTMENT_B))
    assert other.get(f"/projects/{project}?year=2023").status_code == 404
    token = form_token(other, personas.project_b)
    assert other.post(f"/target-adjustments/{change}/approve", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/target-adjustments/{change}/return", data={"csrf_token": token, "comment": "x"}).status_code == 404
    manager_b = signed_in(seeded, personas.manager_b)
    token = form_token(manager_b, personas.project_b)
    assert manager_b.post(f"/projects/{project}/target-adjustments",
                          data={"csrf_token": token, "year": "2023", "reason": REASON}).status_code == 404
    shenhe = signed_in(seeded, personas.supervisor_a)
    assert shenhe.post(f"/projects/{project}/target-adjustments",
                       data={"csrf_token": form_token(shenhe, project), "year": "2023", "reason": REASON}).status_code == 403
    assert f"批准第{change}号调整" in page_of(shenhe, project)
    assert f"批准第{change}号调整" in page_of(signed_in(seeded, personas.supervisor_all), project)


# --------------------------------------------------------------------------- the migration

def test_the_migration_goes_down_and_up_again_keeping_the_imports_history(seeded, callers):
    """0015 makes target_change.batch_id optional for the versions approvals write; going down
    drops those with their proposals and keeps the imports' versions (SQLite and PostgreSQL)."""
    from alembic import command
    from sqlalchemy import inspect, text
    from models.migrate import alembic_config, upgrade
    py, ids = year_of(seeded, SPECIAL)
    store_forms(seeded, [set_annual_target(form_like(0), "参展企业数量", "≥80家", 80)], file_name="更正.pdf", sha="e" * 64)
    change = callers["tianbao"].post(f"/projects/{py}/target-changes", {
        "reason": REASON, "changes": [{"indicator_id": ids["参展面积"], "target": "≥300平方米"}]}).get_json()["id"]
    callers["shenhe"].post(f"/target-changes/{change}/approve")
    engine = seeded.extensions["engine"]
    engine.dispose()
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")
    tables = inspect(engine).get_table_names()
    assert "target_adjustment" not in tables and "target_adjustment_item" not in tables
    with engine.connect() as conn:
        kept = conn.execute(text("SELECT old_raw, new_raw, batch_id IS NOT NULL FROM target_change")).all()
    assert kept == [("≥70家", "≥80家", True)]
    upgrade(engine)
    assert callers["tianbao"].get(f"/projects/{py}/target-changes").get_json() == {"target_changes": []}
    project = callers["tianbao"].get(f"/projects/{py}", as_of="2023-08-06").get_json()
    assert annual(project, ids["参展企业数量"])["original_target"]["raw"] == "≥70家"
