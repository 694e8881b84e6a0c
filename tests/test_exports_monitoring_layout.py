"""The 监控表 in the official layout (issue 13.9), for the seed's 招商引资专项经费 with a budget cut
(37,000,000 − 7,000,000 from 2023-06-30), July entries and the July round submitted: every cell
the form lists is present and filled, in the xlsx (read back with openpyxl) and on the printable
A4 page — 年初预算数 / 调整后预算数 / 1-7月执行数 / 执行率 / 序时进度 / 全年预计执行数 in 万元, the
funds by source, 年度总体目标 with the round's 1-7月执行情况, the qualitative row's assessment and
text, 全年预计 always filled (derived ones say so), the 实施期 columns, 偏差原因分析 / 改进（纠偏）措施
/ 完成目标可能性 / 备注, the signatures; and the unit's 汇总 with 调整后预算数 and a 超额 count."""
from __future__ import annotations

import re

import pytest

from conftest import NOW, PROJECT_A, project_id, signed_in, text_of
from test_adjustments import CUT, Script
from test_api import year_of
from test_exports import _unit_export, find_row, record, spend, summary_row, workbook
from test_evaluation_review import SERVICE
from test_rounds import submit

GOAL_PROGRESS = "截至7月末，参展企业数量已过半，参展面积滞后。"
CORRECTION = "9月追加展位"


@pytest.fixture
def full(seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    py, ids = year_of(seeded, PROJECT_A)
    assert Script(seeded, personas.manager_a).post(f"/projects/{py}/budget-adjustments", CUT).status_code == 201
    record(seeded, ids["参展企业数量"], 7, value=100, forecast=120, likelihood="确定能", note="含线上参展企业",
           over_reason="线上展会带动")
    record(seeded, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟",
           likelihood="有可能")
    spend(seeded, py, 7, 15_000_000)
    manager = signed_in(seeded, personas.manager_a)
    assert submit(manager, personas.project_a, goal_progress=GOAL_PROGRESS, correction=CORRECTION).status_code == 303
    return py, ids, personas.project_a, None


def column(ws, header: int, label: str) -> int:
    return next(c.column for c in ws[header] if c.value == label)


def test_the_monitoring_xlsx_holds_every_cell_of_the_official_form(seeded, personas, full):
    _py, _ids, project, _q = full
    ws = workbook(signed_in(seeded, personas.supervisor_a)
                  .get(f"/projects/{project}/monitoring.xlsx?period=2023-07")).worksheets[0]
    funds = find_row(ws, "项目资金（万元）")
    heads = [ws.cell(funds, c).value for c in range(1, 9)]
    assert heads == ["项目资金（万元）", "年初预算数", "调整后预算数", "1-7月执行数", "执行率", "序时进度", "灯色",
                     "全年预计执行数"]
    total = [ws.cell(funds + 1, c).value for c in range(1, 9)]
    assert total[:3] == ["年度资金总额", 3700, 3000] and total[3] == 1500
    assert total[4] == pytest.approx(0.5) and total[5] == pytest.approx(0.5833, abs=1e-4) and total[6] == "绿"
    assert total[7] == "2,571.43（推算）" and ws.cell(funds + 1, 8).font.i      # derived: italic, says so
    assert "非填报数" in ws.cell(funds + 1, ws.max_column).value                     # 备注 says how
    assert [ws.cell(funds + 2, c).value for c in (1, 2, 3)] == ["其中：财政拨款", 3700, 3000]
    assert [ws.cell(funds + 3, c).value for c in (1, 2)] == ["其他资金", 0]
    assert "未按资金来源" in ws.cell(funds + 2, 4).value
    goal = find_row(ws, "年度总体目标")
    goal_heads = [c.value for c in ws[goal] if c.value]
    assert goal_heads == ["年度总体目标", "预期目标", "1-7月执行情况", "偏差原因分析", "改进（纠偏）措施",
                          "完成目标可能性", "备注"]
    goal_values = [c.value for c in ws[goal + 1] if c.value]
    assert goal_values[0].startswith("进一步加强经济合作") and goal_values[1] == GOAL_PROGRESS
    assert goal_values[2:] == ["参展面积：场馆档期推迟", CORRECTION, "有可能（据各指标）", "7月监控：已提交，待审核"]
    header = find_row(ws, "一级指标")
    labels = [c.value for c in ws[header]]
    assert labels == ["一级指标", "二级指标", "三级指标", "年度指标值", "实施期指标值", "实施期累计完成情况", "1-7月执行情况",
                      "全年预计完成情况", "灯色", "偏差原因分析", "改进（纠偏）措施", "完成目标可能性", "备注"]
    at = {label: column(ws, header, label) for label in labels}
    count = find_row(ws, "参展企业数量")
    row = {label: ws.cell(count, c).value for label, c in at.items()}
    assert (row["实施期指标值"], row["实施期累计完成情况"]) == ("≥100家", "截至2023年7月：100家（完成100.00%）")
    assert (row["1-7月执行情况"], row["全年预计完成情况"], str(row["灯色"])) == ("100家", "120家", "绿（超额）")
    assert (row["改进（纠偏）措施"], row["完成目标可能性"]) == ("无需纠偏", "确定能")
    assert row["备注"] == "含线上参展企业；超额原因：线上展会带动"
    area = {label: ws.cell(find_row(ws, "参展面积"), c).value for label, c in at.items()}
    assert area["全年预计完成情况"] == "17.14平方米（未填预计，按7月进度推算）"   # 10 / (7/12), marked derived
    assert (area["偏差原因分析"], area["改进（纠偏）措施"], area["灯色"]) == ("经费保障：场馆档期推迟", "见总体目标栏", "红")
    for r in range(header + 1, header + 15):                       # 全年预计 always filled
        if ws.cell(r, 3).value:
            assert ws.cell(r, at["全年预计完成情况"]).value, ws.cell(r, 3).value
    for c in (ws.cell(goal + 1, 5), ws.cell(count, at["备注"])):   # user text: text cells
        assert c.data_type == "s"
    everything = [c.value for line in ws.iter_rows() for c in line if isinstance(c.value, str)]
    for line in ("填报人：", "项目负责人：", "财务负责人：", "单位负责人（签字）：", "单位（盖章）"):
        assert line in everything
    assert any(v.startswith("填报日期：") for v in everything)
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == f"${header}:${header}"
    widths = [ws.column_dimensions[chr(64 + c)].width for c in range(1, 14)]
    assert all(w >= 9 for w in widths) and sum(widths) < 200
    yuan = workbook(signed_in(seeded, personas.supervisor_a)
                    .get(f"/projects/{project}/monitoring.xlsx?period=2023-07&unit=yuan")).worksheets[0]
    assert yuan.cell(find_row(yuan, "项目资金（元）") + 1, 3).value == 30_000_000


def test_the_printable_monitoring_page_holds_the_same_cells(seeded, personas, full):
    _py, _ids, project, _q = full
    client = signed_in(seeded, personas.supervisor_a)
    html = client.get(f"/projects/{project}/monitoring/print?period=2023-07").get_data(as_text=True)
    text = text_of(html)
    assert ("项目资金（万元） 年初预算数 调整后预算数 1-7月执行数 执行率 序时进度 灯色 全年预计执行数 偏差原因分析 "
            "完成目标可能性 备注") in text
    assert "年度资金总额 3,700.00 3,000.00 1,500.00 50.00% 58.33% 绿 2,571.43（推算）" in text
    assert "其中：财政拨款 3,700.00 3,000.00" in text and "其他资金 0.00 0.00" in text
    assert f"1-7月执行情况 偏差原因分析 改进（纠偏）措施 完成目标可能性 备注" in text
    assert f"{GOAL_PROGRESS} 参展面积：场馆档期推迟 {CORRECTION} 有可能（据各指标） 7月监控：已提交，待审核" in text
    assert ("参展企业数量 ≥70家 ≥100家 截至2023年7月：100家（完成100.00%） 100家 120家 绿超额 无需纠偏 确定能 "
            "含线上参展企业；超额原因：线上展会带动") in text.replace("绿 超额", "绿超额")
    assert re.search(r'class="derived">17\.14平方米（未填预计，按7月进度推算）<', html)
    for line in ("填报人：", "项目负责人：", "财务负责人：", "单位负责人（签字）：", "填报日期：", "单位（盖章）"):
        assert line in text
    yuan = text_of(client.get(f"/projects/{project}/monitoring/print?period=2023-07&unit=yuan").get_data(as_text=True))
    assert "项目资金（元）" in yuan and "年度资金总额 37,000,000.00 30,000,000.00 15,000,000.00" in yuan


def test_the_unit_summary_counts_over_achievement_beside_the_lights(seeded, personas, full):
    ws = _unit_export(seeded, signed_in(seeded, personas.supervisor_a), 7)["汇总"]
    assert [ws.cell(3, c).value for c in range(3, 15)] == [
        "年初预算数（万元）", "调整后预算数（万元）", "执行数（万元）", "执行率", "预算灯色", "年度指标", "绿", "黄", "红", "灰",
        "超额", "预算执行标记"]
    row = summary_row(ws, PROJECT_A)
    assert row[2:5] == [3700, 3000, 1500] and row[12] == 1


def test_a_qualitative_row_shows_the_assessment_with_the_text_written(seeded, personas, full):
    seeded.config["CLOCK"] = lambda: NOW
    _py, ids = year_of(seeded, SERVICE)
    record(seeded, ids["保障招商活动开展"], 7, assessment="部分达成", note="上半年保障活动12场，两场因场地延期",
           deviation_reasons=["人员保障"], likelihood="有可能")
    client = signed_in(seeded, personas.supervisor_a)
    project = project_id(seeded, SERVICE)
    ws = workbook(client.get(f"/projects/{project}/monitoring.xlsx?period=2023-07")).worksheets[0]
    header, row = find_row(ws, "一级指标"), find_row(ws, "保障招商活动开展")
    shown = {ws.cell(header, c).value: ws.cell(row, c) for c in range(1, ws.max_column + 1)}
    assert shown["1-7月执行情况"].value == "部分达成：上半年保障活动12场，两场因场地延期"
    assert shown["1-7月执行情况"].data_type == "s"
    assert shown["全年预计完成情况"].value == "部分达成（未填预计，按7月评估）"
    assert shown["备注"].value in (None, "")                     # the text is not written twice
    text = text_of(client.get(f"/projects/{project}/monitoring/print?period=2023-07").get_data(as_text=True))
    assert "部分达成：上半年保障活动12场，两场因场地延期 部分达成（未填预计，按7月评估）" in text


def test_the_fiscal_funds_of_a_year_only_form_are_its_fiscal_line():
    """A 年度-only form gives 其中：财政拨款 itself (no 中央/省级/市县 split): the 监控表 takes it, and an
    adjustment of the budget moves it, as it moves the split's sum."""
    from decimal import Decimal

    from models.project import ProjectYear
    from reads.monitoring import _funds

    py = ProjectYear(annual_total_yuan=Decimal(37_000_000), annual_fiscal_yuan=Decimal(30_000_000),
                     annual_other_yuan=Decimal(7_000_000))
    lines = _funds(py, Decimal(40_000_000))
    assert [(line.label, line.initial_yuan, line.adjusted_yuan) for line in lines] == [
        ("其中：财政拨款", 30_000_000, 33_000_000), ("其他资金", 7_000_000, 7_000_000)]
