"""A real browser through a unit's 监控报告 (DOMAIN.md §8): the 填报人 of 山西省投资促进局 opens it from
the /monitoring round page, finds the draft written from the round's figures, writes 下一步工作措施,
saves and submits (htmx, no reload); the report turns read-only. The 审核人 of 山西省商务厅 finds it
on /monitoring, returns it with a comment; the 填报人 revises and submits again, and opens the A4
page. "Today" is 2023-08-06.

Any console or JavaScript error fails the test (tests/e2e/live.py), except the 422s with which
the pages refuse incomplete forms. SCREENSHOTS=dir keeps pictures at 1366 and 390 px wide, to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import DEPARTMENT_A, NOW, PROJECT_A, UNIT_A, add_user, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_api import year_of
from test_exports import record, spend

expect = playwright_api.expect

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SCREENSHOTS")


def _switch(page, server, person) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))
    sign_in(page, server, person)


def _look(page, name: str) -> None:
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def test_the_report_drafted_edited_submitted_returned_and_submitted_again(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    py, ids = year_of(app, PROJECT_A)
    record(app, ids["参展企业数量"], 7, value=100)
    record(app, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟",
           likelihood="有可能")
    spend(app, py, 7, 15_000_000)
    manager = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报")
    reviewer = add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A, display_name="李审核")
    page.expected_statuses.add(422)

    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/monitoring")
    page.get_by_role("link", name=f"{UNIT_A}1-7月监控报告").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("绩效运行监控报告")
    region = page.locator("#report")
    expect(region.locator("#report-state")).to_contain_text("未编写")
    expect(region.get_by_label("四、偏差情况及原因分析")).to_have_value(
        re.compile("参展面积（红灯）：年度指标值≥500平方米，1-7月执行情况：10平方米；偏差原因：经费保障：场馆档期推迟；完成可能性：有可能"))
    expect(region.get_by_label("五、超额完成情况")).to_have_value(re.compile("参展企业数量：年度指标值≥70家，1-7月执行情况：100家，超额完成"))
    expect(region.locator("table.report-budget")).to_contain_text("3,700.00")
    _look(page, "report-draft")

    region.get_by_role("button", name="提交").click()          # 下一步工作措施 still empty: refused
    expect(region.locator("#report-measures-error")).to_contain_text("提交前请填写“下一步工作措施”")
    region.get_by_label("七、下一步工作措施").fill("9月前落实展位，加快预算支付进度。")
    region.get_by_role("button", name="保存").click()
    expect(region.locator("#report-state")).to_contain_text("草稿（未提交）")
    region.get_by_role("button", name="提交").click()
    expect(region.locator("#report-state")).to_contain_text("已提交")
    expect(region.locator("textarea")).to_have_count(0)
    expect(region).to_contain_text("9月前落实展位，加快预算支付进度。")

    _switch(page, live_server, reviewer)
    page.goto(f"{live_server.url}/monitoring")
    page.get_by_role("link", name=f"{UNIT_A}1-7月监控报告").click()
    region = page.locator("#report")
    expect(region.locator("#report-state")).to_contain_text("已提交")
    region.get_by_label("退回意见").fill("请补充预算执行偏慢的原因")
    region.get_by_role("button", name="退回修改").click()
    expect(region.locator("#report-state")).to_contain_text("已退回")

    _switch(page, live_server, manager)
    page.goto(f"{live_server.url}/monitoring")
    page.get_by_role("link", name=f"{UNIT_A}1-7月监控报告").click()
    region = page.locator("#report")
    expect(region).to_contain_text("主管部门已退回：请补充预算执行偏慢的原因")
    region.get_by_label("二、预算执行情况").fill("预算执行偏慢：展会推迟至9月。")
    region.get_by_role("button", name="提交").click()
    expect(region.locator("#report-state")).to_contain_text("已提交")
    expect(region.locator(".review-steps")).to_contain_text("请补充预算执行偏慢的原因")
    _look(page, "report-submitted")

    page.get_by_role("link", name="打印（A4）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{UNIT_A}2023年1-7月绩效运行监控报告")
    expect(page.locator("main")).to_contain_text("预算执行偏慢：展会推迟至9月。")
    expect(page.locator("table.report-budget")).to_contain_text("合计")
