"""A real browser signs in as the 填报人 of 山西省投资促进局, opens their project, is refused
another unit's project with the Chinese 404 page, and signs out: back at the login page, and
the project page they had open now leads to the login page too.

Under the app's own Content-Security-Policy; any console or JavaScript error fails the test
(tests/e2e/live.py), except the 404 this test asks for.
"""
from __future__ import annotations

import re

import pytest

from conftest import PROJECT_A, PROJECT_B, UNIT_A, add_user, project_id, seed_forms, store_forms, unit_b_form
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)

expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def test_sign_in_see_own_project_be_refused_another_and_sign_out(live_server, page):
    app = live_server.app
    store_forms(app, seed_forms())
    store_forms(app, [unit_b_form()], file_name="发改委.pdf", sha="b" * 64)
    manager = add_user(app, "tianbao", "manager", unit=UNIT_A, display_name="张填报")
    own, other = project_id(app, PROJECT_A), project_id(app, PROJECT_B)

    page.goto(f"{live_server.url}/projects")
    expect(page).to_have_url(re.compile(r"/login\?next=/projects$"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.get_by_label("用户名").fill(manager.username)
    page.get_by_label("密码").fill("错误的密码-wrong-password")
    page.expected_statuses.add(422)        # the refused login answers 422 (base.html's convention)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_have_text("用户名或密码错误")

    sign_in(page, live_server, manager)
    expect(page).to_have_url(re.compile(r"/$"))            # a 填报人 starts at the 工作台
    expect(page.locator(".whoami")).to_contain_text("张填报")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="项目").click()
    expect(page).to_have_url(re.compile(r"/projects$"))
    expect(page.get_by_role("navigation", name="主导航")).not_to_contain_text("用户管理")
    table = page.locator("#project-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(table).not_to_contain_text(PROJECT_B)
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-session")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"

    page.get_by_role("link", name=PROJECT_A).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PROJECT_A)
    own_url = page.url
    assert re.search(rf"/projects/{own}\?year=2023$", own_url)

    page.expected_statuses.add(404)
    response = page.goto(f"{live_server.url}/projects/{other}")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在，或您无权查看")
    expect(page.locator("main")).not_to_contain_text(PROJECT_B)

    page.goto(own_url)
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("您已退出登录。")
    expect(page.get_by_label("用户名")).to_be_visible()

    page.goto(own_url)                     # the page they had open is closed to them now
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    page.go_back()                         # nor does Back bring it back (pages are not stored)
    expect(page.get_by_role("heading", name="登录")).to_be_visible()
    assert page.problems == [], "\n".join(page.problems)
