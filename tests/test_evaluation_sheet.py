"""The 项目支出绩效自评表 in the official layout (issue 13.9; the published 自评表 of 云南 2020 and
四川 2023): for the seed's 招商引资专项经费 at year end — every indicator entered for 12月, a 调减 of
7,000,000 from 2023-06-30, 24,000,000 spent (80 % of 30,000,000: its reason written) and the
填报人's texts written on the 自评 page — each cell the form lists is present and filled, in the
xlsx (read back with openpyxl) and on the printable page: the 项目资金 block in 万元 with its
sources, 年度总体目标 (预期目标 / 实际完成情况), the indicators with 指标性质 / 指标值 / 度量单位
apart, 执行率偏低原因, 评价结论 / 存在问题 / 改进措施, the signatures with the date, 总分 and 等级."""
from __future__ import annotations

from datetime import date

import pytest

from conftest import PROJECT_A, csrf_token, signed_in, text_of
from test_adjustments import CUT, Script, at
from test_api import year_of
from test_exports import cells, find_row, workbook

DECEMBER = {     # 三级指标 → the 12月 entry
    "参展企业数量": {"value": 75}, "参展面积": {"value": 400}, "参加活动场次": {"value": 5},
    "国内开展活动场次": {"value": 3}, "公众号发布消息数量": {"value": 60}, "官方网站更新消息数量": {"value": 55},
    "发布宣传稿件数量": {"value": 12}, "活动举办成功率": {"value": 100}, "宣传报道及时率": {"value": 96},
    "业务成本": {"value": 2400, "unit": "万元"}, "签约项目到位资金": {"value": 900, "unit": "亿元"},
    "展会观众人次": {"value": 5, "unit": "万人次"}, "主流媒体报道次数": {"value": 25}, "投资者满意度": {"value": 96},
}
TEXTS = {
    "goal_achieved": "全年组织参展75家企业，签约项目到位资金900亿元，年度总体目标基本完成。",
    "conclusion": "项目总体完成较好，参展面积未达预期。",
    "problems": "场馆档期推迟，参展面积不足。",
    "improvements": "提前锁定场馆档期，加强预算执行监控。",
}
REASON = "部分展会延期至次年举办，相关支出未发生"
NOTE = "场馆档期推迟；改进措施：提前锁定场馆"


@pytest.fixture
def year_end(seeded, personas):
    """招商引资专项经费 at 2024-01-10 with its 12月 entries, the 调减 and the 填报人's texts."""
    at(seeded, date(2024, 1, 10))
    py, ids = year_of(seeded, PROJECT_A)
    api = Script(seeded, personas.manager_a)
    assert api.post(f"/projects/{py}/budget-adjustments", CUT).status_code == 201
    for name, body in DECEMBER.items():
        answer = api.put(f"/indicators/{ids[name]}/actuals/2023-12", {"deviation_reasons": ["其他"], **body})
        assert answer.status_code == 200, (name, answer.get_json())
    assert api.put(f"/projects/{py}/spending/2023-12", {"amount_yuan": 24_000_000}).status_code == 200
    clerk = signed_in(seeded, personas.manager_a)
    saved = clerk.post(f"/projects/{personas.project_a}/evaluation", data={
        "csrf_token": csrf_token(clerk, "/account"), "year": "2023", "execution_reason": REASON,
        f"note_{ids['参展面积']}": NOTE, **TEXTS})
    assert saved.status_code == 303, text_of(saved.get_data(as_text=True))
    return py, ids, personas.project_a


def row_values(ws, label: str) -> list:
    return [c.value for c in ws[find_row(ws, label)]]


def test_the_xlsx_holds_every_cell_of_the_official_form(seeded, personas, year_end):
    _py, _ids, project = year_end
    ws = workbook(signed_in(seeded, personas.supervisor_a).get(f"/projects/{project}/evaluation.xlsx")).worksheets[0]
    assert ws["A1"].value == "项目支出绩效自评表（2023年度）"
    # 项目资金（万元）: the heads, then 年度资金总额 and 其中 its sources
    heads = row_values(ws, "项目资金（万元）")
    assert [heads[c] for c in (3, 5, 6, 7, 8, 9)] == ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"]
    total = row_values(ws, "年度资金总额")
    assert total[3:] == [3700, None, 3000, 2400, 10, 0.8, 8]          # 年初 3,700 万元 (D:E merged), 全年 3,000
    assert ws.cell(find_row(ws, "年度资金总额"), 4).number_format == "#,##0.00"
    fiscal = row_values(ws, "其中：当年财政拨款")
    assert fiscal[3] == 3700 and fiscal[5:] == [None, None, "—", None, "—"]   # 调减 not split by source
    assert row_values(ws, "上年结转资金")[3] is None and row_values(ws, "其他资金")[3] == 0
    note = row_values(ws, "说明")[1]
    assert "上年结转资金：申报表未列明" in note and "预算调整未分资金来源" in note and "未分资金来源" in note
    assert row_values(ws, "执行率偏低原因")[1] == REASON
    # 年度总体目标
    goal = find_row(ws, "年度总体目标")
    assert (ws.cell(goal, 2).value, ws.cell(goal, 7).value) == ("预期目标", "实际完成情况")
    assert ws.cell(goal + 1, 2).value.startswith("进一步加强经济合作、招商引资")
    assert ws.cell(goal + 1, 7).value == TEXTS["goal_achieved"]
    # the indicators: 指标性质 / 指标值 / 度量单位 apart, every row filled
    head = find_row(ws, "一级指标")
    assert row_values(ws, "一级指标") == ["一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "实际完成值",
                                      "分值", "得分", "偏差原因分析及改进措施"]
    assert ws.print_title_rows == f"${head}:${head}"
    for name in DECEMBER:
        values = row_values(ws, name)
        assert all(v not in (None, "") for v in values[2:9]), (name, values)
    assert row_values(ws, "参展企业数量")[2:9] == ["参展企业数量", "≥", "70", "家", "75家", 50 / 10, 50 / 10]
    assert row_values(ws, "业务成本")[3:6] == ["≤", "3700", "万元"]
    area = row_values(ws, "参展面积")
    assert area[3:7] == ["≥", "500", "平方米", "400平方米"] and area[8] == 4 and area[9] == NOTE
    assert ws.cell(find_row(ws, "一级指标") + 1, 1).value == "产出指标"
    # 总分 and 等级, then the closing texts and the signatures
    total_row = row_values(ws, "总分")
    assert total_row[7:] == [100, 97, "评价等级：优"]         # 预算 8 + 产出 50 − 1 (参展面积) + 效益 30 + 满意度 10
    for label, column in (("评价结论", "conclusion"), ("存在问题", "problems"), ("改进措施", "improvements")):
        assert row_values(ws, label)[1] == TEXTS[column], label
    signed = [v for v in cells(ws) if isinstance(v, str) and "（签字）" in v]
    assert signed == ["项目负责人（签字）：杨晋权", "财务负责人（签字）："]
    assert any(isinstance(v, str) and v.startswith("填报日期：") for v in cells(ws))
    assert ws.page_setup.orientation == "portrait"


def test_the_print_page_holds_every_cell_of_the_official_form(seeded, personas, year_end):
    _py, _ids, project = year_end
    html = signed_in(seeded, personas.supervisor_a).get(f"/projects/{project}/evaluation/print").get_data(as_text=True)
    text = text_of(html)
    assert ("项目资金 （万元） 年初预算数 全年预算数 全年执行数 分值 执行率 得分 "
            "年度资金总额 3,700.00 3,000.00 2,400.00 10.00 80.00% 8.00 其中：当年财政拨款 3,700.00") in text
    assert "上年结转资金" in text and "其他资金 0.00" in text and "预算调整未分资金来源" in text
    assert f"执行率偏低原因 {REASON}" in text
    assert f"年度总体目标 预期目标 实际完成情况 进一步加强经济合作" in text and TEXTS["goal_achieved"] in text
    assert "一级指标 二级指标 三级指标 指标性质 指标值 度量单位 实际完成值 分值 得分 偏差原因分析及改进措施" in text
    assert "参展企业数量 ≥ 70 家 75家 5.00 5.00" in text
    assert f"参展面积 ≥ 500 平方米 400平方米 5.00 4.00 {NOTE}" in text
    assert "业务成本 ≤ 3700 万元 2400万元" in text
    for label, column in (("评价结论", "conclusion"), ("存在问题", "problems"), ("改进措施", "improvements")):
        assert f"{label} {TEXTS[column]}" in text
    assert "项目负责人（签字）： 杨晋权" in text and "财务负责人（签字）：" in text and "填报日期：" in text
    assert "总分 100.00 97.00 评价等级： 优" in text


def test_the_date_beside_the_signatures_is_the_day_of_submission(seeded, personas, year_end):
    from test_evaluation_review import make_ready
    py, _ids, project = year_end
    make_ready(seeded, py)
    clerk = signed_in(seeded, personas.manager_a)
    submitted = clerk.post(f"/projects/{project}/evaluation/submit",
                           data={"csrf_token": csrf_token(clerk, "/account"), "year": "2023"})
    assert submitted.status_code == 303, text_of(submitted.get_data(as_text=True))
    ws = workbook(clerk.get(f"/projects/{project}/evaluation.xlsx")).worksheets[0]
    assert "填报日期：2024年1月10日" in cells(ws)
    assert "填报日期： 2024年1月10日" in text_of(clerk.get(f"/projects/{project}/evaluation/print").get_data(as_text=True))


def test_the_texts_are_the_units_and_the_reviewer_reads_them(seeded, personas, year_end):
    _py, _ids, project = year_end
    page = text_of(signed_in(seeded, personas.supervisor_a).get(f"/projects/{project}/evaluation?year=2023")
                   .get_data(as_text=True))
    for column, words in TEXTS.items():
        assert words in page, column
    other = signed_in(seeded, personas.manager_b)
    refused = other.post(f"/projects/{project}/evaluation", data={
        "csrf_token": csrf_token(other, "/account"), "year": "2023", "conclusion": "改掉"})
    assert refused.status_code == 404
    reviewer = signed_in(seeded, personas.supervisor_a)
    assert reviewer.post(f"/projects/{project}/evaluation", data={
        "csrf_token": csrf_token(reviewer, "/account"), "year": "2023", "conclusion": "改掉"}).status_code == 403
    too_long = signed_in(seeded, personas.manager_a)
    answer = too_long.post(f"/projects/{project}/evaluation", data={
        "csrf_token": csrf_token(too_long, "/account"), "year": "2023", "problems": "长" * 2001})
    assert answer.status_code == 422 and "存在问题不能超过2000字" in text_of(answer.get_data(as_text=True))


def test_an_adjustment_after_the_last_spending_report_is_named_in_the_note(seeded, personas):
    """Spending reported up to September only and a 追加 of 8,000,000 from 2023-11-01: the 执行率 is
    of September's 37,000,000 (§7) and the 说明 row gives the budget in force at the evaluation."""
    at(seeded, date(2024, 1, 10))
    py, _ids = year_of(seeded, PROJECT_A)
    api = Script(seeded, personas.manager_a)
    assert api.put(f"/projects/{py}/spending/2023-09", {"amount_yuan": 18_500_000}).status_code == 200
    raise_ = {"amount_yuan": 8_000_000, "date": "2023-11-01", "doc_no": "晋财预〔2023〕30号", "reason": "追加展会经费"}
    assert api.post(f"/projects/{py}/budget-adjustments", raise_).status_code == 201
    ws = workbook(signed_in(seeded, personas.supervisor_a).get(f"/projects/{personas.project_a}/evaluation.xlsx"))
    sheet = ws.worksheets[0]
    total = row_values(sheet, "年度资金总额")
    assert (total[3], total[5], total[8]) == (3700, 3700, "截至9月：50.00%")
    assert "全年执行数为9月的填报数，全年预算数和执行率按该期末的预算数填列；其后调整，评价日的预算数为4,500.00万元" \
        in row_values(sheet, "说明")[1]
    assert "预算调整未分资金来源" not in row_values(sheet, "说明")[1]      # none in force by September's end
