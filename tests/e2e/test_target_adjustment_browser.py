"""A real browser: the 填报人 of 山西省投资促进局 proposes 参展面积 ≥500 → ≥300平方米 on the project page
(htmx swaps the 目标调整 section: first refused without a reason, then pending); the 审核人 of
山西省商务厅, on a phone-sized screen, returns nothing, approves it, and the page shows July's 200平方米
green beside the new target with 原目标 ≥500平方米. "Today" is 2023-08-06 (conftest.NOW).

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test.
"""
from __future__ import annotations

import re

import pytest

from conftest import DEPARTMENT_A, NOW, PROJECT_A, UNIT_A, add_user, project_id, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_api import year_of
from test_exports import record

expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def test_a_target_is_proposed_on_the_page_and_approved_on_a_phone(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    page.expected_statuses = {422}          # the refusals below answer 422, as base.html decides
    store_forms(app, seed_forms())
    _py, ids = year_of(app, PROJECT_A)
    record(app, ids["参展面积"], 7, value=200, deviation_reasons=["其他"])
    project = project_id(app, PROJECT_A)
    tianbao = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="填报人甲")
    sign_in(page, live_server, tianbao)

    page.goto(f"{live_server.url}/projects/{project}?year=2023#target-adjustments")
    section = page.locator("#target-adjustments")
    expect(section.get_by_text("本年度没有目标调整。")).to_be_visible()
    area = section.get_by_label(re.compile("^参展面积的新指标值"))
    expect(area).to_have_accessible_name("参展面积的新指标值（现行 ≥500平方米）")
    area.fill("≥300平方米")
    section.get_by_role("button", name="提交目标调整").click()
    expect(section.locator("#ta-reason-error")).to_have_text("调整原因：必须填写")
    expect(section.get_by_label(re.compile("^参展面积的新指标值"))).to_have_value("≥300平方米")    # kept
    section.get_by_label("调整原因").fill("展馆改造，可用展览面积缩减")
    section.get_by_role("button", name="提交目标调整").click()
    expect(section.get_by_role("status")).to_contain_text("等待主管部门审核；审核前原指标值继续有效")
    proposal = section.locator("article.proposal")
    expect(proposal.locator(".badge")).to_have_text("待审核")
    expect(proposal.get_by_role("row", name=re.compile("参展面积"))).to_contain_text("≥500平方米")
    row = page.locator("tbody.entry", has=page.get_by_role("rowheader", name=re.compile("参展面积")))
    expect(row.locator("td.target")).to_have_text("≥500平方米")          # pending: the old target stands
    expect(row.locator(".light-cell")).to_have_text("黄")
    page.context.clear_cookies()

    page.set_viewport_size({"width": 390, "height": 844})
    reviewer = add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A, display_name="审核人乙")
    sign_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/projects/{project}?year=2023#target-adjustments")
    decision = page.locator("#target-adjustments .decision")
    fits = "e => e.scrollWidth <= e.clientWidth + 1"
    assert page.locator("#target-adjustments").evaluate(fits), "the section is wider than the phone"
    decision.get_by_role("button", name="退回").click()
    expect(page.locator("#target-adjustments .field-error")).to_have_text("审核意见：必须填写")
    page.locator("#target-adjustments").get_by_role("button", name=re.compile("^批准第\\d+号调整$")).click()
    expect(page.locator(".alert-success")).to_contain_text("参展面积：≥500平方米 → ≥300平方米")

    row = page.locator("tbody.entry", has=page.get_by_role("rowheader", name=re.compile("参展面积")))
    expect(row.locator("td.target")).to_contain_text("≥300平方米原目标 ≥500平方米")
    expect(row.locator(".light-cell")).to_have_text("绿")
    expect(page.locator("#target-adjustments article.proposal .badge")).to_have_text("已批准")
    assert page.problems == [], "\n".join(page.problems)
