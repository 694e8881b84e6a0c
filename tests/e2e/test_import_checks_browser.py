"""A real browser checks the fields OCR was unsure of, then confirms (services/import_checks.py).

Signed in as the admin. The pending job is made without OCR: its file "read" as a form that
carries `confidence`, as importers/form_checks.py gives it.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import add_user
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_views_import_checks import JOB, pending_ocr_job

expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def test_mark_correct_tick_and_confirm(live_server, page, tmp_path):
    pending_ocr_job(live_server.app)
    sign_in(page, live_server, add_user(live_server.app, "admin", "admin"))
    shots = Path(os.environ.get("SHOTS_DIR") or tmp_path)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/imports/{JOB}")
    confirm = page.locator("#review-summary").get_by_role("button", name="确认导入")
    expect(confirm).to_be_disabled()
    expect(page.locator("#review-summary")).to_contain_text("还有 3 项识别置信度低的字段未核对")
    page.screenshot(path=str(shots / "review-checks-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / "review-checks-390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # the mark on the indicator's cell leads to its line; a wrong correction is refused
    page.locator("table.indicators a.conf-mark").first.click()
    box = page.get_by_label("第1个指标 年度指标值（参展企业数量）")
    expect(box).to_have_value("≥7O家")
    page.expected_statuses.add(422)
    box.fill("≥7O家啊")
    page.get_by_role("button", name="保存核对结果").click()
    expect(page.locator(".field-error")).to_contain_text("不是有效的指标值")
    expect(page.locator(".flash, .alert").first).to_contain_text("本表的核对结果均未保存")
    page.screenshot(path=str(shots / "review-checks-error-1366.png"), full_page=False)

    page.get_by_label("第1个指标 年度指标值（参展企业数量）").fill("≥70家")
    page.get_by_label("年度资金总额（元）").fill("37,000,000")
    page.locator("tr", has_text="项目名称").get_by_label("核对无误").check()
    page.get_by_role("button", name="保存核对结果").click()
    expect(page.locator(".ocr-checks")).to_contain_text("已全部核对")
    expect(page.locator(".ocr-checks")).to_contain_text("识别为“≥7O家”")
    page.screenshot(path=str(shots / "review-checks-done-1366.png"), full_page=False)
    confirm = page.locator("#review-summary").get_by_role("button", name="确认导入")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.get_by_role("heading", name="导入结果", exact=True)).to_be_visible()
    page.get_by_role("link", name="招商引资专项经费").first.click()
    expect(page.locator("body")).to_contain_text("≥70家")
