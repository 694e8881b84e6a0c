"""A real browser imports the seed sample: upload → progress → review → confirm → projects.

Signed in as the admin (who may import any unit's forms). The server and browser come from
tests/e2e/live.py: the app's own strict Content-Security-Policy, and any console error or
uncaught JavaScript error fails the test.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import SEED_ANNUAL_COUNTS, SEED_PDF, add_user
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)

expect = playwright_api.expect

pytestmark = pytest.mark.e2e

# Screenshots land in docs/ (the README shows them) only when asked: SAVE_SCREENSHOTS=1.
DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_upload_review_confirm_and_find_the_projects(live_server, page, tmp_path):
    sign_in(page, live_server, add_user(live_server.app, "admin", "admin"))
    page.goto(f"{live_server.url}/imports/new")
    page.set_input_files("input[name=files]", str(SEED_PDF))
    page.get_by_role("button", name="上传并解析").click()

    # htmx follows HX-Redirect to the job page; the progress fragment polls until the review.
    page.wait_for_url(re.compile(r"/imports/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", name="核对解析结果", exact=True)).to_be_visible(timeout=60_000)
    summary = page.locator("#review-summary")
    expect(summary).to_contain_text("读出申报表 3 张")
    for name, count in SEED_ANNUAL_COUNTS.items():
        form = page.locator("article.form-review", has=page.get_by_role("heading", name=name))
        expect(form).to_contain_text(f"年度指标 {count} 个")
        expect(form.locator("table.indicators tbody tr")).to_have_count(count)
    expect(page.locator("article.form-review").first.locator(".badge-new").first).to_have_text("新增")
    shots = DOCS if os.environ.get("SAVE_SCREENSHOTS") else tmp_path
    # the top of the review down to the first form's indicator table
    page.screenshot(path=str(shots / "screenshot-review.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1440, "height": 1640})

    summary.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("heading", name="导入结果", exact=True)).to_be_visible()
    expect(page.locator("table.results")).to_contain_text("已导入")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="项目").click()
    table = page.locator("#project-table")
    for name, count in SEED_ANNUAL_COUNTS.items():
        row = table.locator("tbody tr", has=page.get_by_role("link", name=name))
        expect(row).to_contain_text("2023")
        expect(row.locator("td").nth(5)).to_have_text(str(count))          # 年度指标数, before 灯色 and 执行率

    # Filtering with htmx (under the strict CSP): the table narrows and the URL follows.
    page.get_by_role("searchbox").fill("网络")
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=%E7%BD%91%E7%BB%9C"))
    page.get_by_role("link", name="清除条件").first.click()
    expect(table.locator("tbody tr")).to_have_count(3)

    for name, count in SEED_ANNUAL_COUNTS.items():
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        expect(page.locator("h2", has_text="绩效指标")).to_contain_text(f"年度指标 {count} 个")
        expect(page.locator("table.indicators tbody tr")).to_have_count(count)
        if name == "招商引资专项经费":
            page.screenshot(path=str(shots / "screenshot-project.png"), full_page=True)
        page.go_back()

    assert page.problems == [], "\n".join(page.problems)
