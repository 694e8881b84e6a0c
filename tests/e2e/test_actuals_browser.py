"""A real browser: the 填报人 of 山西省投资促进局 signs in, goes from the 工作台 to 招商引资专项经费,
records July actuals (DOMAIN.md §6) — 参展企业数量 35 turns green; 参展面积 200 would be yellow, so
the page asks for a 偏差原因, which they give, and it is saved yellow — and finds the change in
the history. "Today" is 2023-08-06 (conftest.NOW) through config["CLOCK"].

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test
(tests/e2e/live.py), except the 422 with which the page asks for the reason.
"""
from __future__ import annotations

import re

import pytest

from conftest import NOW, PROJECT_A, UNIT_A, add_user, project_id, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)

expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def indicator_row(page, name: str):
    """The <tbody> of one indicator: its summary row and its entry form."""
    return page.locator("tbody.entry", has=page.get_by_role("rowheader", name=re.compile(name)))


def test_record_july_actuals_see_the_lights_give_a_reason_and_find_the_history(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    manager = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报")
    sign_in(page, live_server, manager)

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    overdue = page.locator("section", has=page.get_by_role("heading", name=re.compile("^已逾期")))
    expect(overdue).to_contain_text("招商引资专项经费 2023年7月")
    overdue.locator("tr", has_text=f"{PROJECT_A} 2023年7月").get_by_role("link", name="去填报").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROJECT_A)
    tracking = page.locator("#tracking")
    expect(tracking.get_by_role("heading", level=2)).to_contain_text("2023年7月")
    expect(tracking).to_contain_text("数据截至 2023年7月31日")

    count = indicator_row(page, "参展企业数量")
    expect(count.locator(".light-cell")).to_have_text("灰")            # past the 5th without the actual
    count.get_by_role("textbox", name=re.compile("^实际值")).fill("35")
    count.get_by_role("button", name="保存").click()
    expect(count.locator(".light-cell")).to_have_text("绿")
    expect(count.get_by_role("status")).to_contain_text("已保存2023年7月的实际值")
    expect(count.locator("tr.summary")).to_contain_text("35家")

    area = indicator_row(page, "参展面积")
    area.get_by_role("textbox", name=re.compile("^实际值")).fill("200")
    page.expected_statuses.add(422)        # the page asks for the reason with a 422 (base.html)
    area.get_by_role("button", name="保存").click()
    expect(area.get_by_role("alert")).to_have_text("当前为黄灯，请填写偏差原因")
    expect(area.locator("details.reasons")).to_have_attribute("open", "")
    expect(area.get_by_role("textbox", name=re.compile("^实际值"))).to_have_value("200")          # what was typed is still there
    expect(area.locator(".light-cell")).to_have_text("灰")             # nothing stored yet
    area.get_by_label("经费保障").check()
    area.get_by_label("偏差说明").fill("场馆档期推迟")
    area.get_by_role("button", name="保存").click()
    expect(area.locator(".light-cell")).to_have_text("黄")
    expect(area.get_by_role("status")).to_contain_text("已保存2023年7月的实际值")

    area.get_by_text("修改记录（1）").click()
    history = area.locator("table.actual-changes")
    expect(history).to_contain_text("张填报（tianbao）")
    expect(history).to_contain_text("2023-08-06 09:00")
    expect(history).to_contain_text("实际值：200平方米")
    expect(history).to_contain_text("偏差原因：经费保障")

    expect(page.locator(".light-counts")).to_contain_text("绿 1 黄 1 红 0 灰 12")
    page.reload()                          # stored: the lights are there on a fresh page too
    expect(page.locator(".light-counts")).to_contain_text("绿 1 黄 1 红 0 灰 12")
    expect(indicator_row(page, "参展面积").locator(".light-cell")).to_have_text("黄")
    assert page.problems == [], "\n".join(page.problems)


def test_a_qualitative_forecast_is_chosen_and_a_numeric_one_shows_its_unit(live_server, page):
    """全年预计 (DOMAIN.md §3): a select of 达成 / 部分达成 / 未达成 on a qualitative row; beside a
    number, the unit chosen for the actual value."""
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    sign_in(page, live_server, add_user(app, "tianbao", "manager", unit=UNIT_A))

    page.goto(f"{live_server.url}/projects/{project_id(app, '招商引资业务经费')}")
    activity = indicator_row(page, "保障招商活动开展")
    forecast = activity.get_by_label("全年预计")
    expect(forecast).to_have_js_property("tagName", "SELECT")
    activity.get_by_label("完成情况").select_option("部分达成")
    forecast.select_option("达成")
    activity.locator("details.reasons summary").click()
    activity.get_by_label("人员保障").check()
    activity.get_by_role("button", name="保存").click()
    expect(activity.get_by_role("status")).to_contain_text("已保存2023年7月的实际值")
    expect(activity.locator("td.forecast")).to_have_text("达成")
    expect(activity.get_by_label("全年预计")).to_have_value("达成")

    page.goto(f"{live_server.url}/projects/{project_id(app, PROJECT_A)}")
    cost = indicator_row(page, "业务成本")
    unit = cost.locator("[data-unit-of]")
    expect(unit).to_have_text("万元")                      # the target's unit (≤3700万元)
    cost.get_by_label("单位").select_option("元")
    expect(unit).to_have_text("元")                         # follows the actual's unit
    cost.get_by_role("textbox", name=re.compile("^实际值")).fill("20000000")
    cost.get_by_label("全年预计").fill("34000000")
    cost.get_by_role("button", name="保存").click()
    expect(cost.get_by_role("status")).to_contain_text("已保存2023年7月的实际值")
    expect(cost.locator("td.forecast")).to_have_text("34000000元")


def test_spending_below_last_month_asks_for_a_note_and_is_marked_on_the_page_and_the_chart(live_server, page):
    """June 1,500 万元, then July 1,200 万元: the page refuses July until a 说明 is given, then
    shows 冲减 with it beside the budget's light, and the drill-down's chart says 冲减 at July."""
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    manager = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报")
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects")
    page.get_by_role("link", name=PROJECT_A).first.click()
    page.get_by_label("填报期间").select_option("2023-06")
    expect(page.locator("#tracking h2")).to_contain_text("2023年6月")
    budget = page.locator("#budget")
    budget.get_by_role("textbox", name=re.compile("^累计支出")).fill("1500")
    budget.get_by_label("单位").select_option("万元")
    budget.get_by_role("button", name="保存支出").click()
    expect(budget.get_by_role("status")).to_contain_text("已保存2023年6月的累计支出")

    page.get_by_label("填报期间").select_option("2023-07")
    expect(page.locator("#tracking h2")).to_contain_text("2023年7月")
    budget.get_by_role("textbox", name=re.compile("^累计支出")).fill("1200")
    budget.get_by_label("单位").select_option("万元")
    page.expected_statuses.add(422)
    budget.get_by_role("button", name="保存支出").click()
    expect(budget.get_by_role("alert")).to_contain_text("累计支出 12,000,000.00 元低于2023年6月的 15,000,000.00 元（冲减）")
    expect(budget.get_by_label(re.compile("^说明"))).to_have_attribute("aria-invalid", "true")
    budget.get_by_label(re.compile("^说明")).fill("退回多拨资金300万元")
    budget.get_by_role("button", name="保存支出").click()
    expect(budget.get_by_role("status")).to_contain_text("已保存2023年7月的累计支出")
    expect(budget.locator(".light-cell")).to_contain_text("冲减")
    expect(budget.get_by_role("note")).to_have_text("冲减：退回多拨资金300万元")

    page.goto(f"{live_server.url}/reports/projects/{page.url.split('/projects/')[1].split('?')[0]}?year=2023")
    panel = page.locator("section", has=page.get_by_role("heading", name="预算执行"))
    expect(panel.locator("text.chart-mark")).to_have_text("冲减")
    expect(panel.locator(".spending-flags")).to_contain_text("7月 冲减：退回多拨资金300万元")
    assert page.problems == [], "\n".join(page.problems)
