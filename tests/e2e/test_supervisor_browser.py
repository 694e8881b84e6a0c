"""A real browser: the 审核人 of 山西省商务厅 opens the overview, filters to 山西省投资促进局, drills
down to a red indicator (参展面积, 10平方米 in July against ≥ its annual target), opens the project
page, downloads the 监控表 and finds in the file the figures the page showed: the budget's
执行率 and the red indicator's actual. "Today" is 2023-08-06 (conftest.NOW).

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from conftest import DEPARTMENT_A, NOW, PROJECT_A, UNIT_A, add_user, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_exports import record, spend
from test_api import year_of

expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def test_supervisor_drills_down_to_a_red_indicator_and_downloads_the_monitoring_table(live_server, page, tmp_path):
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    py, ids = year_of(app, PROJECT_A)
    record(app, ids["参展企业数量"], 7, value=35)
    record(app, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟")
    spend(app, py, 7, 12345678.9)
    reviewer = add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A)
    sign_in(page, live_server, reviewer)

    page.goto(f"{live_server.url}/reports/overview?as_of=2023-07-31")
    expect(page.get_by_role("heading", level=1)).to_have_text("绩效监控总览")
    department = next(o for o in page.locator("#f-department option").all_inner_texts() if DEPARTMENT_A in o)
    page.locator("#f-department").select_option(label=department)
    expect(page).to_have_url(re.compile(r"department=\d+"))      # htmx swapped the filters in
    expect(page.locator("#f-unit option", has_text=UNIT_A)).to_have_count(1)
    page.locator("#f-unit").select_option(label=UNIT_A)
    expect(page).to_have_url(re.compile(r"unit=\d+"))
    red = page.locator("section.red-projects")
    red.get_by_role("link", name=PROJECT_A).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PROJECT_A)
    row = page.locator("table.report-indicators tr", has=page.get_by_role("cell", name="参展面积", exact=True))
    expect(row.locator(".light")).to_have_text("红")
    row.get_by_role("link", name="查看").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROJECT_A)

    shown_rate = page.locator("#budget table.budget-table tbody td.num").nth(3).inner_text().strip()   # after 年初, 调整后, 累计支出
    area = page.locator("tbody.entry", has=page.get_by_role("rowheader", name=re.compile("参展面积")))
    shown_actual = area.locator("td.actual").inner_text().strip()
    expect(area.locator(".light-cell")).to_have_text("红")
    assert shown_actual == "10平方米" and shown_rate.endswith("%")

    with page.expect_download() as info:
        page.get_by_role("toolbar", name="自评与导出").get_by_role("link", name="导出监控表").click()
    target = Path(tmp_path) / "监控表.xlsx"
    info.value.save_as(target)
    ws = load_workbook(target).worksheets[0]
    assert ws["A1"].value == "项目支出绩效运行监控表（2023年7月）"
    rate_head = next(c for r in ws.iter_rows() for c in r if c.value == "执行率")     # the 项目资金 block's
    assert f"{ws.cell(rate_head.row + 1, rate_head.column).value * 100:.2f}%" == shown_rate
    area_row = next(c.row for r in ws.iter_rows() for c in r if c.value == "参展面积")
    heads = next([c.value for c in r] for r in ws.iter_rows() if r[0].value == "一级指标")   # the indicators' heads
    assert ws.cell(area_row, heads.index("1-7月执行情况") + 1).value == shown_actual
    assert ws.cell(area_row, heads.index("灯色") + 1).value == "红"
    assert page.problems == [], "\n".join(page.problems)
