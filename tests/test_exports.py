"""Exports: the 绩效运行监控表 and 绩效自评表 as xlsx (read back with openpyxl: titles, header
block, amounts, rates, lights, merged cells, print setup) and as printable A4 pages with the same
figures; scope (another unit's project 404, a unit export lists only what is in scope); the
unit export as a background job with progress, served only to whoever asked."""
from __future__ import annotations

import io
import re
import time
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from conftest import NOW, PROJECT_A, csrf_token, project_id, signed_in, text_of
from test_api import Api, year_of
from test_evaluation_review import SERVICE, service  # noqa: F401 (fixture)

JULY = datetime(2023, 7, 31, 12, 0, tzinfo=timezone.utc)


def record(app, indicator_id: int, month: int, **values):
    from models.actual import ActualInput
    from services.entry import Context, record_actual
    from models.db import get_session, transaction
    from models.indicator import Indicator
    from models.project import ProjectYear
    with app.app_context():
        session = get_session()
        ind = session.get(Indicator, indicator_id)
        with transaction(session):
            record_actual(session, ind, session.get(ProjectYear, ind.project_year_id), 2023, month,
                          ActualInput(**values), Context("tianbao", JULY))


def spend(app, py_id: int, month: int, amount, note: str | None = None):
    from services.entry import Context, record_spending
    from models.db import get_session, transaction
    from models.project import ProjectYear
    with app.app_context():
        session = get_session()
        with transaction(session):
            record_spending(session, session.get(ProjectYear, py_id), 2023, month, amount, Context("tianbao", JULY),
                            note=note)


@pytest.fixture
def july(seeded, personas):
    """招商引资专项经费 in July: 参展企业数量 35 (green), 参展面积 10 (red, with a reason), spending."""
    seeded.config["CLOCK"] = lambda: NOW
    py, ids = year_of(seeded, PROJECT_A)
    record(seeded, ids["参展企业数量"], 7, value=35, forecast=70, likelihood="确定能")
    record(seeded, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟",
           likelihood="有可能")
    spend(seeded, py, 7, 12345678.9)
    from models.project import ProjectYear
    with Session(seeded.extensions["engine"]) as session:
        budget = session.get(ProjectYear, py).annual_total_yuan
    return py, ids, personas.project_a, budget


def workbook(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return load_workbook(io.BytesIO(response.data))


def find_row(ws, name: str) -> int:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == name:
                return cell.row
    raise AssertionError(f"{name} not in {ws.title}")


def column_of(ws, label: str) -> int:
    """The column of a heading of the indicator table (the 实施期 columns come and go)."""
    return next(c.column for c in ws[find_row(ws, "一级指标")] if c.value == label)


def test_the_monitoring_xlsx_holds_the_official_layout_and_the_figures(seeded, personas, july):
    py, ids, project, budget = july
    book = workbook(signed_in(seeded, personas.supervisor_a).get(f"/projects/{project}/monitoring.xlsx?period=2023-07"))
    ws = book.worksheets[0]
    assert ws["A1"].value == "项目支出绩效运行监控表（2023年7月）"
    assert (ws["A3"].value, ws["B3"].value) == ("项目名称", PROJECT_A)
    assert ws["A4"].value == "主管部门" and "山西省商务厅" in ws["B4"].value
    assert ws["G4"].value == "实施单位" and ws["H4"].value == "山西省投资促进局"
    assert (ws["A5"].value, ws["G5"].value) == ("项目负责人", "联系电话")
    assert [ws.cell(6, c).value for c in (1, 2, 3, 4, 5, 7)] == ["项目资金（万元）", "年初预算数", "调整后预算数",
                                                                 "1-7月执行数", "执行率", "灯色"]
    assert Decimal(str(ws["B7"].value)) * 10_000 == budget and ws["B7"].number_format == "#,##0.00####"
    assert Decimal(str(ws["C7"].value)) * 10_000 == budget                                  # no adjustment
    assert Decimal(str(ws["D7"].value)) == Decimal("1234.56789")                            # 万元
    assert ws["E7"].value == pytest.approx(float(Decimal("12345678.9") / budget), abs=1e-4)
    assert ws["E7"].number_format == "0.00%"
    header = find_row(ws, "一级指标")
    assert [c.value for c in ws[header]] == ["一级指标", "二级指标", "三级指标", "年度指标值", "实施期指标值",
                                            "实施期累计完成情况", "1-7月执行情况", "全年预计完成情况", "灯色",
                                            "偏差原因分析", "改进（纠偏）措施", "完成目标可能性", "备注"]
    area = find_row(ws, "参展面积")
    assert ws.cell(area, 7).value == "10平方米" and ws.cell(area, 9).value == "红"
    assert ws.cell(area, 10).value == "经费保障：场馆档期推迟" and ws.cell(area, 12).value == "有可能"
    count = find_row(ws, "参展企业数量")
    assert (ws.cell(count, 7).value, ws.cell(count, 8).value, ws.cell(count, 9).value) == ("35家", "70家", "绿")
    merged = [str(r) for r in ws.merged_cells.ranges]
    assert "A1:M1" in merged and any(re.fullmatch(rf"A{header + 1}:A\d+", r) for r in merged)   # 一级 merged
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.print_title_rows == f"${header}:${header}" and ws.sheet_properties.pageSetUpPr.fitToPage


def test_the_printable_monitoring_page_has_the_same_figures_and_a4_print_css(seeded, personas, july, app):
    _py, _ids, project, budget = july
    client = signed_in(seeded, personas.supervisor_a)
    page = client.get(f"/projects/{project}/monitoring/print?period=2023-07")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(html)
    assert "项目支出绩效运行监控表（2023年7月）" in text and 'class="topbar"' not in html
    assert "1,234.56789" in text and f"{budget / 10_000:,.2f}" in text
    assert "参展面积 ≥" in text or "参展面积" in text
    assert "10平方米" in text and "经费保障：场馆档期推迟" in text
    css = client.get("/static/app.css").get_data(as_text=True)
    assert "@page monitoring-sheet { size: A4 landscape" in css and "@page evaluation-sheet { size: A4 portrait" in css
    assert "table.sheet thead { display: table-header-group; }" in css
    assert "print-landscape" in html


def test_the_monitoring_sheet_shows_a_qualitative_forecast_as_its_assessment_and_a_number_with_its_unit(
        seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    _py, service_ids = year_of(seeded, SERVICE)
    record(seeded, service_ids["保障招商活动开展"], 7, assessment="部分达成", forecast="达成",
           deviation_reasons=["人员保障"])
    record(seeded, service_ids["项目按时完成"], 6, assessment="达成", forecast="部分达成")   # July not entered
    _py, special_ids = year_of(seeded, PROJECT_A)
    record(seeded, special_ids["业务成本"], 7, value=2500, unit="万元", forecast=3600, deviation_reasons=["经费保障"])
    client = signed_in(seeded, personas.supervisor_a)
    shown = [(project_id(seeded, SERVICE), "保障招商活动开展", "达成"),
             (project_id(seeded, SERVICE), "项目按时完成", "部分达成（6月预计）"),
             (personas.project_a, "业务成本", "3600万元")]
    for project, name, forecast in shown:
        ws = workbook(client.get(f"/projects/{project}/monitoring.xlsx?period=2023-07")).worksheets[0]
        forecast_column = column_of(ws, "全年预计完成情况")
        assert ws.cell(find_row(ws, name), forecast_column).value == forecast, name
        html = client.get(f"/projects/{project}/monitoring/print?period=2023-07").get_data(as_text=True)
        row = next(r for r in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if f"<td>{name}</td>" in r)
        cells = [text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
        assert forecast in cells[cells.index(name) + 3:cells.index(name) + 6], (name, cells)


def test_exports_respect_the_scope(seeded, personas, july):
    _py, _ids, project, _budget = july
    other = signed_in(seeded, personas.manager_b)
    for path in ("monitoring.xlsx", "monitoring/print", "evaluation.xlsx", "evaluation/print"):
        assert other.get(f"/projects/{project}/{path}").status_code == 404
    assert signed_in(seeded, personas.manager_a).get(f"/projects/{project}/monitoring.xlsx").status_code == 200


def test_the_evaluation_xlsx_and_print_hold_the_score_table(seeded, personas, service):  # noqa: F811
    _py, _ids, project = service
    client = signed_in(seeded, personas.supervisor_a)
    ws = workbook(client.get(f"/projects/{project}/evaluation.xlsx")).worksheets[0]
    assert ws["A1"].value == "项目支出绩效自评表（2023年度）"
    assert ws["B3"].value == SERVICE
    assert ws["A6"].value == "项目资金（万元）" and ws["B7"].value == "年度资金总额"
    assert [ws.cell(6, c).value for c in (4, 6, 7, 8, 9, 10)] == ["年初预算数", "全年预算数", "全年执行数", "分值", "执行率",
                                                                "得分"]
    assert ws["D7"].value == ws["F7"].value == 77.11                       # 万元; no adjustment: 全年 = 年初
    assert ws["G7"].value == 77.11 and ws["I7"].value == 1 and ws["I7"].number_format == "0.00%"
    assert (ws["H7"].value, ws["J7"].value) == (10, 10)
    meetings = find_row(ws, "会议服务次数")
    assert [ws.cell(meetings, c).value for c in range(4, 10)] == ["≥", "100", "次", "100次", 12.5, 12.5]
    total = find_row(ws, "总分")
    assert ws.cell(total, 9).value == 42.5 and ws.cell(total, 10).value == "评价等级：差"
    assert ws.cell(find_row(ws, "产出指标小计"), 9).value == 32.5
    assert ws.page_setup.orientation == "portrait"
    text = text_of(client.get(f"/projects/{project}/evaluation/print").get_data(as_text=True))
    assert "项目支出绩效自评表（2023年度）" in text and "总分 100.00 42.50 评价等级： 差" in text


def _wait(app, job_id: str, timeout: float = 30):
    from models.export_job import ExportJob
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(app.extensions["engine"]) as session:
            job = session.get(ExportJob, job_id)
            if job.state in ("done", "failed"):
                return job
        time.sleep(0.1)
    raise AssertionError("export job did not finish")


def test_a_unit_export_runs_in_the_background_with_progress_and_lists_only_the_scope(seeded, personas, july):
    from models.org import Unit
    with Session(seeded.extensions["engine"]) as session:
        unit = session.exec(select(Unit).where(Unit.name == "山西省投资促进局")).one()
    client = signed_in(seeded, personas.supervisor_a)
    started = client.post("/exports", data={"csrf_token": csrf_token(client, "/exports"), "unit": unit.id,
                                            "year": "2023", "month": "7"})
    assert started.status_code == 303
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    job = _wait(seeded, job_id)
    assert (job.state, job.done, job.total) == ("done", 3, 3)
    fragment = client.get(f"/exports/{job_id}/progress").get_data(as_text=True)
    assert "已完成 3/3 个项目" in text_of(fragment) and f"/exports/{job_id}/download" in fragment
    book = workbook(client.get(f"/exports/{job_id}/download"))
    assert book.sheetnames[0] == "汇总" and len(book.sheetnames) == 4
    summary = book["汇总"]
    assert summary["A1"].value == "项目支出绩效运行监控汇总表（2023年7月）"
    names = [summary.cell(r, 2).value for r in range(4, 7)]
    assert sorted(names) == sorted(["招商引资专项经费", "招商引资业务经费", "网络运行维护费"])
    assert book[PROJECT_A]["A1"].value == "项目支出绩效运行监控表（2023年7月）"
    # only the user who asked gets the file; another unit's 填报人 cannot export this unit
    assert signed_in(seeded, personas.supervisor_all).get(f"/exports/{job_id}/download").status_code == 404
    other = signed_in(seeded, personas.manager_b)
    refused = other.post("/exports", data={"csrf_token": csrf_token(other, "/exports"), "unit": unit.id,
                                           "year": "2023", "month": "7"})
    assert refused.status_code == 404


# --------------------------------------------------------------------------- 超预算 / 冲减 (DOMAIN §3)

REFUND = "退回多拨资金300万元"


@pytest.fixture
def reduced(seeded, personas):
    """招商引资专项经费: 15,000,000 spent by June, 12,000,000 by July with a note (冲减)."""
    seeded.config["CLOCK"] = lambda: NOW
    py, _ids = year_of(seeded, PROJECT_A)
    spend(seeded, py, 6, 15_000_000)
    spend(seeded, py, 7, 12_000_000, note=REFUND)
    return py, personas.project_a


def test_the_monitoring_xlsx_and_print_mark_a_reduction_with_its_note(seeded, personas, reduced):
    _py, project = reduced
    client = signed_in(seeded, personas.supervisor_a)
    ws = workbook(client.get(f"/projects/{project}/monitoring.xlsx?period=2023-07")).worksheets[0]
    assert (ws["C7"].value, ws["D7"].value) == (3700, 1200)     # 调整后预算数, 执行数 (万元)
    row = find_row(ws, "预算执行标记")
    assert row == 10 and ws.cell(row, 2).value == f"冲减：{REFUND}"
    assert ws.cell(row, 2).fill.fgColor.rgb.endswith("FFEB9C")
    assert find_row(ws, "年度总体目标") == 11 and find_row(ws, "一级指标") == 13
    text = text_of(client.get(f"/projects/{project}/monitoring/print?period=2023-07").get_data(as_text=True))
    assert f"预算执行标记 冲减：{REFUND}" in text
    june = workbook(client.get(f"/projects/{project}/monitoring.xlsx?period=2023-06")).worksheets[0]
    assert "预算执行标记" not in cells(june)          # June itself is not marked


def test_the_unit_export_lists_each_projects_mark(seeded, personas, reduced):
    client = signed_in(seeded, personas.supervisor_a)
    ws = _unit_export(seeded, client, 7)["汇总"]
    assert ws.cell(3, 14).value == "预算执行标记"
    assert summary_row(ws, PROJECT_A)[13] == f"冲减：{REFUND}"
    assert summary_row(ws, "网络运行维护费")[13] in (None, "")


def test_the_evaluation_marks_spending_above_the_budget(seeded, personas, service):  # noqa: F811
    py, _ids, project = service
    spend(seeded, py, 12, 800_000, note="追加预算28,900元待批复")
    client = signed_in(seeded, personas.supervisor_a)
    ws = workbook(client.get(f"/projects/{project}/evaluation.xlsx")).worksheets[0]
    assert (ws["H7"].value, ws["J7"].value) == (10, 10)       # §5: above the budget scores 10, marked 超预算
    assert ws.cell(find_row(ws, "预算执行标记"), 2).value == "超预算：追加预算28,900元待批复"
    for page in ("evaluation/print", "evaluation"):
        html = client.get(f"/projects/{project}/{page}").get_data(as_text=True)
        assert "超预算：追加预算28,900元待批复" in text_of(html), page


# --------------------------------------------------------------------------- a period left unreported
# DOMAIN.md §9: an export headed 1–N月 shows the figures of 1–N月; a missing period says so, an
# older figure is never shown as N's. Project A has entries up to September only.

DECEMBER = datetime(2023, 12, 20, 2, 0, tzinfo=timezone.utc)     # November's deadline (12-05) has passed
SEPTEMBER_SPENT = Decimal("12345678.90")


@pytest.fixture
def september(seeded, personas):
    """招商引资专项经费 last reported in September: 参展企业数量 35 (yellow then), 投资者满意度 96%
    (green then), spending 12,345,678.90 (red then); its other indicators never."""
    seeded.config["CLOCK"] = lambda: DECEMBER
    py, ids = year_of(seeded, PROJECT_A)
    record(seeded, ids["参展企业数量"], 9, value=35, forecast=70, likelihood="有可能", deviation_reasons=["经费保障"],
           deviation_note="场馆档期推迟")
    record(seeded, ids["投资者满意度"], 9, value=96)
    spend(seeded, py, 9, SEPTEMBER_SPENT)
    return personas.project_a


def cells(ws) -> list:
    return [cell.value for row in ws.iter_rows() for cell in row if cell.value not in (None, "")]


def assert_nothing_of_september_shown_as_november(ws):
    values = cells(ws)
    assert "35家" not in values and "96%" not in values and "70家" not in values
    assert not any(isinstance(v, (int, float)) and abs(v - float(SEPTEMBER_SPENT)) < 0.01 for v in values)


def test_a_monitoring_xlsx_headed_november_names_the_september_figures_and_greys_the_lights(seeded, personas,
                                                                                              september):
    client = signed_in(seeded, personas.supervisor_a)
    ws = workbook(client.get(f"/projects/{september}/monitoring.xlsx?period=2023-11")).worksheets[0]
    assert ws["A1"].value == "项目支出绩效运行监控表（2023年11月）"
    assert ws["A2"].value == "数据截至2023年9月30日（最近一次填报为9月，10、11月未填报）"
    assert_nothing_of_september_shown_as_november(ws)
    # the budget row: the September spending named as such, as text (no SUM adds it), the light grey
    assert ws["D7"].value == "截至9月：1,234.56789（10、11月未填报）" and ws["E7"].value == "截至9月：33.37%"
    assert ws["G7"].value == "灰，上期红" and ws["G7"].fill.fgColor.rgb.endswith("D9D9D9")
    assert ws["F7"].value == pytest.approx(0.9167)                        # 序时进度 of November
    assert ws["H7"].value == "1,646.09（推算）" and "按9月累计执行数" in ws["M7"].value   # named by its period
    assert ws.cell(find_row(ws, "一级指标"), 7).value == "1-11月执行情况"
    count = find_row(ws, "参展企业数量")
    assert ws.cell(count, 7).value == "截至9月：35家（10、11月未填报）"
    assert ws.cell(count, 8).value == "70家（9月预计）"
    assert not ws.cell(count, 10).value and not ws.cell(count, 12).value   # September's reasons explain September's light
    assert ws.cell(count, 9).value == "灰，上期黄" and ws.cell(count, 9).fill.fgColor.rgb.endswith("D9D9D9")
    satisfaction = find_row(ws, "投资者满意度")
    assert (ws.cell(satisfaction, 7).value, ws.cell(satisfaction, 9).value) == ("截至9月：96%（10、11月未填报）",
                                                                                 "灰，上期绿")
    assert ws.cell(satisfaction, 8).value == "96%（未填预计，按9月水平）"
    area = find_row(ws, "参展面积")
    assert (ws.cell(area, 7).value, ws.cell(area, 9).value) == ("1-11月未填报", "灰")


def test_the_project_page_and_the_drill_down_keep_the_last_light_beside_grey(seeded, personas, september):
    """DOMAIN.md §9: in November, nothing entered since September, the project page's row and the
    report drill-down read 灰，上期黄 (参展企业数量) and 灰，上期绿 (投资者满意度), as the 监控表 does;
    an indicator never entered reads plain 灰."""
    client = signed_in(seeded, personas.supervisor_a)
    page = client.get(f"/projects/{september}?year=2023&period=2023-11").get_data(as_text=True)
    rows = {name: text_of(body) for body in re.findall(r'<tbody id="ind-\d+".*?</tbody>', page, flags=re.S)
            for name in ("参展企业数量", "投资者满意度", "参展面积") if name in body}
    assert "灰，上期黄" in rows["参展企业数量"] and "灰，上期绿" in rows["投资者满意度"]
    assert "灰" in rows["参展面积"] and "上期" not in rows["参展面积"]
    drill = text_of(client.get(f"/reports/projects/{september}?year=2023&as_of=2023-12-20").get_data(as_text=True))
    assert re.search(r"参展企业数量.*?灰，上期黄", drill) and re.search(r"投资者满意度.*?灰，上期绿", drill)
    assert re.search(r"参展面积.*?灰(?!，上期)", drill)


def test_the_printable_monitoring_page_headed_november_says_the_same(seeded, personas, september):
    client = signed_in(seeded, personas.supervisor_a)
    html = client.get(f"/projects/{september}/monitoring/print?period=2023-11").get_data(as_text=True)
    text = text_of(html)
    assert "项目支出绩效运行监控表（2023年11月）" in text
    assert "数据截至2023年9月30日（最近一次填报为9月，10、11月未填报）" in text
    assert "截至9月：1,234.56789（10、11月未填报） 截至9月：33.37% 91.67% 灰，上期红" in text
    assert "参展企业数量 ≥70家 ≥100家 截至2023年9月：35家（完成35.00%） 截至9月：35家（10、11月未填报） 70家（9月预计）" in text
    assert "截至9月：96%（10、11月未填报）" in text and "1-11月未填报 未填报，无预计" in text
    assert 'class="light-word light-grey">灰，上期黄<' in html
    assert not re.search(r">\s*(35家|96%|12,345,678\.90|1,234\.56789)\s*<", html)


def test_a_monitoring_sheet_before_the_deadline_keeps_the_judged_light_and_still_names_the_period(
        seeded, personas, september):
    """Early December, November still open to entry: October is the judged period — missing, so
    grey — and November's absence is stated, not filled in with September."""
    seeded.config["CLOCK"] = lambda: datetime(2023, 12, 2, 2, 0, tzinfo=timezone.utc)
    ws = workbook(signed_in(seeded, personas.supervisor_a)
                  .get(f"/projects/{september}/monitoring.xlsx?period=2023-11")).worksheets[0]
    count = find_row(ws, "参展企业数量")
    assert (ws.cell(count, 7).value, ws.cell(count, 9).value) == ("截至9月：35家（10、11月未填报）", "灰，上期黄")
    october = workbook(signed_in(seeded, personas.supervisor_a)
                       .get(f"/projects/{september}/monitoring.xlsx?period=2023-10")).worksheets[0]
    assert october.cell(find_row(october, "参展企业数量"), 9).value == "灰，上期黄"   # 10-05 has passed


def test_the_evaluation_xlsx_and_print_at_year_end_name_the_september_figures(seeded, personas, september):
    """Issue 13.8: 10-12月 never reported — the label gives September, the last period used,
    never 数据截至2023年12月31日 over September's data."""
    seeded.config["CLOCK"] = lambda: datetime(2024, 1, 10, 2, 0, tzinfo=timezone.utc)
    client = signed_in(seeded, personas.supervisor_a)
    ws = workbook(client.get(f"/projects/{september}/evaluation.xlsx")).worksheets[0]
    assert ws["A2"].value == "数据截至2023年9月（10-12月未填报） · 审核状态：草稿"
    assert not any("12月31日" in str(v) for v in cells(ws))
    assert_nothing_of_september_shown_as_november(ws)
    assert ws["G7"].value == "截至9月：1,234.56789（10-12月未填报）" and ws["I7"].value == "截至9月：33.37%"   # 万元
    assert ws.cell(find_row(ws, "参展企业数量"), 7).value == "截至9月：35家（10-12月未填报）"
    assert ws.cell(find_row(ws, "参展面积"), 7).value == "1-12月未填报"
    text = text_of(client.get(f"/projects/{september}/evaluation/print").get_data(as_text=True))
    assert "数据截至2023年9月（10-12月未填报） · 审核状态：草稿" in text and "12月31日" not in text
    page = text_of(client.get(f"/projects/{september}/evaluation").get_data(as_text=True))
    assert "数据截至2023年9月（10-12月未填报）" in page and "数据截至2023年12月" not in page
    py, _ids = year_of(seeded, PROJECT_A)
    answer = Api(seeded, personas.supervisor_a).get(f"/projects/{py}/evaluation", as_of="2023-12-31").get_json()
    assert (answer["data_through"], answer["data_label"]) == ("2023-09", "数据截至2023年9月（10-12月未填报）")
    assert "截至9月：1,234.56789（10-12月未填报） 10.00 截至9月：33.37%" in text
    assert "截至9月：35家（10-12月未填报）" in text and "参展面积 ≥ 500 平方米 1-12月未填报" in text


def _unit_export(app, client, month: int):
    from models.org import Unit
    with Session(app.extensions["engine"]) as session:
        unit = session.exec(select(Unit).where(Unit.name == "山西省投资促进局")).one()
    started = client.post("/exports", data={"csrf_token": csrf_token(client, "/exports"), "unit": unit.id,
                                            "year": "2023", "month": str(month)})
    job_id = started.headers["Location"].rsplit("/", 1)[1]
    assert _wait(app, job_id).state == "done"
    return workbook(client.get(f"/exports/{job_id}/download"))


def summary_row(ws, name: str) -> list:
    return [c.value for c in ws[find_row(ws, name)]]


def test_a_unit_export_headed_november_leaves_stale_spending_out_of_the_total_and_says_so(seeded, personas,
                                                                                        september):
    """招商引资业务经费 reported November; 招商引资专项经费 stopped in September; 网络运行维护费 never
    reported. The 合计 adds up November's figures only and names what it leaves out."""
    service, ids = year_of(seeded, "招商引资业务经费")
    record(seeded, ids["会议服务次数"], 11, value=95)
    spend(seeded, service, 11, 700000)
    client = signed_in(seeded, personas.supervisor_a)
    book = _unit_export(seeded, client, 11)
    ws = book["汇总"]
    assert ws["A1"].value == "项目支出绩效运行监控汇总表（2023年11月）"
    assert ws["A2"].value == "实施单位：山西省投资促进局　　数据截至2023年11月30日（其中3个项目缺11月数据，列示其最近填报数并注明期间）"
    stale = summary_row(ws, PROJECT_A)
    assert stale[2:8] == [3700, 3700, "截至9月：1,234.56789（10、11月未填报）", "截至9月：33.37%",
                          "灰，上期红", 14]
    assert stale[8:13] == [0, 0, 0, 14, 0]   # all grey: the two reported in September too, not yellow/green; 超额 0
    assert summary_row(ws, "网络运行维护费")[4:7] == ["1-11月未填报", "—", "灰"]
    current = summary_row(ws, "招商引资业务经费")
    assert current[4] == 70 and current[5] == pytest.approx(0.9078, abs=1e-4) and current[6] == "绿"
    total = find_row(ws, "合计（已填报本期支出且年度资金已知的项目）")
    assert [ws.cell(total, c).value for c in (3, 4, 5)] == [77.11, 77.11, 70]
    assert ws.cell(total, 6).value == pytest.approx(0.9078, abs=1e-4)
    note = ws.cell(total + 1, 1).value
    assert note.startswith("注：合计不含未更新项目2个——")
    assert "招商引资专项经费（11月支出未填报）" in note and "网络运行维护费（11月支出未填报）" in note
    assert "年初预算数共3,716.06万元，亦未计入合计" in note
    sheet = book[PROJECT_A]
    assert sheet["A2"].value == "数据截至2023年9月30日（最近一次填报为9月，10、11月未填报）"
    assert_nothing_of_september_shown_as_november(sheet)


def test_a_quarterly_project_in_a_november_unit_export_shows_its_third_quarter_as_such(seeded, personas, september):
    from services.entry import Context
    from services.tracking import set_periods
    from models.db import get_session, transaction
    from models.project import ProjectYear
    service, ids = year_of(seeded, "招商引资业务经费")
    with seeded.app_context():
        session = get_session()
        with transaction(session):
            set_periods(session, session.get(ProjectYear, service), "quarterly", Context("tianbao", NOW))
    spend(seeded, service, 9, 600000)
    book = _unit_export(seeded, signed_in(seeded, personas.supervisor_a), 11)
    row = summary_row(book["汇总"], "招商引资业务经费（按季度填报，数据为1-9月）")
    assert row[4] == 60                                       # its own period's figure (万元): in the total
    total = find_row(book["汇总"], "合计（已填报本期支出且年度资金已知的项目）")
    assert book["汇总"].cell(total, 5).value == 60
    assert book["招商引资业务经费"]["A1"].value == "项目支出绩效运行监控表（2023年9月）"


# --------------------------------------------------------------------------- finding the unit export (#14.3)

def test_the_unit_export_is_linked_from_the_reports_and_opens_at_the_latest_year_with_projects(seeded, personas):
    seeded.config["CLOCK"] = lambda: datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)   # no 2026 projects
    client = signed_in(seeded, personas.supervisor_a)
    overview = client.get("/reports/overview").get_data(as_text=True)
    link = re.search(r'<a class="button" href="([^"]+)">导出监控表（按实施单位）</a>', overview)
    assert link and link.group(1).startswith("/exports")
    text = text_of(client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True))
    assert "年度：2023年度" in text and "山西省投资促进局（3 个项目）" in text and "没有您可以导出" not in text
    page = client.get("/exports").get_data(as_text=True)
    assert re.search(r'<option value="2023" selected>2023年度</option>', page)
    assert "年度：2023年度" in text_of(page)
    # a year without projects, asked for by name, says so — and still offers the years that have some
    empty = client.get("/exports?year=2026").get_data(as_text=True)
    assert "2026年度没有您可以导出的项目" in text_of(empty) and '<option value="2023">2023年度</option>' in empty
