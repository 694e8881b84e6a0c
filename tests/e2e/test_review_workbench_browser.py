"""A real browser: the 审核人's 工作台 at year end (today 2024-01-10). tianbao submits the 自评 of
招商引资业务经费; shenhe signs in and lands on their 工作台, finds it there, follows the link and
returns it with a comment (in a second case approves it); tianbao's 工作台 says so, with the
comment, and the mail to tianbao is in the outbox. The 工作台 is looked at on a desk (1366 px) and
on a phone (390 px): the page never scrolls sideways.

Screenshots are kept in SCREENSHOTS=dir when asked. Under the app's own Content-Security-Policy;
any console or JavaScript error fails the test.
"""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_api import year_of
from test_evaluation_browser import DESK, PHONE, SERVICE, at_year_end
from test_evaluation_review import make_ready

expect = playwright_api.expect

pytestmark = pytest.mark.e2e


def set_email(app, username: str, address: str) -> None:
    from models.db import transaction
    from models.user import User
    with Session(app.extensions["engine"]) as session, transaction(session):
        user = session.exec(select(User).where(User.username == username)).one()
        user.email = address
        session.add(user)


def outbox(app) -> list:
    from models.outbox import OutboxMessage
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "self-evaluation")))


def look(page, shots, name: str) -> None:
    """At a desk and on a phone, the page is no wider than the screen."""
    for label, size in (("1366", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(shots / f"review-workbench-{name}-{label}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{name} at {label} px is {width} px wide"
    page.set_viewport_size(DESK)


def submitted(live_server, page, tmp_path):
    """tianbao submits the ready 自评; shenhe signs in and lands on the 工作台 that lists it."""
    app = live_server.app
    _ids, clerk, reviewer, shots, url = at_year_end(live_server, tmp_path)
    make_ready(app, year_of(app, SERVICE)[0])
    set_email(app, "tianbao", "tianbao@unit-a.example")

    sign_in(page, live_server, clerk)
    page.goto(url)
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交自评，等待审核人审核。")).to_be_visible()

    page.context.clear_cookies()
    sign_in(page, live_server, reviewer)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.locator(".review-counts li").first).to_contain_text("1自评待审核")
    waiting = page.locator("#evaluations")
    expect(waiting).to_contain_text(f"{SERVICE} · 2023年度自评")
    expect(waiting).to_contain_text("tianbao")
    expect(page.locator("#targets")).to_contain_text("暂无待审核的目标调整。")
    look(page, shots, "waiting")
    waiting.get_by_role("link", name=f"{SERVICE} · 2023年度自评").click()
    expect(page.locator(".badge-review-submitted")).to_have_text("已提交，待审核")
    return app, clerk, reviewer, shots


def test_a_returned_self_evaluation_goes_from_the_reviewers_workbench_to_the_managers(live_server, page, tmp_path):
    app, clerk, reviewer, shots = submitted(live_server, page, tmp_path)
    page.get_by_label("退回意见（必填）").fill("满意度调查结果请附问卷统计")
    page.get_by_role("button", name="退回").click()
    expect(page.get_by_text("已退回该项目的绩效自评。")).to_be_visible()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作台").click()
    expect(page.locator("#evaluations")).to_contain_text("暂无待审核的自评")

    [mail] = outbox(app)
    assert mail.subject == f"【绩效目标跟踪】{SERVICE}（2023年度）绩效自评已被退回"
    assert "tianbao@unit-a.example" in mail.to_address and "满意度调查结果请附问卷统计" in mail.text_body

    page.context.clear_cookies()
    sign_in(page, live_server, clerk)
    told = page.locator(".review-notices")
    expect(told).to_contain_text(f"{SERVICE} · 2023年度绩效自评")
    expect(told.locator(".badge")).to_have_text("已退回")
    expect(told).to_contain_text("审核意见：满意度调查结果请附问卷统计")
    for label, size in (("1366", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(shots / f"workbench-returned-{label}.png"), full_page=True)
    page.set_viewport_size(DESK)
    told.get_by_role("link").click()
    expect(page.locator(".badge-review-returned")).to_have_text("已退回")


def test_an_approved_self_evaluation_is_told_to_the_manager(live_server, page, tmp_path):
    app, clerk, reviewer, shots = submitted(live_server, page, tmp_path)
    page.get_by_role("button", name="通过", exact=True).click()
    expect(page.get_by_text("已通过该项目的绩效自评。")).to_be_visible()

    [mail] = outbox(app)
    assert mail.subject == f"【绩效目标跟踪】{SERVICE}（2023年度）绩效自评已通过审核"

    page.context.clear_cookies()
    sign_in(page, live_server, clerk)
    told = page.locator(".review-notices")
    expect(told.locator(".badge")).to_have_text("已通过")
    expect(told).to_contain_text("审核通过")
