"""A real browser, for the small things of issue #14: the unit export found from 报表 at the
latest year with projects; a console that stays clean through htmx swaps under the app's own
Content-Security-Policy (no inline indicator style); the browser's own validation bubbles in
Chinese; and the project list's light and 执行率 columns, at 1366 and 390 px.

Screenshots of the pages changed go to $SCREENSHOT_DIR when it is set (to look at them).
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import DEPARTMENT_A, NOW, PROJECT_A, UNIT_A, add_user, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_api import year_of
from test_exports import record, spend

expect = playwright_api.expect

pytestmark = pytest.mark.e2e

# Every Content-Security-Policy violation, also those the console would word differently.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for width in (1366, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})


def test_the_unit_export_is_found_from_the_reports_at_the_latest_year_with_projects(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)     # no 2026 projects
    store_forms(app, seed_forms())
    sign_in(page, live_server, add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A))
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="报表").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("绩效监控总览")
    page.get_by_role("link", name="导出监控表（按实施单位）").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("导出监控表")
    expect(page.get_by_label("年度")).to_have_value("2023")
    expect(page.locator(".export-year")).to_have_text("年度：2023年度")
    expect(page.get_by_label("实施单位")).to_contain_text(f"{UNIT_A}（3 个项目）")
    expect(page.get_by_text("没有您可以导出的项目")).to_have_count(0)
    shoot(page, "exports")


def test_htmx_swaps_leave_the_console_clean(live_server, page):
    app = live_server.app
    app.config["CLOCK"] = lambda: NOW
    store_forms(app, seed_forms())
    py, ids = year_of(app, PROJECT_A)
    record(app, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟")
    spend(app, py, 7, 12345678.9)
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报"))

    page.goto(f"{live_server.url}/projects")
    page.get_by_label("项目名称").fill("招商")                       # swap 1: the table, as one types
    expect(page).to_have_url(re.compile(r"q=%E6%8B%9B%E5%95%86"))
    expect(page.locator("#project-table tbody tr")).to_have_count(2)
    page.get_by_label("年度").select_option("2023")                    # swap 2
    expect(page).to_have_url(re.compile(r"year=2023"))
    row = page.locator("#project-table tbody tr", has_text=PROJECT_A)
    expect(row).to_contain_text("红")
    expect(row).to_contain_text("33.37% / 58.33%")
    shoot(page, "projects")

    page.goto(f"{live_server.url}/reports/alerts?year=2023")
    page.locator("select[name=kind]").select_option(index=1)         # swap 3: the alert list
    expect(page).to_have_url(re.compile(r"kind="))
    page.goto(f"{live_server.url}/reports/overview?as_of=2023-07-31")
    page.locator("#f-as-of").select_option(index=2)                  # swap 4: the overview
    expect(page).to_have_url(re.compile(r"as_of="))
    assert page.evaluate("window.__csp") == []
    styles = page.evaluate("Array.from(document.querySelectorAll('style')).map(s => s.textContent)")
    assert styles == [], "htmx inserted its indicator <style>"
    assert page.problems == [], "\n".join(page.problems)


def test_the_browsers_own_validation_speaks_chinese(live_server, page):
    app = live_server.app
    admin = add_user(app, "admin", "admin")
    page.goto(f"{live_server.url}/login")
    page.get_by_role("button", name="登录").click()                   # nothing typed
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.get_by_label("用户名").evaluate("e => e.validationMessage") == "请填写“用户名”"
    page.get_by_label("用户名").fill("admin")
    assert page.get_by_label("用户名").evaluate("e => e.validationMessage") == ""       # typed: no message left
    sign_in(page, live_server, admin)
    page.goto(f"{live_server.url}/admin/users/new")
    page.get_by_label("用户名").fill("zhangsan")
    page.get_by_label("邮箱").fill("not-an-address")
    page.locator("form button[type=submit].primary, form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/admin/users/new"))
    assert (page.get_by_label("邮箱").evaluate("e => e.validationMessage")
            == "请输入有效的邮箱地址，如 name@example.com")
    assert page.problems == [], "\n".join(page.problems)
