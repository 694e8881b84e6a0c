"""A real browser: the 绩效自评 of 招商引资业务经费 at year end (today 2024-01-10). Its three
qualitative scores are still the bands' middles, marked 建议, so the 填报人's submission is
refused with the list of what is missing; the 审核人 sets the scores inside their bands; then
the 填报人 submits. The 填报人 writes the 自评表's texts (实际完成情况, 评价结论, 存在问题, 改进措施)
and finds them on the printable form and in the xlsx; the 审核人 reads them. The page is looked
at on a desk (1366 px) and on a phone (390 px): nothing wider than the screen but the table,
which scrolls inside its panel.

Screenshots are kept in SCREENSHOTS=dir when asked. Under the app's own Content-Security-Policy;
any console or JavaScript error fails the test.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import DEPARTMENT_A, UNIT_A, add_user, project_id, seed_forms, store_forms
from live import live_server, page, playwright_api, sign_in  # noqa: F401 (fixtures)
from test_api import year_of
from test_evaluation_review import record, spend

expect = playwright_api.expect

pytestmark = pytest.mark.e2e

SERVICE = "招商引资业务经费"
JANUARY = datetime(2024, 1, 10, 2, 0, tzinfo=timezone.utc)
DESK, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


def year_end(app):
    """December entered for every indicator and the spending; 1-11月 explained as not reported,
    and the analysis written wherever marks are missing — only the two scores are left."""
    from datetime import date

    from models.db import get_session, transaction
    from models.project import ProjectYear
    from reads.self_evaluation import score_table
    from services.self_evaluation import save_self_evaluation
    py, ids = year_of(app, SERVICE)
    for name, values in (("会议服务次数", {"value": 100}), ("保障招商活动开展", {"assessment": "达成"}),
                         ("项目按时完成", {"assessment": "部分达成", "deviation_reasons": ["人员保障"]}),
                         ("成本指标", {"value": 70, "unit": "万元"}), ("对我省招商引资的作用", {"assessment": "达成"}),
                         ("服务投诉率", {"value": 5}), ("服务对象满意度", {"value": 95})):
        record(app, ids[name], 12, **values)
    spend(app, py, 12, 771100)
    with app.app_context():
        session = get_session()
        year = session.get(ProjectYear, py)
        table = score_table(session, year, date(2023, 12, 31))
        with transaction(session):
            save_self_evaluation(session, year, {}, {r.indicator.id: "偏差原因：人员调整；改进措施：提前部署"
                                                     for r in table.rows if not r.full_marks},
                                 "tianbao", JANUARY, date(2023, 12, 31), None,
                                 {gap.month: "1-11月未开展月度填报，以12月数据为准" for gap in table.completeness.gaps})
    return ids


def look(page, shots: Path, name: str) -> None:
    """At a desk and on a phone: the page is no wider than the screen (the table scrolls)."""
    for label, size in (("1366", DESK), ("390", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(shots / f"evaluation-{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-scroll'))
            .map(e => e.tagName + '.' + e.className).slice(0, 5)""")
        assert overflow <= 1, f"{name} at {label} px is {overflow} px wider than the screen: {wide}"
    page.set_viewport_size(DESK)


def at_year_end(live_server, tmp_path):
    """The seed at 2024-01-10 with `year_end`'s entries: (indicator ids, the 填报人, the 审核人,
    where screenshots go, the 自评 page's address)."""
    app = live_server.app
    app.config["CLOCK"] = lambda: JANUARY
    store_forms(app, seed_forms())
    ids = year_end(app)
    project = project_id(app, SERVICE)
    clerk = add_user(app, "tianbao", "manager", unit=UNIT_A)
    reviewer = add_user(app, "shenhe", "supervisor", department=DEPARTMENT_A)
    shots = Path(os.environ["SCREENSHOTS"]) if os.environ.get("SCREENSHOTS") else tmp_path
    return ids, clerk, reviewer, shots, f"{live_server.url}/projects/{project}/evaluation?year=2023"


def test_a_suggested_score_is_set_by_the_evaluator_and_then_the_evaluation_is_submitted(live_server, page, tmp_path):
    ids, clerk, reviewer, shots, url = at_year_end(live_server, tmp_path)

    sign_in(page, live_server, clerk)
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text("绩效自评")
    achieved = page.locator(f"#ev-{ids['保障招商活动开展']}")
    expect(achieved.locator(".score-cell")).to_contain_text("11.25")
    expect(achieved.locator(".badge-suggested")).to_have_text("建议")
    expect(page.locator(f"#ev-{ids['项目按时完成']} .score-cell")).to_contain_text("（不含10.00分）")
    expect(page.locator(".readiness")).to_contain_text("以下定性指标的得分仍为建议分")
    look(page, shots, "suggested")

    page.expected_statuses.add(422)
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator(".form-error")).to_contain_text("自评尚不能提交，请先补齐以下内容：")
    expect(page.locator(".form-error li")).to_have_text(
        ["以下定性指标的得分仍为建议分，请评价人（审核人）在区间内确定得分：保障招商活动开展、项目按时完成、对我省招商引资的作用"])
    expect(page.locator(".badge-review-draft")).to_have_text("草稿")

    page.context.clear_cookies()
    sign_in(page, live_server, reviewer)
    page.goto(url)
    page.get_by_label("保障招商活动开展的得分").fill("11")
    page.get_by_label("项目按时完成的得分").fill("9.5")
    page.get_by_label("对我省招商引资的作用的得分").fill("14")
    page.get_by_role("button", name="保存评分").click()
    expect(page.get_by_text("已保存评分。")).to_be_visible()
    expect(page.locator(".evaluation-table .badge-suggested")).to_have_count(0)
    # 10 + 产出 12.5 + 11 + 9.5 + 12.5 + 效益 14 + 15 + 满意度 10
    expect(page.locator(".ev-total")).to_have_text("94.50")
    look(page, shots, "scored")

    page.context.clear_cookies()
    sign_in(page, live_server, clerk)
    page.goto(url)
    expect(page.locator(".hint.ready")).to_contain_text("可以提交审核")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("已提交自评，等待审核人审核。")).to_be_visible()
    expect(page.locator(".badge-review-submitted")).to_have_text("已提交，待审核")
    look(page, shots, "submitted")


FORM_TEXTS = {"实际完成情况": "全年举办招商活动12场，年度总体目标基本完成。", "评价结论": "项目实施总体较好。",
              "存在问题": "部分活动筹备时间偏紧。", "改进措施": "提前制定年度活动计划。"}


def test_the_clerk_writes_the_forms_texts_and_finds_them_on_the_print_page_and_in_the_xlsx(live_server, page, tmp_path):
    """The 自评表's 实际完成情况, 评价结论, 存在问题 and 改进措施 are written on the 自评 page, read by
    the 审核人 there, printed on the A4 form and written in the xlsx, each in its row."""
    import io

    from openpyxl import load_workbook

    _ids, clerk, reviewer, shots, url = at_year_end(live_server, tmp_path)

    sign_in(page, live_server, clerk)
    page.goto(url)
    for label, text in FORM_TEXTS.items():
        page.get_by_label(label, exact=True).fill(text)
    page.get_by_role("button", name="保存完成情况及评价").click()
    expect(page.get_by_text("已保存权重、偏差原因分析和说明。")).to_be_visible()
    for label, text in FORM_TEXTS.items():
        expect(page.get_by_label(label, exact=True)).to_have_value(text)
    look(page, shots, "texts")

    page.get_by_role("link", name="打印").click()
    expect(page.locator(".sheet-title")).to_have_text("项目支出绩效自评表（2023年度）")
    expect(page.locator(".sheet-goal .goal-achieved")).to_have_text(FORM_TEXTS["实际完成情况"])
    closing = page.locator(".sheet-closing tr")
    expect(closing).to_have_count(3)
    for n, label in enumerate(("评价结论", "存在问题", "改进措施")):
        expect(closing.nth(n)).to_contain_text(label)
        expect(closing.nth(n).locator("td")).to_have_text(FORM_TEXTS[label])
    expect(page.locator(".sheet-signatures")).to_contain_text("项目负责人（签字）：")
    page.screenshot(path=str(shots / "evaluation-print.png"), full_page=True)

    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="导出自评表").click()
    ws = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).worksheets[0]
    found = {ws.cell(c.row, 1).value: ws.cell(c.row, 2).value for row in ws.iter_rows() for c in row[:1]}
    assert [found[label] for label in ("评价结论", "存在问题", "改进措施")] == [FORM_TEXTS[k] for k in ("评价结论", "存在问题", "改进措施")]
    goal = next(c.row for row in ws.iter_rows() for c in row[:1] if c.value == "年度总体目标")
    assert ws.cell(goal + 1, 7).value == FORM_TEXTS["实际完成情况"]

    page.context.clear_cookies()
    sign_in(page, live_server, reviewer)
    page.goto(url)
    texts = page.locator(".evaluation-texts")
    expect(texts.locator("textarea")).to_have_count(0)              # the 审核人 reads them
    for text in FORM_TEXTS.values():
        expect(texts).to_contain_text(text)
