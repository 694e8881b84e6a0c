"""A real browser through a monitoring round into 整改 (DOMAIN.md §8): the 填报人 of 山西省投资促进局
opens the round from the 工作台, finds the texts prefilled from the entries and submits; the
审核人 of 山西省商务厅 returns it (a comment is required), the 填报人 revises and submits again, the
审核人 requires 整改 with an item on 参展面积; the 填报人 answers it with an evidence file; the
审核人 closes it. Every form goes through htmx, without a reload. "Today" is 2023-08-06.

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test
(tests/e2e/live.py), except the 422s with which the pages refuse incomplete forms.
SCREENSHOTS=dir keeps pictures of each new page at 1366 and 390 px wide, to look at.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import DEPARTMENT_A, NOW, PROJECT_A, UNIT_A, add_user, project_id, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_api import year_of
from test_exports import record, spend

expect = playwright_api.expect

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SCREENSHOTS")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _switch(page, server, person) -> None:
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/login"))
    sign_in(page, server, person)


def test_a_round_through_review_into_rectification_and_back(live_server, page, tmp_path):
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    py, ids = year_of(app, PROJECT_A)
    record(app, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟")
    spend(app, py, 7, 15_000_000)
    manager = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报")
    reviewer = add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A, display_name="李审核")
    project = project_id(app, PROJECT_A)
    page.expected_statuses.add(422)

    # the 填报人: the 工作台 lists the round, the page comes prefilled
    sign_in(page, live_server, manager)
    owed = page.locator("section", has=page.get_by_role("heading", name=re.compile("^绩效运行监控")))
    expect(owed.get_by_role("heading", level=2)).to_contain_text("待提交 3 个项目")
    _look(page, owed, "workbench-rounds")
    owed.get_by_role("row", name=re.compile(PROJECT_A)).get_by_role("link", name="去填报").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("绩效运行监控")
    region = page.locator("#round")
    expect(region.locator("#round-state")).to_contain_text("未提交")
    expect(region.get_by_label("偏差原因")).to_have_value(re.compile("参展面积（红）：经费保障：场馆档期推迟"))
    expect(region.get_by_label("总体目标执行情况")).to_have_value(re.compile("预算执行率40.54%（序时进度58.33%）"))
    region.get_by_role("button", name="提交审核").click()
    expect(region.get_by_role("alert")).to_contain_text("提交前请填写改进（纠偏）措施")
    region.get_by_label("改进（纠偏）措施").fill("9月追加展位")
    _look(page, region, "round-form")
    region.get_by_role("button", name="提交审核").click()
    expect(region.get_by_role("status")).to_contain_text("已提交本轮监控")
    expect(region.locator("#round-state")).to_contain_text("已提交，待审核")
    expect(region.get_by_role("button", name="提交审核")).to_have_count(0)

    # the 审核人: the list, then 退回 with a comment
    _switch(page, live_server, reviewer)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="监控与整改").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("绩效运行监控")
    listing = page.locator("table.round-table")
    expect(listing.locator("tbody tr").first).to_contain_text("已提交，待审核")
    _look(page, page.locator("main"), "monitoring-list")
    listing.get_by_role("row", name=re.compile(PROJECT_A)).get_by_role("link", name="审核").click()
    region = page.locator("#round")
    region.get_by_role("button", name="退回").click()
    expect(region.get_by_role("alert")).to_contain_text("退回时请填写退回意见")
    region.get_by_label("审核意见").fill("纠偏措施请写明时间安排")
    region.get_by_role("button", name="退回").click()
    expect(region.locator("#round-state")).to_contain_text("已退回")
    expect(region.locator("table.review-steps")).to_contain_text("纠偏措施请写明时间安排")

    # the 填报人 revises and submits again
    _switch(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project}/monitoring/2023-07")
    region = page.locator("#round")
    expect(region.locator("table.review-steps")).to_contain_text("李审核（shenhe）")
    region.get_by_label("改进（纠偏）措施").fill("9月15日前追加展位200平方米")
    region.get_by_role("button", name="提交审核").click()
    expect(region.locator("#round-state")).to_contain_text("已提交，待审核")

    # the 审核人 requires 整改, with an item on 参展面积
    _switch(page, live_server, reviewer)
    page.goto(f"{live_server.url}/projects/{project}/monitoring/2023-07")
    region = page.locator("#round")
    expect(region.get_by_text("9月15日前追加展位200平方米")).to_be_visible()
    region.get_by_label("整改对象（1）").select_option(label="参展面积")
    region.locator("#requirement-1").fill("制定追赶计划并补充参展合同")
    region.locator("#due-1").fill("2023-08-31")
    _look(page, region, "round-review")
    region.get_by_role("button", name="需要整改").click()
    expect(region.locator("#round-state")).to_contain_text("需要整改")
    items = region.locator("table.rectifications-table")
    expect(items).to_contain_text("制定追赶计划并补充参展合同")
    expect(items).to_contain_text("待整改")
    _look(page, region, "round-reviewed")

    # the 填报人 answers it with evidence, from the 工作台
    _switch(page, live_server, manager)
    open_items = page.locator("section", has=page.get_by_role("heading", name=re.compile("^整改事项")))
    expect(open_items.get_by_role("heading", level=2)).to_contain_text("未关闭 1 项")
    _look(page, open_items, "workbench-rectifications")
    open_items.get_by_role("link", name=f"{PROJECT_A} · 参展面积").click()
    region = page.locator("#rectification")
    expect(region.locator("#rect-state")).to_contain_text("待整改")
    region.get_by_label("整改措施").fill("增订展位，9月展会补充布展")
    region.get_by_label("整改结果").fill("已签订展位合同，新增200平方米")
    evidence = Path(tmp_path) / "展位合同.pdf"
    evidence.write_bytes(PDF)
    region.get_by_label(re.compile("^上传佐证材料")).set_input_files(str(evidence))
    region.get_by_role("button", name="提交整改情况").click()
    expect(region.locator("#rect-state")).to_contain_text("已答复，待审核")
    expect(region.get_by_role("link", name="展位合同.pdf")).to_be_visible()
    _look(page, region, "rectification-answered")

    # the 审核人 closes it with a 整改结论
    _switch(page, live_server, reviewer)
    page.goto(f"{live_server.url}/rectifications")
    expect(page.locator("table.rectifications-table")).to_contain_text("已答复，待审核")
    _look(page, page.locator("main"), "rectification-list")
    page.locator("table.rectifications-table").get_by_role("link", name=re.compile("^第")).first.click()
    region = page.locator("#rectification")
    region.get_by_role("button", name="关闭（整改完成）").click()
    expect(region.get_by_role("alert")).to_contain_text("整改结论：必须填写")
    region.get_by_label("整改结论").fill("整改到位，同意关闭")
    region.get_by_role("button", name="关闭（整改完成）").click()
    expect(region.locator("#rect-state")).to_contain_text("已关闭")
    expect(region.locator("table.review-steps")).to_contain_text("整改到位，同意关闭")
    with page.expect_download() as info:
        region.get_by_role("link", name="展位合同.pdf").click()
    assert Path(info.value.path()).read_bytes() == PDF
    _look(page, region, "rectification-closed")

    page.goto(f"{live_server.url}/projects/{project}")
    section = page.locator("#monitoring")
    expect(section.get_by_role("heading", level=2)).to_contain_text("未关闭的整改事项 0 项")
    expect(section.locator("table.round-table")).to_contain_text("需要整改")
    _look(page, section, "project-monitoring")
    assert page.problems == [], "\n".join(page.problems)


def _look(page, region, name: str) -> None:
    """With SCREENSHOTS set: the region at 1366 px and at 390 px wide, and the whole page at 390."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        region.screenshot(path=str(folder / f"{name}-{width}.png"))
    page.screenshot(path=str(folder / f"{name}-page-390.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})
