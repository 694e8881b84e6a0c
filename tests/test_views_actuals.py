"""Recording actuals and spending on the project page, as a 填报人 meets it: the period and its
"as of", the lights of DOMAIN.md §6, 偏差原因 asked for, bad input refused in Chinese with the
stored value unchanged, a second editor told (409) without losing anything, the history, the
measure, quarterly periods, the chart and the 实施期 progress. "Today" is conftest.NOW
(2023-08-06 09:00 in Asia/Shanghai) through config["CLOCK"]."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from conftest import NOW, PROJECT_A, csrf_token, form_like, project_id, signed_in, store_forms, text_of
from models.actual import Actual, ActualChange, Spending
from models.indicator import Indicator
from models.project import Project, ProjectYear

HX = {"HX-Request": "true"}


@pytest.fixture
def today_is(seeded):
    """Set "today" (config["CLOCK"]); NOW unless a test moves it."""
    def set_clock(moment: datetime = NOW):
        seeded.config["CLOCK"] = lambda: moment
    set_clock()
    return set_clock


@pytest.fixture
def manager(seeded, personas, today_is):
    return signed_in(seeded, personas.manager_a)


def indicator_id(app, level3: str, project: str = PROJECT_A, year: int = 2023) -> int:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Indicator.id).join(ProjectYear, ProjectYear.id == Indicator.project_year_id)
                            .join(Project, Project.id == ProjectYear.project_id)
                            .where(Project.name == project, ProjectYear.year == year,
                                   Indicator.annual_level3 == level3)).one()


def stored(app, level3: str, month: int = 7, project: str = PROJECT_A) -> Actual | None:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Actual).where(Actual.indicator_id == indicator_id(app, level3, project),
                                                 Actual.month == month)).first()


def project_url(personas, **args) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/projects/{personas.project_a}" + (f"?{query}" if query else "")


def record(client, app, level3: str, period: str = "2023-07", htmx: bool = True, version: int | str = "",
           project: str = PROJECT_A, year: int = 2023, **fields):
    """POST one actual of the indicator of that project year, as its row's form does."""
    data = {"csrf_token": csrf_token(client, "/projects"), "period": period, "version": str(version)}
    data.update({k: v for k, v in fields.items() if k != "deviation_reasons"})
    if "deviation_reasons" in fields:
        data["deviation_reasons"] = fields["deviation_reasons"]
    return client.post(f"/indicators/{indicator_id(app, level3, project, year)}/actual", data=data,
                       headers=HX if htmx else {})


def row_html(html: str, ind_id: int) -> str:
    match = re.search(rf'<tbody id="ind-{ind_id}".*?</tbody>', html, flags=re.S)
    assert match, f"no row ind-{ind_id}"
    return match.group(0)


def light_of(html: str) -> str:
    """The word of the row's light, as the user reads it."""
    return re.search(r'<span class="light light-\w+"[^>]*><span class="dot" aria-hidden="true"></span>([^<]+)</span>',
                     html.split('class="light-cell"', 1)[1]).group(1)


# --------------------------------------------------------------------------- the period and "as of"

def test_the_page_opens_on_july_in_early_august_with_its_as_of_and_deadline(seeded, personas, manager):
    text = text_of(manager.get(project_url(personas)).get_data(as_text=True))
    assert "执行监控 2023年7月 · 按月填报" in text
    assert "数据截至 2023年7月31日 （序时进度 58.33%） · 填报截止 2023年8月5日 · 今天 2023年8月6日" in text
    assert "2023年8月（未结束）" in text


def test_before_the_deadline_a_missing_actual_is_not_yet_grey(seeded, personas, manager, today_is):
    today_is(datetime(2023, 8, 3, 1, 0, tzinfo=timezone.utc))
    html = manager.get(project_url(personas)).get_data(as_text=True)
    row = row_html(html, indicator_id(seeded, "参展企业数量"))
    assert light_of(row) == "未到期" and "未填报" in text_of(row)
    today_is(NOW)
    row = row_html(manager.get(project_url(personas)).get_data(as_text=True), indicator_id(seeded, "参展企业数量"))
    assert light_of(row) == "灰"


def test_another_period_of_the_year_can_be_chosen(seeded, personas, manager):
    text = text_of(manager.get(project_url(personas, period="2023-06")).get_data(as_text=True))
    assert "执行监控 2023年6月" in text and "数据截至 2023年6月30日 （序时进度 50.00%）" in text


@pytest.mark.parametrize("period, message", [
    ("2023-13", "月份“13”无效，应为 1 到 12"),
    ("2024-01", "期间 2024-01 不在所选的 2023 年度内"),
    ("七月", "期间“七月”无效，应为“年-月”，例如 2023-07"),
])
def test_a_period_outside_the_year_is_a_chinese_400(seeded, personas, manager, period, message):
    response = manager.get(project_url(personas, year=2023, period=period))
    assert response.status_code == 400
    assert message in text_of(response.get_data(as_text=True))


# --------------------------------------------------------------------------- the worked example

def test_the_worked_example_gives_the_lights_of_domain_6(seeded, personas, manager):
    reasons = {"deviation_reasons": ["经费保障"]}
    cases = [("参展企业数量", {"value": "35"}, "绿", "35家", "50.00%", "85.71%"),
             ("参展面积", {"value": "200", **reasons}, "黄", "200平方米", "40.00%", "68.57%"),
             ("业务成本", {"value": "2500", "unit": "万元", **reasons}, "黄", "2500万元", "100.00%", "—"),
             ("投资者满意度", {"value": "93", **reasons}, "黄", "93%", "97.89%", "—"),
             ("签约项目到位资金", {"value": "300", "unit": "亿元", **reasons}, "黄", "300亿元", "37.50%", "64.29%")]
    for level3, fields, light, shown, completion, pace in cases:
        response = record(manager, seeded, level3, **fields)
        assert response.status_code == 200, (level3, text_of(response.get_data(as_text=True)))
        html = response.get_data(as_text=True)
        assert light_of(html) == light, level3
        summary = text_of(html.split('<tr class="detail">')[0])
        assert f"{shown} {completion} {pace}" in summary, (level3, summary)
        assert "已保存2023年7月的实际值" in text_of(html)
    page = text_of(manager.get(project_url(personas)).get_data(as_text=True))
    assert "绿 1 黄 4 红 0 灰 9" in page


def test_a_yellow_result_without_a_reason_is_refused_with_the_reasons_opened(seeded, personas, manager):
    response = record(manager, seeded, "参展面积", value="200", forecast="480", note="展位延后")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "当前为黄灯，请填写偏差原因" in text_of(html)
    assert '<details class="reasons" open>' in html
    assert 'name="value" value="200"' in html and 'name="forecast" value="480"' in html   # nothing typed is lost
    assert 'aria-invalid="true"' in html
    assert stored(seeded, "参展面积") is None
    response = record(manager, seeded, "参展面积", value="200", forecast="480", note="展位延后",
                      deviation_reasons=["经费保障", "其他"], deviation_note="场馆档期推迟")
    assert response.status_code == 200 and light_of(response.get_data(as_text=True)) == "黄"
    actual = stored(seeded, "参展面积")
    assert actual.deviation_reasons == ["经费保障", "其他"] and actual.deviation_note == "场馆档期推迟"
    assert actual.forecast == Decimal(480) and actual.note == "展位延后"


def test_a_qualitative_indicator_takes_an_assessment(seeded, personas, manager):
    level3, project = "保障招商活动开展", "招商引资业务经费"
    response = record(manager, seeded, level3, project=project, assessment="部分达成", note="部分活动延期",
                      deviation_reasons=["人员保障"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert light_of(html) == "黄" and "部分达成" in text_of(html.split('<tr class="detail">')[0])
    response = record(manager, seeded, level3, project=project, assessment="还行", version=1)
    assert response.status_code == 422
    assert "完成情况应为：达成、部分达成、未达成" in text_of(response.get_data(as_text=True))
    assert stored(seeded, level3, project=project).assessment == "部分达成"


def forecast_cell(html: str) -> str:
    """What the row's 全年预计 column shows."""
    return text_of(re.search(r'<td class="[^"]*forecast"[^>]*>(.*?)</td>', html, flags=re.S).group(1))


def test_a_qualitative_indicators_forecast_is_an_assessment_chosen_from_a_select(seeded, personas, manager):
    level3, project = "保障招商活动开展", "招商引资业务经费"
    ind = indicator_id(seeded, level3, project)
    response = record(manager, seeded, level3, project=project, assessment="部分达成", forecast="达成",
                      deviation_reasons=["人员保障"], note="下半年补办两场")
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    html = response.get_data(as_text=True)
    assert forecast_cell(html) == "达成"
    select = re.search(rf'<select id="f{ind}-forecast" name="forecast"[^>]*>(.*?)</select>', html, flags=re.S)
    assert select, "the qualitative row's 全年预计 is a select, not a number box"
    options = re.findall(r'<option value="([^"]*)"( selected)?>', select.group(1))
    assert options == [("", ""), ("达成", " selected"), ("部分达成", ""), ("未达成", "")]
    actual = stored(seeded, level3, project=project)
    assert (actual.assessment, actual.forecast_assessment, actual.forecast) == ("部分达成", "达成", None)
    history = text_of(manager.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True))
    assert "全年预计 ：达成" in history
    # a changed forecast: the history says from what to what
    assert record(manager, seeded, level3, project=project, assessment="部分达成", forecast="部分达成",
                  deviation_reasons=["人员保障"], version=1).status_code == 200
    history = text_of(manager.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True))
    assert "全年预计 ： 达成 → 部分达成" in history
    page = manager.get(f"/projects/{project_id(seeded, project)}").get_data(as_text=True)
    assert forecast_cell(row_html(page, ind)) == "部分达成"


def test_a_number_is_refused_as_a_qualitative_forecast_and_an_assessment_as_a_numeric_one(seeded, manager):
    level3, project = "保障招商活动开展", "招商引资业务经费"
    response = record(manager, seeded, level3, project=project, assessment="达成", forecast="90")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "全年预计：定性指标的全年预计应为：达成、部分达成、未达成" in text_of(html)
    assert re.search(r'<select id="f\d+-forecast" name="forecast" aria-invalid="true"', html)
    assert '<option value="90" selected>90</option>' in html             # nothing typed is lost
    assert stored(seeded, level3, project=project) is None
    response = record(manager, seeded, "参展企业数量", value="35", forecast="达成")
    assert response.status_code == 422
    assert "全年预计：“达成”只用于定性指标，本指标的全年预计应为数字" in text_of(response.get_data(as_text=True))
    assert stored(seeded, "参展企业数量") is None


def test_a_numeric_forecast_is_shown_with_the_unit_it_was_entered_in(seeded, personas, manager):
    response = record(manager, seeded, "业务成本", value="2500", unit="万元", forecast="3600",
                      deviation_reasons=["经费保障"])
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    html = response.get_data(as_text=True)
    assert forecast_cell(html) == "3600万元"
    ind = indicator_id(seeded, "业务成本")
    assert re.search(rf'name="forecast" value="3600"[^>]*>\s*<span class="muted" data-unit-of="f{ind}-unit"[^>]*>万元</span>',
                     html)
    page = manager.get(project_url(personas)).get_data(as_text=True)
    assert forecast_cell(row_html(page, ind)) == "3600万元"
    assert stored(seeded, "业务成本").forecast == Decimal(3600)
    history = text_of(manager.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True))
    assert "全年预计 ：3600万元" in history
    # entered in another unit of the same base, the forecast reads in that one, here and in the history
    assert record(manager, seeded, "业务成本", value="0.25", unit="亿元", forecast="0.36", deviation_reasons=["经费保障"],
                  version=1).status_code == 200
    assert forecast_cell(row_html(manager.get(project_url(personas)).get_data(as_text=True), ind)) == "0.36亿元"
    history = text_of(manager.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True))
    assert "全年预计 ： 3600万元 → 0.36亿元" in history


def test_a_short_unit_is_read_as_the_targets_own(seeded, personas, manager):
    """亿 beside a target in 万元 is 亿元 (DOMAIN §2: units of the same base, scaled)."""
    response = record(manager, seeded, "业务成本", value="0.25", unit="亿", deviation_reasons=["经费保障"])
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    saved = stored(seeded, "业务成本")
    assert (saved.value, saved.unit) == (Decimal("0.25"), "亿元")
    assert "0.25亿元" in text_of(row_html(response.get_data(as_text=True), indicator_id(seeded, "业务成本")))


def test_a_rate_above_100_percent_is_taken_with_a_word_to_check_it(seeded, personas, manager):
    response = record(manager, seeded, "宣传报道及时率", value="120")
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    ind = indicator_id(seeded, "宣传报道及时率")
    assert stored(seeded, "宣传报道及时率").value == Decimal(120)
    notice = re.search(r'<tr class="notice-row">.*?</tr>', row_html(response.get_data(as_text=True), ind), flags=re.S)
    assert notice and text_of(notice.group(0)) == "宣传报道及时率：比率超过100%，请核实"
    page = row_html(manager.get(project_url(personas)).get_data(as_text=True), ind)
    assert "比率超过100%，请核实" in text_of(page)
    back = record(manager, seeded, "宣传报道及时率", value="98", version=1)
    assert "比率超过100%" not in text_of(back.get_data(as_text=True))


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("fields, message", [
    ({"value": "abc"}, "实际值：“abc”不是有效的数字"),
    ({"value": "NaN"}, "“NaN”不是有效的数字"),
    ({"value": "∞"}, "“∞”不是有效的数字"),
    ({"value": "inf"}, "“inf”不是有效的数字"),
    ({"value": "-3"}, "实际值不能为负数"),
    ({"value": ""}, "请填写实际值"),
    ({"value": "40", "unit": "人次"}, "单位“人次”与目标单位“家”不是同一种单位"),
    ({"value": "40", "unit": "人"}, "单位“人”与目标单位“家”不是同一种单位"),        # 人 is 人次 only beside 人次
    ({"value": "40", "forecast": "许多"}, "全年预计：“许多”不是有效的数字"),
    ({"value": "40", "likelihood": "大概"}, "完成可能性应为：确定能、有可能、完全不可能"),
    ({"value": "40", "deviation_reasons": ["天气"]}, "未知的偏差原因“天气”"),
])
def test_bad_input_is_a_chinese_422_and_the_stored_value_stays(seeded, personas, manager, fields, message):
    assert record(manager, seeded, "参展企业数量", value="35").status_code == 200
    response = record(manager, seeded, "参展企业数量", version=1, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in text_of(html)
    assert "35家" in text_of(html.split('<tr class="detail">')[0])       # the row still shows what is stored
    actual = stored(seeded, "参展企业数量")
    assert actual.value == Decimal(35) and actual.version == 1


@pytest.mark.parametrize("period, message", [("2023-13", "月份“13”无效"), ("2024-07", "不在项目的 2023 年度内"),
                                             ("", "期间“”无效")])
def test_a_period_outside_the_projects_year_is_refused(seeded, personas, manager, period, message):
    response = record(manager, seeded, "参展企业数量", period=period, value="35")
    assert response.status_code == 400
    assert message in text_of(response.get_data(as_text=True))
    assert stored(seeded, "参展企业数量") is None


# --------------------------------------------------------------------------- two editors

def test_a_second_editor_is_told_with_409_and_nothing_is_lost(seeded, personas, manager):
    other = signed_in(seeded, personas.admin)
    ind = indicator_id(seeded, "参展企业数量")
    page = other.get(project_url(personas)).get_data(as_text=True)
    assert 'name="version" value="0"' in row_html(page, ind)          # the admin's page, loaded before
    assert record(manager, seeded, "参展企业数量", value="35", version=0).status_code == 200
    response = record(other, seeded, "参展企业数量", value="40", version=0)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "该数值已被填报人甲（tianbao）修改，当前为 35家。您填写的内容保留在下方" in text_of(html)
    assert 'name="value" value="40"' in html and 'name="version" value="1"' in html
    assert stored(seeded, "参展企业数量").value == Decimal(35)
    response = record(other, seeded, "参展企业数量", value="40", version=1)   # a deliberate second save
    assert response.status_code == 200 and stored(seeded, "参展企业数量").value == Decimal(40)


def test_without_javascript_the_page_posts_and_comes_back_to_the_row(seeded, personas, manager):
    ind = indicator_id(seeded, "参展企业数量")
    response = record(manager, seeded, "参展企业数量", htmx=False, value="35")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/projects/{personas.project_a}?year=2023&period=2023-07#ind-{ind}"
    text = text_of(manager.get(response.headers["Location"]).get_data(as_text=True))
    assert "参展企业数量：已保存2023年7月的实际值（绿灯）。" in text
    response = record(manager, seeded, "参展面积", htmx=False, value="200")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<h1>招商引资专项经费</h1>" in html and "当前为黄灯，请填写偏差原因" in text_of(html)
    stale = record(manager, seeded, "参展企业数量", htmx=False, value="36", version=0)
    assert stale.status_code == 409 and "该数值已被填报人甲（tianbao）修改" in text_of(stale.get_data(as_text=True))


# --------------------------------------------------------------------------- history

def test_every_change_is_in_the_history_with_who_when_and_old_to_new(seeded, personas, manager, today_is):
    record(manager, seeded, "参展面积", value="200", deviation_reasons=["经费保障"], version=0)
    today_is(datetime(2023, 8, 7, 2, 30, tzinfo=timezone.utc))
    manager = signed_in(seeded, personas.manager_a)        # the next day: signed in anew
    record(manager, seeded, "参展面积", value="520", version=1)
    ind = indicator_id(seeded, "参展面积")
    fragment = manager.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True)
    rows = [text_of(r) for r in re.findall(r"<tr>.*?</tr>", fragment.split("<tbody>")[1], flags=re.S)]
    assert rows == [
        "2023-08-07 10:30 填报人甲（tianbao） 2023年7月 实际值 ： 200平方米 → 520平方米 偏差原因 ： 经费保障 → — "
        "灯 ： 黄 → 绿",
        "2023-08-06 09:00 填报人甲（tianbao） 2023年7月 实际值 ：200平方米 偏差原因 ：经费保障 灯 ：黄 首次填报",
    ]
    page = manager.get(f"/indicators/{ind}/history").get_data(as_text=True)
    assert "<h1>参展面积</h1>" in page and "200平方米 → 520平方米" in text_of(page)
    with Session(seeded.extensions["engine"]) as session:
        assert len(session.exec(select(ActualChange).where(ActualChange.indicator_id == ind)).all()) == 2
    page = text_of(manager.get(project_url(personas)).get_data(as_text=True))
    assert "修改记录（2）" in page


# --------------------------------------------------------------------------- who

def test_a_supervisor_reads_the_rows_and_records_nothing(seeded, personas, manager):
    record(manager, seeded, "参展面积", value="200", deviation_reasons=["经费保障"], deviation_note="档期")
    reader = signed_in(seeded, personas.supervisor_a)
    html = reader.get(project_url(personas)).get_data(as_text=True)
    row = row_html(html, indicator_id(seeded, "参展面积"))
    assert "entry-form" not in row and "measure-form" not in row and 'name="csrf_token"' not in row
    assert light_of(row) == "黄" and "偏差原因：经费保障（档期）" in text_of(row)
    assert record(reader, seeded, "参展面积", value="500", version=1).status_code == 403
    assert stored(seeded, "参展面积").value == Decimal(200)


def test_another_units_indicator_is_a_404(seeded, personas, today_is):
    other = signed_in(seeded, personas.manager_b)
    ind = indicator_id(seeded, "参展企业数量")
    assert other.get(f"/indicators/{ind}/history").status_code == 404
    response = other.post(f"/indicators/{ind}/actual", data={"csrf_token": csrf_token(other, "/projects"),
                                                             "period": "2023-07", "value": "35"})
    assert response.status_code == 404 and stored(seeded, "参展企业数量") is None


# --------------------------------------------------------------------------- measure and periods

def test_the_measure_is_inferred_and_changeable_and_stored_actuals_are_judged_again(seeded, personas, manager):
    html = manager.get(project_url(personas)).get_data(as_text=True)
    assert "累计（默认）" in row_html(html, indicator_id(seeded, "参展企业数量"))
    assert "水平（默认）" in row_html(html, indicator_id(seeded, "投资者满意度"))
    record(manager, seeded, "参展企业数量", value="35")
    ind = indicator_id(seeded, "参展企业数量")
    response = manager.post(f"/indicators/{ind}/measure", headers=HX, data={
        "csrf_token": csrf_token(manager, "/projects"), "measure": "level", "period": "2023-07"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "计量方式已改为水平，已有的实际值已重新判断" in text_of(html) and light_of(html) == "红"
    fragment = text_of(manager.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True))
    assert "计量方式 ： 累计 → 水平 灯 ： 绿 → 红" in fragment
    response = manager.post(f"/indicators/{ind}/measure", headers=HX, data={
        "csrf_token": csrf_token(manager, "/projects"), "measure": "qualitative", "period": "2023-07"})
    assert response.status_code == 422
    assert "该指标已有实际值，不能在定量与定性之间切换" in text_of(response.get_data(as_text=True))
    with Session(seeded.extensions["engine"]) as session:
        assert session.get(Indicator, ind).measure_override == "level"


def test_a_qualitative_target_cannot_be_counted(seeded, personas, manager):
    ind = indicator_id(seeded, "保障招商活动开展", "招商引资业务经费")
    response = manager.post(f"/indicators/{ind}/measure", headers=HX, data={
        "csrf_token": csrf_token(manager, "/projects"), "measure": "cumulative", "period": "2023-07"})
    assert response.status_code == 422
    assert "指标值“保障”没有数字，只能按定性评价" in text_of(response.get_data(as_text=True))


def test_a_project_can_report_quarterly(seeded, personas, manager):
    response = manager.post(f"/projects/{personas.project_a}/periods", data={
        "csrf_token": csrf_token(manager, "/projects"), "year": "2023", "periods": "quarterly"})
    assert response.status_code == 303
    text = text_of(manager.get(response.headers["Location"]).get_data(as_text=True))
    assert "2023年度改为按季度填报。" in text
    assert "执行监控 2023年第2季度 · 按季度填报" in text and "数据截至 2023年6月30日" in text
    assert "填报截止 2023年7月5日" in text
    response = record(manager, seeded, "参展企业数量", value="35")
    assert response.status_code == 400 and "该项目按季度填报" in text_of(response.get_data(as_text=True))
    assert record(manager, seeded, "参展企业数量", period="2023-06", value="30").status_code == 200


# --------------------------------------------------------------------------- chart and 实施期

def test_each_indicator_has_a_chart_against_the_pace_line(seeded, personas, manager):
    record(manager, seeded, "参展企业数量", period="2023-06", value="30")
    html = record(manager, seeded, "参展企业数量", value="35").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", html, flags=re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "style" not in svg
    assert "参展企业数量：累计实际值与序时进度" in svg
    assert "各月累计实际值：6月 30家，7月 35家。序时进度线：全年目标 70家 × 月份 / 12；7月序时进度 40.83家。" in svg
    assert svg.count("<circle") == 2
    # the y-axis reads 0 and the target in its unit; the dashed line is labelled 序时 at its end
    texts = re.findall(r'<text class="chart-(ytick|guide-label)"[^>]*>([^<]*)</text>', svg)
    assert texts == [("ytick", "0"), ("ytick", "70家"), ("guide-label", "序时")]
    ind = indicator_id(seeded, "参展企业数量")
    large = manager.get(f"/indicators/{ind}/history").get_data(as_text=True)
    assert re.findall(r'<text class="chart-(?:ytick|guide-label)"[^>]*>([^<]*)</text>', large) == ["0", "70家", "序时"]
    level = row_html(manager.get(project_url(personas)).get_data(as_text=True), indicator_id(seeded, "投资者满意度"))
    assert "投资者满意度：实际水平与目标" in level and "目标线：95%" in level
    assert ">95%</text>" in level and ">目标</text>" in level


def test_the_period_indicator_shows_progress_across_the_projects_years(seeded, personas, manager, today_is):
    store_forms(seeded, [form_like(0, year=2024)], file_name="2024.pdf", sha="4" * 64)
    record(manager, seeded, "参展企业数量", period="2023-12", value="80")
    today_is(datetime(2024, 4, 10, 1, 0, tzinfo=timezone.utc))
    manager = signed_in(seeded, personas.manager_a)
    response = record(manager, seeded, "参展企业数量", period="2024-03", year=2024, value="15")
    assert response.status_code == 200, text_of(response.get_data(as_text=True))
    text = text_of(manager.get(project_url(personas, year=2024)).get_data(as_text=True))
    assert "≥100家 进展 95家 · 95.00% （2023、2024年）" in text


# --------------------------------------------------------------------------- spending

def spend(client, personas, amount: str, unit: str = "元", version: int | str = "", htmx: bool = True,
          period: str = "2023-07"):
    return client.post(f"/projects/{personas.project_a}/spending", headers=HX if htmx else {}, data={
        "csrf_token": csrf_token(client, "/projects"), "period": period, "amount": amount, "unit": unit,
        "version": str(version)})


def spent(app) -> Spending | None:
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Spending)).first()


def test_spending_is_recorded_with_its_rate_and_light(seeded, personas, manager):
    response = spend(manager, personas, "1,500", "万元", version=0)
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "截至7月末 37,000,000.00 37,000,000.00 15,000,000.00 40.54% 58.33% 69.50% 黄" in text
    assert "已保存2023年7月的累计支出" in text
    assert spent(seeded).amount_yuan == Decimal(15_000_000)


@pytest.mark.parametrize("amount, unit, message", [("abc", "元", "支出金额不是有效的数字"),
                                                   ("-5", "元", "支出金额应为不小于 0 的数字"),
                                                   ("NaN", "元", "支出金额不是有效的数字"),
                                                   ("100", "美元", "单位“美元”无效")])
def test_bad_spending_is_refused_and_the_stored_amount_stays(seeded, personas, manager, amount, unit, message):
    spend(manager, personas, "15000000", version=0)
    response = spend(manager, personas, amount, unit, version=1)
    assert response.status_code == 422 and message in text_of(response.get_data(as_text=True))
    assert spent(seeded).amount_yuan == Decimal(15_000_000)


def test_a_stale_spending_edit_is_told(seeded, personas, manager):
    spend(manager, personas, "15000000", version=0)
    response = spend(signed_in(seeded, personas.admin), personas, "16000000", version=0)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "该数值已被填报人甲（tianbao）修改，当前为 15000000 元" in text_of(html)
    assert 'name="amount" value="16000000"' in html
    assert spent(seeded).amount_yuan == Decimal(15_000_000)


def test_a_spending_edit_based_on_an_amount_removed_since_is_told_not_a_server_error(seeded, personas, manager):
    """The form carries the version the editor saw; no amount is stored for the month now."""
    response = spend(manager, personas, "16000000", version=3)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "该数值已被他人删除。您填写的内容保留在下方，请核对后再次保存。" in text_of(html)
    assert 'name="amount" value="16000000"' in html and 'name="version" value="0"' in html
    assert spent(seeded) is None


# --------------------------------------------------------------------------- escaping

def test_a_hostile_indicator_name_and_note_show_as_text_in_the_row_the_chart_and_the_history(seeded, personas,
                                                                                             manager):
    payload = '"><script>alert(1)</script>'
    ind_id = indicator_id(seeded, "参展企业数量")
    with Session(seeded.extensions["engine"]) as session:
        ind = session.get(Indicator, ind_id)
        ind.annual_level3 = payload
        session.add(ind)
        session.commit()
    response = manager.post(f"/indicators/{ind_id}/actual", headers=HX, data={
        "csrf_token": csrf_token(manager, "/projects"), "period": "2023-07", "value": "35", "note": payload})
    for html in (response.get_data(as_text=True), manager.get(project_url(personas)).get_data(as_text=True),
                 manager.get(f"/indicators/{ind_id}/history").get_data(as_text=True)):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --------------------------------------------------------------------------- 超预算 / 冲减 (DOMAIN.md §3)

def spend_noted(client, personas, amount: str, note: str = "", period: str = "2023-07", version: int | str = "",
                unit: str = "元", htmx: bool = True):
    return client.post(f"/projects/{personas.project_a}/spending", headers=HX if htmx else {}, data={
        "csrf_token": csrf_token(client, "/projects"), "period": period, "amount": amount, "unit": unit,
        "note": note, "version": str(version)})


def spending_rows(app) -> dict[int, Spending]:
    with Session(app.extensions["engine"]) as session:
        return {s.month: s for s in session.exec(select(Spending))}


def test_spending_above_the_budget_is_refused_without_a_note_and_marked_with_one(seeded, personas, manager):
    """5,000 万元 against the seed's 3,700 万元: not a silent 135 % and green."""
    response = spend_noted(manager, personas, "5000", unit="万元")
    assert response.status_code == 422
    text = text_of(response.get_data(as_text=True))
    assert ("累计支出 50,000,000.00 元超过全年预算数 37,000,000.00 元（超预算）。"
            "请在“说明”中写明原因，如资金退回、冲销更正、追加预算待批复") in text
    assert 'name="amount" value="5000"' in response.get_data(as_text=True)
    assert spending_rows(seeded) == {}

    response = spend_noted(manager, personas, "5000", "追加预算1300万元待批复", unit="万元")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "截至7月末 37,000,000.00 37,000,000.00 50,000,000.00 135.14% 58.33% 231.66% 绿 超预算" in text
    assert "超预算：追加预算1300万元待批复" in text
    assert spending_rows(seeded)[7].note == "追加预算1300万元待批复"
    page = text_of(manager.get(project_url(personas, period="2023-07")).get_data(as_text=True))
    assert "超预算：追加预算1300万元待批复" in page


def test_spending_below_an_earlier_months_needs_a_note_and_shows_as_a_reduction(seeded, personas, manager):
    assert spend_noted(manager, personas, "1500", period="2023-06", unit="万元").status_code == 200
    response = spend_noted(manager, personas, "1200", period="2023-07", unit="万元")
    assert response.status_code == 422
    assert ("累计支出 12,000,000.00 元低于2023年6月的 15,000,000.00 元（冲减）"
            in text_of(response.get_data(as_text=True)))
    assert 7 not in spending_rows(seeded)

    response = spend_noted(manager, personas, "1200", "退回多拨资金300万元", period="2023-07", unit="万元")
    assert response.status_code == 200
    assert "冲减：退回多拨资金300万元" in text_of(response.get_data(as_text=True))
    history = text_of(manager.get(project_url(personas, period="2023-07")).get_data(as_text=True))
    assert "2023年7月 — 12,000,000.00 退回多拨资金300万元" in history


def test_raising_an_earlier_month_above_a_later_one_asks_the_edit_for_the_note(seeded, personas, manager):
    """The decision: the entry that makes a later month a fall explains it, unless that month
    explains itself."""
    spend_noted(manager, personas, "1500", period="2023-06", unit="万元")
    spend_noted(manager, personas, "1600", period="2023-07", unit="万元")
    response = spend_noted(manager, personas, "1800", period="2023-06", version=1, unit="万元")
    assert response.status_code == 422
    assert ("2023年7月的累计支出 16,000,000.00 元将低于本期的 18,000,000.00 元（冲减）"
            in text_of(response.get_data(as_text=True)))
    assert spending_rows(seeded)[6].amount_yuan == Decimal(15_000_000)

    assert spend_noted(manager, personas, "1800", "6月含暂付款200万元，7月冲销", period="2023-06", version=1,
                       unit="万元").status_code == 200
    july = text_of(manager.get(project_url(personas, period="2023-07")).get_data(as_text=True))
    assert "冲减：6月含暂付款200万元，7月冲销（6月的说明）" in july
