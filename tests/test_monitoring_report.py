"""The 监控报告 of a 实施单位 for a monitoring round (DOMAIN.md §8): its figures are the overview's
for that unit and date (the lights, the budget in force with 年初 beside it) and the projects'
监控表 (the indicators off track with their reasons and 完成可能性, the 超额 ones), with the unit's
整改 items; a first draft written from them that the 填报人 edits, saves and submits (read-only
from then on); the 审核人 of the 主管部门 reads it and may return it with a comment; the A4 page
and the .docx carry every section and table. "Today" is 2023-08-06 (conftest.NOW): the round as
of 7-31 is open, July's entry deadline (8-05) has passed."""
from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn

from conftest import DEPARTMENT_B, NOW, PROJECT_A, UNIT_A, add_user, csrf_token, signed_in, text_of
from test_api import Api, year_of
from test_exports import record, spend

ROUND = "2023-07"
HEADINGS = ("一、总体概况", "二、预算执行情况", "三、绩效目标完成情况", "四、偏差情况及原因分析", "五、超额完成情况",
            "六、整改情况", "七、下一步工作措施")
FIELDS = ("overview", "budget", "performance", "deviation", "over", "rectification", "measures")


def unit_id(app, name: str = UNIT_A) -> int:
    from sqlmodel import Session, select
    from models.org import Unit
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Unit.id).where(Unit.name == name)).one()


def url(unit: int, tail: str = "") -> str:
    return f"/units/{unit}/monitoring-report/{ROUND}{tail}"


@pytest.fixture
def july(seeded, personas):
    """招商引资专项经费 in July: 参展企业数量 100 (超额), 参展面积 10 (red, with a reason and 完成可能性),
    the budget 调减 by 7,000,000 from 6-30 and 15,000,000 spent; a 整改 item raised on it."""
    seeded.config["CLOCK"] = lambda: NOW
    py, ids = year_of(seeded, PROJECT_A)
    record(seeded, ids["参展企业数量"], 7, value=100)
    record(seeded, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟",
           likelihood="有可能")
    spend(seeded, py, 7, 15_000_000)
    manager = Api(seeded, personas.manager_a)
    adjusted = manager.client.post(f"/api/v1/projects/{py}/budget-adjustments", headers=manager.headers, json={
        "amount_yuan": -7_000_000, "date": "2023-06-30", "doc_no": "晋财预〔2023〕12号", "reason": "压减一般性支出"})
    assert adjusted.status_code == 201, adjusted.get_json()
    reviewer = Api(seeded, personas.supervisor_a)
    raised = reviewer.client.post(f"/api/v1/projects/{py}/rectifications", headers=reviewer.headers, json={
        "indicator_id": ids["参展面积"], "requirement": "请落实展位，加快参展面积进度", "due": "2023-09-30"})
    assert raised.status_code == 201, raised.get_json()
    personas.supervisor_b = add_user(seeded, "shenhe_b", "supervisor", department=DEPARTMENT_B)
    return seeded, personas


def figures(app, unit: int, on: date):
    from models.db import get_session
    from models.org import Department, Unit
    from reads.monitoring_report import report_figures
    from domain.monitoring import Round
    with app.app_context():
        session = get_session()
        u = session.get(Unit, unit)
        return report_figures(session, u, session.get(Department, u.department_id), Round(2023, 7, date(2023, 8, 15)),
                              on, app.config, 3)


def sections(client, unit: int) -> dict[str, str]:
    """The report's sections as the page shows them (the form's text, or the read-only text)."""
    page = client.get(url(unit)).get_data(as_text=True)
    found = {}
    for name in FIELDS:
        match = re.search(rf'<textarea id="report-{name}"[^>]*>(.*?)</textarea>', page, re.S)
        found[name] = match.group(1) if match else None
    return found


def save(client, unit: int, action: str = "save", **changes):
    token = csrf_token(client, url(unit))
    page = sections(client, unit)
    version = re.search(r'name="version" value="(\d+)"', client.get(url(unit)).get_data(as_text=True))
    data = {name: (text or "") for name, text in page.items()} | {"version": version.group(1) if version else ""}
    data = {k: v.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&#39;", "'")
            .replace("&#34;", '"') for k, v in data.items()}
    return client.post(url(unit), data={"csrf_token": token, "action": action, **data, **changes})


def captioned_tables(doc) -> dict[str, list[list[str]]]:
    """Each table of the .docx by the caption paragraph before it, as rows of cell texts."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    found, caption = {}, None
    for element in doc.element.body.iterchildren():
        if element.tag == qn("w:p"):
            caption = Paragraph(element, doc).text
        elif element.tag == qn("w:tbl"):
            found[caption] = [[cell.text for cell in row.cells] for row in Table(element, doc).rows]
    return found


def state_of(client, unit: int) -> str:
    return re.search(r"报告状态：\s*(\S+)", text_of(client.get(url(unit)).get_data(as_text=True))).group(1)


# --------------------------------------------------------------------------- the figures

@pytest.mark.parametrize("on", [date(2023, 8, 6), date(2023, 8, 3)])
def test_the_counts_and_the_budget_are_the_overviews_for_the_unit_and_date(july, on):
    """After July's deadline and before it (July entered for two indicators: the others judged on
    June, grey after the 5th): the report's counts and budget are the overview's, and the
    projects' 监控表 add up to the same counts."""
    app, p = july
    unit = unit_id(app)
    f = figures(app, unit, on)
    answer = Api(app, p.supervisor_all).get("/reports/overview", year=2023, as_of=on.isoformat()).get_json()
    (want,) = [u for d in answer["departments"] for u in d["units"] if u["name"] == UNIT_A]
    assert f.counts.as_dict() == want["counts"] and f.counts.indicators == want["indicators"]
    assert f.budget.as_dict() == want["budget"]
    summed = {light: sum(part.sheet.counts[light] for part in f.parts) for light in want["counts"]}
    assert summed == want["counts"]
    assert len(f.off_track) == want["counts"]["yellow"] + want["counts"]["red"] + want["counts"]["grey"]
    # the project's budget in force at the round (37,000,000 − 7,000,000 from 6-30), 年初 beside it
    (part,) = [part for part in f.parts if part.name == PROJECT_A]
    assert (part.sheet.adjusted_yuan, part.sheet.budget_yuan) == (30_000_000, 37_000_000)
    assert (part.sheet.execution.spent_yuan, part.sheet.execution.rate) == (15_000_000, 0.5)
    assert f.budget.initial_yuan - f.budget.annual_yuan == 7_000_000       # the unit's: 年初 beside 调整后


def test_the_figures_are_read_within_the_round():
    from domain.monitoring import Round
    from reads.monitoring_report import figures_date
    rnd = Round(2023, 7, date(2023, 8, 15))
    assert figures_date(rnd, date(2023, 7, 20)) == date(2023, 7, 31)        # before the round: its as-of date
    assert figures_date(rnd, date(2023, 8, 6)) == date(2023, 8, 6)
    assert figures_date(rnd, date(2023, 12, 1)) == date(2023, 8, 30)        # August not closed: still 1-7月
    assert figures_date(Round(2023, 12, date(2024, 1, 20)), date(2024, 3, 1)) == date(2024, 1, 30)


# --------------------------------------------------------------------------- the draft, edited and submitted

def test_the_draft_is_written_from_the_figures_edited_submitted_returned_and_submitted_again(july):
    app, p = july
    unit = unit_id(app)
    manager, reviewer = signed_in(app, p.manager_a), signed_in(app, p.supervisor_a)
    f = figures(app, unit, date(2023, 8, 6))
    c = f.counts

    assert state_of(manager, unit) == "未编写"
    draft = sections(manager, unit)
    assert f"绿灯{c.green}个、黄灯{c.yellow}个、红灯{c.red}个、灰灯（逾期未填报）{c.grey}个" in draft["overview"]
    b = f.budget
    assert (f"{b.projects}个项目全年预算数（调整后）3,093.17万元（年初预算数3,793.17万元），截至2023年7月末累计执行1,500.00万元，"
            f"预算执行率48.49%，序时进度58.33%，绿灯。") in draft["budget"]
    assert "执行偏慢的项目：招商引资业务经费（1-7月未填报支出，灰灯）" in draft["budget"]
    assert "招商引资专项经费·参展面积（红灯）：年度指标值≥500平方米，1-7月执行情况：10平方米；偏差原因：经费保障：场馆档期推迟；完成可能性：有可能" \
        in draft["deviation"]
    assert "招商引资专项经费·参展企业数量：年度指标值≥70家，1-7月执行情况：100家，超额完成。" in draft["over"]
    assert "待整改1项" in draft["rectification"] and "请落实展位，加快参展面积进度" in draft["rectification"]
    # the tables beside the text: the lights, the budget (万元: 年初 3,700.00, 调整后 3,000.00), the lists
    page = text_of(manager.get(url(unit)).get_data(as_text=True))
    assert "招商引资专项经费 3,700.00 3,000.00 1,500.00 50.00% 58.33%" in page
    assert "参展面积 ≥500平方米 10平方米 红 经费保障：场馆档期推迟 有可能" in page

    refused = save(manager, unit, "submit", measures="")
    assert refused.status_code == 422
    assert "提交前请填写“下一步工作措施”（没有的请写“无”）" in text_of(refused.get_data(as_text=True))
    assert state_of(manager, unit) == "未编写"                 # nothing stored by a refused submission

    assert save(manager, unit, measures="9月前落实展位；加快支付进度。").status_code == 303
    assert state_of(manager, unit) == "草稿（未提交）"
    assert sections(manager, unit)["measures"] == "9月前落实展位；加快支付进度。"
    assert "未编写" not in text_of(reviewer.get("/monitoring").get_data(as_text=True))

    assert save(manager, unit, "submit").status_code == 303
    assert state_of(manager, unit) == "已提交"
    assert sections(manager, unit) == dict.fromkeys(FIELDS)       # read-only: no form any more
    shown = text_of(manager.get(url(unit)).get_data(as_text=True))
    assert "9月前落实展位；加快支付进度。" in shown and "退回修改" not in shown
    late = manager.post(url(unit), data={"csrf_token": csrf_token(manager, url(unit)), "action": "save",
                                         "overview": "改写", "version": ""}, follow_redirects=True)
    assert "监控报告已提交，不能再修改" in text_of(late.get_data(as_text=True))

    seen = text_of(reviewer.get(url(unit)).get_data(as_text=True))
    assert "报告状态： 已提交" in seen and "9月前落实展位；加快支付进度。" in seen
    monitoring = reviewer.get("/monitoring").get_data(as_text=True)
    assert f'href="{url(unit)}"' in monitoring and "已提交" in monitoring
    token = csrf_token(reviewer, url(unit))
    no_comment = reviewer.post(url(unit, "/return"), data={"csrf_token": token, "comment": ""})
    assert no_comment.status_code == 422 and "退回时请填写退回意见" in text_of(no_comment.get_data(as_text=True))
    assert reviewer.post(url(unit, "/return"), data={"csrf_token": token, "comment": "请补充预算执行偏慢的原因"}).status_code == 303

    back = text_of(manager.get(url(unit)).get_data(as_text=True))
    assert "报告状态： 已退回" in back and "主管部门已退回：请补充预算执行偏慢的原因" in back
    assert save(manager, unit, "submit", budget="预算执行偏慢：展会推迟至9月。").status_code == 303
    final = text_of(reviewer.get(url(unit)).get_data(as_text=True))
    assert "报告状态： 已提交" in final and "预算执行偏慢：展会推迟至9月。" in final
    assert re.search(r"提交 .*退回 请补充预算执行偏慢的原因.*提交", final)


def test_a_report_cannot_be_submitted_before_the_round_opens(july):
    app, p = july
    app.config["CLOCK"] = lambda: NOW.replace(month=7, day=20)
    unit = unit_id(app)
    manager = signed_in(app, p.manager_a)
    page = manager.get(url(unit)).get_data(as_text=True)
    assert "7月31日后可以提交" in text_of(page)
    refused = save(manager, unit, "submit", measures="无")
    assert refused.status_code == 422
    assert "本轮监控截至7月31日，该日之后才能提交监控报告" in text_of(refused.get_data(as_text=True))


def test_who_may_read_write_and_return_the_report(july):
    app, p = july
    unit, other = unit_id(app), unit_id(app, "山西省国际经济合作中心")
    for person in (p.manager_b, p.supervisor_b):          # another unit's 填报人, another 主管部门's 审核人
        client = signed_in(app, person)
        for tail in ("", "/print", "/report.docx"):
            assert client.get(url(unit, tail)).status_code == 404
    for person in (p.manager_a, p.supervisor_a, p.supervisor_all, p.admin):
        assert signed_in(app, person).get(url(unit)).status_code == 200
    assert signed_in(app, p.manager_a).get(url(other)).status_code == 404
    reviewer = signed_in(app, p.supervisor_a)
    assert reviewer.post(url(unit), data={"csrf_token": csrf_token(reviewer, url(unit)), "action": "save",
                                          "overview": "审核人改写", "version": ""}).status_code == 403
    manager = signed_in(app, p.manager_a)
    assert manager.post(url(unit, "/return"), data={"csrf_token": csrf_token(manager, url(unit)),
                                                    "comment": "自己退回"}).status_code == 403
    assert signed_in(app, p.manager_a).get(f"/units/{unit}/monitoring-report/2023-06").status_code == 404   # no such round


# --------------------------------------------------------------------------- A4 and .docx

def test_the_printed_page_and_the_docx_carry_every_section_and_table(july):
    app, p = july
    unit = unit_id(app)
    manager = signed_in(app, p.manager_a)
    assert save(manager, unit, "submit", measures="9月前落实展位。").status_code == 303

    printed = text_of(manager.get(url(unit, "/print")).get_data(as_text=True))
    for heading in HEADINGS:
        assert heading in printed
    for caption in ("表1 绩效指标灯色统计（1-7月）", "表2 预算执行情况（万元）", "表3 偏离序时进度的指标", "表4 超额完成的指标",
                    "表5 整改事项"):
        assert caption in printed
    assert "山西省投资促进局2023年1-7月绩效运行监控报告" in printed and "填报单位（盖章）" in printed

    response = manager.get(url(unit, "/report.docx"))
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    doc = Document(BytesIO(response.data))
    paragraphs = [para.text for para in doc.paragraphs]
    assert paragraphs[0] == "山西省投资促进局2023年1-7月绩效运行监控报告"
    for heading in HEADINGS:
        assert heading in paragraphs
    assert "9月前落实展位。" in paragraphs
    assert any(text.startswith("日期：2023年8月6日") for text in paragraphs)
    tables = captioned_tables(doc)
    assert list(tables) == ["表1 绩效指标灯色统计（1-7月）", "表2 预算执行情况（万元）", "表3 偏离序时进度的指标",
                            "表4 超额完成的指标", "表5 整改事项"]
    counts = figures(app, unit, date(2023, 8, 6)).counts
    assert tables["表1 绩效指标灯色统计（1-7月）"][1] == [
        str(n) for n in (counts.indicators, counts.green, counts.yellow, counts.red, counts.grey, counts.pending)]
    budget = tables["表2 预算执行情况（万元）"]
    assert budget[0] == ["项目", "年初预算数", "调整后预算数", "1-7月执行数", "执行率", "序时进度", "灯色"]
    assert ["招商引资专项经费", "3,700.00", "3,000.00", "1,500.00", "50.00%", "58.33%", "绿"] in budget
    assert budget[-1][:3] == ["合计", "3,793.17", "3,093.17"]
    assert ["招商引资专项经费", "参展面积", "≥500平方米", "10平方米", "红", "经费保障：场馆档期推迟", "有可能"] in \
        tables["表3 偏离序时进度的指标"]
    assert tables["表4 超额完成的指标"][1][:4] == ["招商引资专项经费", "参展企业数量", "≥70家", "100家"]
    assert tables["表4 超额完成的指标"][1][-1] == "绿（超额）"
    assert tables["表5 整改事项"][1][:5] == ["招商引资专项经费", "参展面积", "请落实展位，加快参展面积进度", "2023-09-30", "待整改"]
    # each table follows its section's text
    order = [para.text for para in doc.paragraphs]
    assert order.index("二、预算执行情况") < order.index("表2 预算执行情况（万元）") < order.index("三、绩效目标完成情况")
    assert order.index("五、超额完成情况") < order.index("表4 超额完成的指标") < order.index("六、整改情况")
    # Chinese set in 宋体 with the eastAsia font named
    run = doc.paragraphs[paragraphs.index("9月前落实展位。")].runs[0]
    assert run._element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"
    assert doc.sections[0].page_width.mm == pytest.approx(210, abs=0.5)


def test_indicators_never_entered_are_named_together_not_one_by_one(july):
    app, p = july
    draft = sections(signed_in(app, p.manager_a), unit_id(app))["deviation"]
    assert "1-7月1-7月" not in draft
    assert re.search(r"1-7月未填报实际值的指标（灰灯）：招商引资专项经费：[^；]*官方网站更新消息数量", draft)
