"""`flask demo seed` puts the sample projects to work, through the write use cases: 1–7月 entries
and spending, the 调减 of 招商引资专项经费 (37,000,000 − 7,000,000 from 2023-06-30), a pending
目标调整, and the 7月 monitoring round — one 通过, one 需要整改 whose 整改 item the 填报人 answered
and the 审核人 has yet to close. Each demo user sees them; a second seed adds nothing; `flask
check` finds nothing stale."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from conftest import Person, signed_in, text_of
from test_api import Api

AUGUST_10 = datetime(2023, 8, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PASSWORD = "演示密码-correct-horse-battery"
SPECIAL, BUSINESS, NETWORK = "招商引资专项经费", "招商引资业务经费", "网络运行维护费"


def person(app, username: str) -> Person:
    from models.user import User
    with Session(app.extensions["engine"]) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return Person(user.id, user.username, user.role, PASSWORD)


@pytest.fixture
def demo(app):
    app.config["CLOCK"] = lambda: AUGUST_10.astimezone(timezone.utc)
    runner = app.test_cli_runner()
    seeded = runner.invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0, seeded.output
    assert ("已添加演示填报：1–7月实际值和支出、招商引资专项经费调减700万元、一项待审核的目标调整、7月监控"
            "（招商引资专项经费已通过；招商引资业务经费需要整改，整改情况已填报、待审核）。") in seeded.output
    for name in ("tianbao", "shenhe", "admin"):
        assert runner.invoke(args=["users", "password", name, "--password", PASSWORD]).exit_code == 0
    return app


def projects(api: Api) -> dict[str, int]:
    return {p["name"]: p["id"] for p in api.get("/projects", year=2023).get_json()["projects"]}


def test_the_special_funds_budget_is_cut_from_june_30(demo):
    api = Api(demo, person(demo, "shenhe"))
    ids = projects(api)
    budget = api.get(f"/projects/{ids[SPECIAL]}", as_of="2023-08-06").get_json()["budget"]
    assert (budget["annual_yuan"], budget["initial_yuan"], budget["spent_yuan"], budget["execution_rate"],
            budget["light"]) == (30_000_000, 37_000_000, 15_000_000, 0.5, "green")
    [cut] = api.get(f"/projects/{ids[SPECIAL]}/budget-adjustments").get_json()["adjustments"]
    assert (cut["amount_yuan"], cut["date"], cut["doc_no"]) == (-7_000_000, "2023-06-30", "晋财预〔2023〕56号")
    assert cut["reason"].startswith("按省财政厅压减一般性支出的通知")
    assert api.get(f"/projects/{ids[SPECIAL]}", as_of="2023-06-06").get_json()["budget"]["annual_yuan"] == 37_000_000


def test_july_has_a_red_a_yellow_and_two_over_alerts_the_rest_on_pace(demo):
    api = Api(demo, person(demo, "shenhe"))
    ids = projects(api)
    lights = {}
    for name, py in ids.items():
        for ind in api.get(f"/projects/{py}", as_of="2023-08-06").get_json()["indicators"]:
            if ind["scope"] == "annual":
                lights[(name, ind["level3"])] = (ind["light"], ind["over"])
    off = {key: value for key, value in lights.items() if value != ("green", False)}
    assert off == {(SPECIAL, "参展企业数量"): ("green", True), (SPECIAL, "参展面积"): ("yellow", False),
                   (BUSINESS, "会议服务次数"): ("red", False), (NETWORK, "官方网站更新消息数量"): ("green", True)}
    alerts = api.get("/alerts", year=2023).get_json()["alerts"]
    assert sorted((a["kind"], a["light"], a["period"]) for a in alerts) == [
        ("light", "red", "2023-07"), ("light", "yellow", "2023-07"), ("over", "blue", "2023-07"), ("over", "blue", "2023-07")]


def test_the_target_change_waits_for_the_supervisor(demo):
    from models.target_adjustment import TargetAdjustment
    with Session(demo.extensions["engine"]) as session:
        [proposal] = session.exec(select(TargetAdjustment)).all()
        assert (proposal.state, proposal.proposed_by) == ("pending", "tianbao")
    supervisor = signed_in(demo, person(demo, "shenhe"))
    ids = projects(Api(demo, person(demo, "shenhe")))
    page = text_of(supervisor.get(f"/projects/{ids[SPECIAL]}?year=2023").get_data(as_text=True))
    assert "≥300平方米" in page and "受省外展会场馆改造影响" in page
    clerk = text_of(signed_in(demo, person(demo, "tianbao")).get("/").get_data(as_text=True))
    assert f"{SPECIAL} · 目标调整第{proposal.id}号" in clerk and "等待主管部门审核" in clerk


def test_the_july_round_one_approved_one_needing_rectification_answered(demo):
    from models.monitoring import MonitoringSubmission
    from models.project import Project, ProjectYear
    with Session(demo.extensions["engine"]) as session:
        states = dict(session.exec(select(Project.name, MonitoringSubmission.state)
                                   .join(ProjectYear, ProjectYear.id == MonitoringSubmission.project_year_id)
                                   .join(Project, Project.id == ProjectYear.project_id)).all())
    assert states == {SPECIAL: "approved", BUSINESS: "rectify"}
    supervisor = Api(demo, person(demo, "shenhe"))
    [item] = supervisor.get("/rectifications", state="all").get_json()["rectifications"]
    assert item["state"] == "answered" and item["project_id"] == projects(supervisor)[BUSINESS]
    assert item["requirement"].startswith("会议服务次数严重滞后") and item["due"] == "2023-09-15"
    # the 审核人's 整改 list shows it waiting; the 填报人's 工作台 too; the third project still owes the round
    waiting = text_of(signed_in(demo, person(demo, "shenhe")).get("/rectifications").get_data(as_text=True))
    assert "会议服务次数严重滞后" in waiting and "已答复，待审核" in waiting
    clerk = text_of(signed_in(demo, person(demo, "tianbao")).get("/").get_data(as_text=True))
    rounds = clerk[clerk.index("绩效运行监控 待提交"):clerk.index("整改事项 未关闭")]
    assert rounds.startswith("绩效运行监控 待提交 1 个项目") and NETWORK in rounds and SPECIAL not in rounds
    assert "会议服务次数严重滞后" in clerk[clerk.index("整改事项 未关闭 1 项"):]


def test_a_second_seed_adds_nothing_and_check_finds_nothing_stale(demo):
    from models.actual import Actual, Alert
    runner = demo.test_cli_runner()

    def counts():
        with Session(demo.extensions["engine"]) as session:
            return len(session.exec(select(Actual.id)).all()), len(session.exec(select(Alert.id)).all())
    before = counts()
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0 and "示例项目已有填报、调整或监控记录，演示填报未再添加。" in again.output
    assert counts() == before and before[0] == 7 * (14 + 7 + 6)
    checked = runner.invoke(args=["check"])
    assert checked.exit_code == 0 and "所有存储的派生值与重新计算的结果一致" in checked.output, checked.output


def test_before_the_round_is_over_the_seed_adds_no_work(app):
    app.config["CLOCK"] = lambda: datetime(2023, 7, 20, 1, 0, tzinfo=timezone.utc)
    seeded = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0 and "还在2023年7月底之前，未添加演示填报" in seeded.output
