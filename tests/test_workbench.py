"""The 填报人's 工作台 (home page): what is due, what is overdue, what is red, and the open alerts
with links to their rows. Others keep the project list as their home."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlmodel import Session, select

from conftest import NOW, PROJECT_A, csrf_token, signed_in, text_of
from models.actual import Alert
from models.project import Project
from test_reminders_cycle import at, cycle, enter, item_lines, message_to, set_emails
from test_views_actuals import indicator_id, record

UNIT_A_PROJECTS = (PROJECT_A, "招商引资业务经费", "网络运行维护费")


def entered_until_june(app, projects=UNIT_A_PROJECTS):
    """January to June entered (green) and their spending: only July is left to do."""
    for project in projects:
        enter(app, project, range(1, 7))


@pytest.fixture
def today_is(seeded):
    def set_clock(moment: datetime = NOW):
        seeded.config["CLOCK"] = lambda: moment
    set_clock()
    return set_clock


def section(html: str, title: str) -> str:
    """The text of one panel of the 工作台, by its heading."""
    match = re.search(rf'<h2 id="[\w-]+">{title}.*?</section>', html, flags=re.S)
    assert match, title
    return text_of(match.group(0))


def alerts(app) -> list[Alert]:
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(Alert).where(Alert.closed_at.is_(None))))


def every_alert(app) -> list[tuple]:
    """Every alert row as stored, open or closed: what a GET must leave as it was."""
    with Session(app.extensions["engine"]) as session:
        return [(a.id, a.kind, a.light, a.month, a.closed_at) for a in session.exec(select(Alert).order_by(Alert.id))]


def test_before_the_deadline_the_latest_period_is_due(seeded, personas, today_is):
    entered_until_june(seeded)
    today_is(datetime(2023, 8, 3, 1, 0, tzinfo=timezone.utc))
    client = signed_in(seeded, personas.manager_a)
    before = every_alert(seeded)
    html = client.get("/").get_data(as_text=True)
    due = section(html, "待填报")
    assert "待填报 3 个项目" in due
    assert "招商引资专项经费 2023年7月 8月5日 （还有 2 天） 缺指标 14/14 · 缺预算支出 去填报" in due
    assert "没有逾期未填报的期间。" in section(html, "已逾期")
    assert every_alert(seeded) == before               # a GET only reads


def test_after_the_deadline_missing_entries_are_overdue_and_the_cycle_raises_alerts_once(seeded, personas, today_is):
    entered_until_june(seeded)
    client = signed_in(seeded, personas.manager_a)
    record(client, seeded, "参展企业数量", value="35")
    before = every_alert(seeded)
    html = client.get("/").get_data(as_text=True)
    overdue = section(html, "已逾期")
    assert "已逾期 3 个项目" in overdue
    assert "招商引资专项经费 2023年7月 8月5日 逾期 1 天 缺指标 13/14：参展面积、参加活动场次" in overdue
    assert "参展企业数量、" not in overdue
    assert every_alert(seeded) == before                   # a GET only reads
    cycle = seeded.test_cli_runner()
    assert cycle.invoke(args=["reminders", "send", "--now", "2023-08-06T09:00"]).exit_code == 0
    opened = [a for a in alerts(seeded) if a.kind != "over"]
    # each missing indicator and each budget, of every unit: unit A's three projects, unit B's one
    assert len(opened) == (13 + 1 + 7 + 1 + 6 + 1) + (7 + 1)
    assert {(a.kind, a.month) for a in opened} == {("overdue", 7)}
    # June's entries at the full-year target are 超额 (p = 2): over alerts, never on the 工作台's 预警
    over = [a for a in alerts(seeded) if a.kind == "over"]
    assert over and {(a.light, a.month) for a in over} == {("blue", 6)}
    everything = every_alert(seeded)
    cycle.invoke(args=["reminders", "send", "--now", "2023-08-06T09:00"])
    assert every_alert(seeded) == everything               # a second cycle changes nothing
    listing = section(client.get("/").get_data(as_text=True), "未关闭的预警")
    # one row per project and period: unit A's 3 projects, not 29 rows; the indicators folded under it
    assert "灰 招商引资专项经费 14项未填报 预算执行 参展面积 参加活动场次" in listing and "逾期 2023年7月 2023-08-06 09:00" in listing
    assert listing.count("项未填报") == 3 and listing.count("逾期 2023年7月") == 3
    assert "未关闭的预警 29 条" in listing and "超额" not in listing          # unit A's: 13 + 1 + 7 + 1 + 6 + 1


def test_a_red_light_is_listed_with_a_link_to_its_row(seeded, personas, today_is):
    client = signed_in(seeded, personas.manager_a)
    record(client, seeded, "参展面积", value="50", deviation_reasons=["经费保障"])
    html = client.get("/").get_data(as_text=True)
    red = section(html, "红灯")
    assert "红灯 1 项" in red and "红 招商引资专项经费 · 参展面积 2023年7月起" in red
    ind = indicator_id(seeded, "参展面积")
    assert f'href="/projects/{personas.project_a}?year=2023&amp;period=2023-07#ind-{ind}"' in html
    record(client, seeded, "参展面积", value="500", version=1)                # green now: the alert closes
    assert "没有红灯。" in section(client.get("/").get_data(as_text=True), "红灯")


def test_a_project_with_everything_entered_is_neither_due_nor_overdue(seeded, personas, today_is):
    client = signed_in(seeded, personas.manager_a)
    project = "网络运行维护费"
    entered_until_june(seeded, [project])
    for level3, fields in (("官方网站更新消息数量", {"value": "150"}),
                           ("保障网站正常浏览,网站页面正常显示", {"assessment": "达成"}),
                           ("系统故障修复时间", {"value": "5"}), ("网站运行维护", {"value": "8"}),
                           ("宣传山西营商环境建设,提升招商引资形象", {"assessment": "达成"}),
                           ("使用人员满意度", {"value": "95"})):
        assert record(client, seeded, level3, project=project, **fields).status_code == 200, level3
    with Session(seeded.extensions["engine"]) as session:
        pid = session.exec(select(Project.id).where(Project.name == project)).one()
    client.post(f"/projects/{pid}/spending", data={"csrf_token": csrf_token(client, "/projects"),
                                                    "period": "2023-07", "amount": "90000"})
    overdue = section(client.get("/").get_data(as_text=True), "已逾期")
    assert "已逾期 2 个项目" in overdue and project not in overdue


def test_an_earlier_period_still_missing_is_overdue_on_the_workbench_as_in_the_mail(seeded, personas, today_is):
    """Issue #12: a mail named 2月、4月、7月、10月 while the 工作台 showed only 11月. Both now name
    every period whose deadline has passed this year with entries still missing."""
    set_emails(seeded, personas)
    for project in UNIT_A_PROJECTS:
        enter(seeded, project, [1, 3, 4, 5, 6, 7])                    # February left out
    enter(seeded, "网络运行维护费", [2])
    today_is(datetime(2023, 8, 7, 1, 0, tzinfo=timezone.utc))
    overdue = section(signed_in(seeded, personas.manager_a).get("/").get_data(as_text=True), "已逾期")
    assert "已逾期 2 个项目" in overdue
    assert f"{PROJECT_A} 2023年2月 3月5日" in overdue and "招商引资业务经费 2023年2月" in overdue
    assert "2023年7月" not in overdue and "网络运行维护费" not in overdue
    cycle(seeded, at(7))
    mail = message_to(seeded, personas.manager_a)
    assert "【2月实际值已逾期】" in mail.text_body and "7月实际值" not in mail.text_body
    assert {line.split("｜")[1] for line in item_lines(mail)} == {"2023年2月"}


def test_an_admin_keeps_the_project_list_as_their_home(seeded, personas, today_is):
    response = signed_in(seeded, personas.admin).get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/projects"
    response = signed_in(seeded, personas.supervisor_a).get("/")      # the 审核人's 工作台: test_review_workbench.py
    assert response.status_code == 200 and "绩效自评待审核" in response.get_data(as_text=True)


def test_the_top_bar_offers_the_workbench_and_bulk_entry_to_whom_it_concerns(seeded, personas, today_is):
    nav = {}
    for name in ("manager_a", "supervisor_a", "admin"):
        html = signed_in(seeded, getattr(personas, name)).get("/projects").get_data(as_text=True)
        nav[name] = text_of(re.search(r'<nav class="mainnav".*?</nav>', html, flags=re.S).group(0))
    assert "工作台" in nav["manager_a"] and "批量填报" in nav["manager_a"]
    assert "工作台" in nav["supervisor_a"] and "批量填报" not in nav["supervisor_a"]
    assert "工作台" not in nav["admin"]
    assert "批量填报" in nav["admin"]

