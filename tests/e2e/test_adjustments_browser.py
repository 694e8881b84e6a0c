"""A real browser: the 填报人 of 山西省投资促进局 records a 调减 of 700万元 from 2023-06-30 on
招商引资专项经费's page (DOMAIN.md §7). A form without its 文号 is refused beside the field with
what was typed kept; once complete, the history shows it and the budget row of the entry
section — 15,000,000 spent by July — turns from 37,000,000 yellow to 30,000,000, 50 % and green
without a reload. A 审核人 of the 主管部门 sees the history and no form. "Today" is 2023-08-10.

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test
(tests/e2e/live.py), except the 422 with which the page refuses the form.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import DEPARTMENT_A, PROJECT_A, UNIT_A, add_user, project_id, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)

expect = playwright_api.expect

pytestmark = pytest.mark.e2e
TODAY = datetime(2023, 8, 10, 1, 0, tzinfo=timezone.utc)       # 09:00 in Asia/Shanghai
# SCREENSHOTS=dir keeps a picture of the section at a desktop's and a phone's width, to look at.
SCREENSHOTS = os.environ.get("SCREENSHOTS")


def _spend_july(app, py_id: int) -> None:
    from models.db import get_session, transaction
    from models.project import ProjectYear
    from services.entry import Context, record_spending
    with app.app_context():
        session = get_session()
        with transaction(session):
            record_spending(session, session.get(ProjectYear, py_id), 2023, 7, 15_000_000, Context("tianbao", TODAY))


def test_record_a_cut_and_watch_the_budget_row_follow(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: TODAY
    store_forms(app, seed_forms())
    manager = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报")
    project = project_id(app, PROJECT_A)
    from sqlmodel import Session, select
    from models.project import ProjectYear
    with Session(app.extensions["engine"]) as session:
        py_id = session.exec(select(ProjectYear.id).where(ProjectYear.project_id == project)).one()
    _spend_july(app, py_id)
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}/projects/{project}?period=2023-07")

    budget = page.locator("#budget")
    expect(budget.locator("table.budget-table tbody tr")).to_contain_text("37,000,000.00 37,000,000.00 15,000,000.00 40.54%")
    expect(budget.locator(".light-cell")).to_have_text("黄")
    section = page.locator("#adjustments")
    expect(section.get_by_role("heading", level=2)).to_contain_text("预算调整")
    expect(section).to_contain_text("没有预算调整")

    section.get_by_label("调减").check()
    section.get_by_role("textbox", name="金额").fill("700")
    section.get_by_label("调整日期").fill("2023-06-30")
    section.get_by_role("textbox", name="调整原因").fill("年中压减一般性支出")
    page.expected_statuses.add(422)
    section.get_by_role("button", name="登记调整").click()
    expect(section.get_by_role("alert")).to_have_text("文号：必须填写")
    expect(section.get_by_role("textbox", name="金额")).to_have_value("700")         # what was typed is kept
    expect(section.get_by_label("调减")).to_be_checked()
    expect(section.get_by_role("textbox", name="文号")).to_have_attribute("aria-invalid", "true")

    section.get_by_role("textbox", name="文号").fill("晋财预〔2023〕12号")
    section.get_by_role("button", name="登记调整").click()
    expect(section.get_by_role("status")).to_contain_text("已登记调减 700.00 万元（2023-06-30起")
    row = section.locator("table.adjustments-table tbody tr").first
    expect(row).to_contain_text("2023-06-30")
    expect(row).to_contain_text("调减")
    expect(row).to_contain_text("3,000.00")
    expect(row).to_contain_text("张填报（tianbao）")
    expect(section.locator("[data-budget=adjusted]")).to_contain_text("3,000.00 万元")
    expect(section.get_by_role("textbox", name="金额")).to_have_value("")             # ready for the next one
    # the entry section's budget row came along (out of band): July against 30,000,000
    expect(budget.locator("table.budget-table tbody tr")).to_contain_text("37,000,000.00 30,000,000.00 15,000,000.00 50.00%")
    expect(budget.locator(".light-cell")).to_have_text("绿")
    _look(page, section, "adjustments")

    page.reload()
    expect(page.locator("#adjustments table.adjustments-table tbody tr").first).to_contain_text("晋财预〔2023〕12号")
    expect(page.locator("#budget .light-cell")).to_have_text("绿")
    assert page.problems == [], "\n".join(page.problems)


def test_a_supervisor_reads_the_history_without_a_form(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: TODAY
    store_forms(app, seed_forms())
    project = project_id(app, PROJECT_A)
    from sqlmodel import select
    from models.db import get_session, transaction
    from models.project import ProjectYear
    from services.adjustment import AdjustmentInput, record_adjustment
    with app.app_context():
        session = get_session()
        with transaction(session):
            py = session.exec(select(ProjectYear).where(ProjectYear.project_id == project)).one()
            record_adjustment(session, py, AdjustmentInput(amount_yuan=2_500_000, date="2023-10-08", doc_no="晋财预〔2023〕88号",
                                                           reason="追加展会经费"), "tianbao", TODAY, app.config)
    supervisor = add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A)
    sign_in(page, live_server, supervisor)
    page.goto(f"{live_server.url}/projects/{project}")
    section = page.locator("#adjustments")
    expect(section.locator("table.adjustments-table tbody tr").first).to_contain_text("追加")
    expect(section.locator("table.adjustments-table tbody tr").first).to_contain_text("未生效")               # from October
    expect(section.locator("[data-budget=adjusted]")).to_contain_text("3,700.00 万元")
    expect(section.get_by_role("button", name="登记调整")).to_have_count(0)
    _look(page, section, "adjustments-supervisor")
    assert page.problems == [], "\n".join(page.problems)


def _look(page, section, name: str) -> None:
    """With SCREENSHOTS set: the section at 1366 px and at 390 px wide, and the whole page at 390."""
    if not SCREENSHOTS:
        return
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        section.screenshot(path=str(folder / f"{name}-{width}.png"))
    page.screenshot(path=str(folder / f"{name}-page-390.png"), full_page=True)
    page.locator("#budget").screenshot(path=str(folder / f"{name}-budget-390.png"))
    page.set_viewport_size({"width": 1440, "height": 900})
