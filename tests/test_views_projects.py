"""The project list and the project page, as a user reads them."""
from __future__ import annotations

import re
from datetime import timedelta

from conftest import project_id
from conftest import NOW, SEED_ANNUAL_COUNTS, form_like, seed_forms, set_annual_target, store_forms, text_of


def project_id(app, name: str) -> int:
    from sqlmodel import Session, select
    from models.project import Project
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Project.id).where(Project.name == name)).one()


def rows_of(html: str) -> list[str]:
    """The text of each body row of the project table."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [text_of(row) for row in re.findall(r"<tr.*?</tr>", body, flags=re.S)]


# --------------------------------------------------------------------------- the list

def test_root_redirects_to_the_project_list(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects"


def test_an_empty_list_invites_to_import(client):
    page = client.get("/projects").get_data(as_text=True)
    assert "共 0 个项目年度" in text_of(page)
    assert "还没有项目。请先 导入申报表" in text_of(page)


def test_the_list_shows_the_seed_projects_with_annual_funds_and_indicator_counts(seeded, client):
    response = client.get("/projects")
    assert response.status_code == 200
    rows = rows_of(response.get_data(as_text=True))
    assert rows == [
        "招商引资专项经费 2023 山西省商务厅 山西省投资促进局 37,000,000.00 14 灰 0.00% / 100.00%",
        "招商引资业务经费 2023 山西省商务厅 山西省投资促进局 771,100.00 7 灰 0.00% / 100.00%",
        "网络运行维护费 2023 山西省商务厅 山西省投资促进局 160,600.00 6 灰 0.00% / 100.00%",
    ]


def test_the_list_has_one_row_per_project_year(seeded, client):
    store_forms(seeded, [form_like(2, year=2024)], file_name="2024.pdf")
    rows = rows_of(client.get("/projects").get_data(as_text=True))
    assert [r for r in rows if r.startswith("网络运行维护费")] == [
        "网络运行维护费 2024 山西省商务厅 山西省投资促进局 160,600.00 6 灰 0.00% / 100.00%",
        "网络运行维护费 2023 山西省商务厅 山西省投资促进局 160,600.00 6 灰 0.00% / 100.00%",
    ]


def _with_other_department(app):
    store_forms(app, [form_like(1, name="外商投资企业服务经费", unit="山西省国际经济合作中心",
                                department="山西省发展和改革委员会", code="217", year=2024)],
                file_name="发改委.pdf")


def _option_value(page: str, select: str, label: str) -> str:
    block = re.search(rf'<select name="{select}">(.*?)</select>', page, flags=re.S).group(1)
    return re.search(rf'<option value="(\d+)"[^>]*>{re.escape(label)}</option>', block).group(1)


def test_filters_narrow_the_list(seeded, client):
    _with_other_department(seeded)
    page = client.get("/projects").get_data(as_text=True)
    assert len(rows_of(page)) == 4
    assert '<optgroup label="山西省发展和改革委员会">' in page

    def names(**args):
        return [r.split(" ")[0] for r in rows_of(client.get("/projects", query_string=args).get_data(as_text=True))]

    assert names(year=2024) == ["外商投资企业服务经费"]
    assert names(year=2023) == ["招商引资专项经费", "招商引资业务经费", "网络运行维护费"]
    assert names(department=_option_value(page, "department", "217-山西省发展和改革委员会")) == ["外商投资企业服务经费"]
    assert names(unit=_option_value(page, "unit", "山西省投资促进局")) == [
        "招商引资专项经费", "招商引资业务经费", "网络运行维护费"]
    assert names(q="招商") == ["招商引资专项经费", "招商引资业务经费"]
    assert names(q="招商", year=2023, unit=_option_value(page, "unit", "山西省投资促进局")) == [
        "招商引资专项经费", "招商引资业务经费"]
    empty = client.get("/projects", query_string={"q": "不存在的项目"}).get_data(as_text=True)
    assert "没有符合条件的项目。 清除条件" in text_of(empty)


def test_the_chosen_filters_stay_selected(seeded, client):
    page = client.get("/projects?year=2023&q=网络").get_data(as_text=True)
    assert '<option value="2023" selected>' in page
    assert 'name="q" value="网络"' in page


def test_malformed_filters_are_ignored_rather_than_failing(seeded, client):
    response = client.get("/projects?year=abc&department=&unit=1%3B&page=-3")
    assert response.status_code == 200
    assert len(rows_of(response.get_data(as_text=True))) == 3


def test_a_search_for_percent_or_underscore_matches_them_literally(seeded, client):
    assert rows_of(client.get("/projects?q=%25").get_data(as_text=True)) == [
        "没有符合条件的项目。 清除条件"]


def test_htmx_filtering_gets_only_the_table_and_history_restores_get_the_page(seeded, client):
    fragment = client.get("/projects?q=网络", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="project-table"')
    assert "<html" not in html
    assert rows_of(html) == ["网络运行维护费 2023 山西省商务厅 山西省投资促进局 160,600.00 6 灰 0.00% / 100.00%"]
    assert "HX-Request" in fragment.headers["Vary"]

    restore = client.get("/projects?q=网络", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)


def test_the_filter_form_works_with_and_without_javascript(seeded, client):
    page = client.get("/projects").get_data(as_text=True)
    form = re.search(r'<form class="filters"[^>]*>', page).group(0)
    assert 'method="get" action="/projects"' in form            # plain GET without JS
    assert 'hx-get="/projects"' in form and 'hx-target="#project-table"' in form
    assert 'hx-push-url="true"' in form


def test_long_lists_are_paged(app, client):
    store_forms(app, [form_like(2, name=f"信息化运维项目{n:03d}") for n in range(105)])
    first = client.get("/projects").get_data(as_text=True)
    assert "共 105 个项目年度，第 1/2 页" in text_of(first)
    assert len(rows_of(first)) == 100
    second = client.get("/projects?page=2").get_data(as_text=True)
    assert len(rows_of(second)) == 5


# --------------------------------------------------------------------------- the project page

def test_the_project_page_shows_header_funds_goals_and_the_indicator_table(seeded, client):
    response = client.get(f"/projects/{project_id(seeded, '招商引资专项经费')}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    for expected in ("主管部门及代码 216-山西省商务厅", "实施单位 山西省投资促进局", "项目属性 经常性项目（长期开展）",
                     "项目期 3年", "年度 2023", "负责人 杨晋权", "联系电话 0351-4189135", "填报日期 2021-07-30",
                     "资金总额 111,000,000.00 37,000,000.00", "省级财政资金 111,000,000.00 37,000,000.00",
                     "中央财政资金 0.00 0.00", "其他资金 空 空",
                     "实施期目标 进一步加强经济合作", "年度指标 14 个",
                     "产出指标 数量指标 参展企业数量 ≥100家 数量指标 参展企业数量 ≥70家",
                     "业务成本 ≤11100万元 成本指标 业务成本 ≤3700万元",
                     "立项依据 《关于改革和创新招商引资工作若干意见》"):
        assert expected in text, expected
    # 一级 and 二级 are merged as the form merges them; the standard name is a hint where it differs.
    assert '<td rowspan="10" class="group">产出指标</td>' in html
    assert re.search(r'<td rowspan="7" class="group period-start">数量指标', html)
    assert "服务对象满意度<span class=\"std-hint\" title=\"标准二级指标\">标准：服务对象满意度指标</span>" in html
    assert len(re.findall(r"<tr class=\"\s*\">", html.split('class="data indicators"')[1].split("</table>")[0])) == 14


def test_each_seed_project_page_counts_its_annual_indicators(seeded, client):
    for name, count in SEED_ANNUAL_COUNTS.items():
        text = text_of(client.get(f"/projects/{project_id(seeded, name)}").get_data(as_text=True))
        assert f"年度指标 {count} 个" in text


def test_qualitative_targets_are_marked(seeded, client):
    text = text_of(client.get(f"/projects/{project_id(seeded, '招商引资业务经费')}").get_data(as_text=True))
    assert "保障招商活动开展 保障 定性" in text
    assert "项目按时完成 按时 定性" in text


def test_the_years_of_a_project_are_tabs_and_the_latest_is_shown_first(seeded, client):
    later = set_annual_target(form_like(2, year=2024), "官方网站更新消息数量", "≥260条", 260)
    store_forms(seeded, [later], file_name="2024.pdf")
    pid = project_id(seeded, "网络运行维护费")
    latest = client.get(f"/projects/{pid}").get_data(as_text=True)
    assert re.search(r'<a href="/projects/\d+\?year=2024" aria-current="page">2024年度</a>', latest)
    assert f'href="/projects/{pid}?year=2023"' in latest
    assert "≥260条" in text_of(latest)
    earlier = text_of(client.get(f"/projects/{pid}?year=2023").get_data(as_text=True))
    assert "≥260条" not in earlier and "≥200条" in earlier


def test_the_import_history_lists_batches_and_target_changes(seeded, client):
    corrected = set_annual_target(seed_forms()[0], "参展企业数量", "≥80家", 80)
    store_forms(seeded, [corrected], file_name="更正后的申报表.pdf", who="张三", now=NOW + timedelta(days=3),
                warnings=["招商引资专项经费：第3个指标（参加活动场次）的年度指标值为空或无目标（“*”）",
                          "网络运行维护费：别的项目的警告"])
    text = text_of(client.get(f"/projects/{project_id(seeded, '招商引资专项经费')}").get_data(as_text=True))
    assert "2023-08-09 09:00 张三 更正后的申报表.pdf 2023 变更 1 条警告 第3个指标（参加活动场次）" in text
    assert "2023-08-06 09:00 演示数据 seed_forms.pdf 2023 新增 无" in text
    assert "别的项目的警告" not in text
    assert "2023-08-09 09:00 2023 参展企业数量 年度 ≥70家 ≥80家 更正后的申报表.pdf" in text
    assert "≥80家" in text.split("绩效指标")[1].split("项目情况")[0]   # the table shows the new target


def test_a_project_without_changes_says_so(seeded, client):
    text = text_of(client.get(f"/projects/{project_id(seeded, '网络运行维护费')}").get_data(as_text=True))
    assert "导入以来指标值没有变更。" in text


def test_a_missing_project_or_year_is_a_chinese_404(seeded, client):
    for url in ("/projects/999", f"/projects/{project_id(seeded, '网络运行维护费')}?year=2019"):
        response = client.get(url)
        assert response.status_code == 404
        assert "页面不存在，或您无权查看" in response.get_data(as_text=True)


def test_the_list_shows_each_projects_worst_light_and_budget_progress_as_the_overview_does(seeded, personas):
    from test_exports import record, spend
    from test_api import year_of
    from conftest import PROJECT_A, signed_in
    seeded.config["CLOCK"] = lambda: NOW            # 2023-08-06: July has ended
    py, ids = year_of(seeded, PROJECT_A)
    record(seeded, ids["参展企业数量"], 7, value=35)
    record(seeded, ids["参展面积"], 7, value=10, deviation_reasons=["经费保障"], deviation_note="场馆档期推迟")
    spend(seeded, py, 7, 12345678.9)
    client = signed_in(seeded, personas.supervisor_a)
    page = client.get("/projects?year=2023").get_data(as_text=True)
    assert re.search(r"<th>灯色</th>\s*<th class=\"nowrap\">执行率 <span class=\"muted\">/ 序时进度</span></th>", page)
    rows = {text_of(m.group(1)): text_of(m.group(0))
            for m in re.finditer(r'<tr>\s*<td class="name"><a [^>]*>(.*?)</a>.*?</tr>', page, flags=re.S)}
    overview = client.get(f"/reports/projects/{project_id(seeded, PROJECT_A)}?year=2023").get_data(as_text=True)
    rate = re.search(r"执行率 <strong>([\d.]+%)</strong>", overview).group(1)
    assert rows[PROJECT_A].endswith(f"红 {rate} / 58.33%"), rows[PROJECT_A]       # 7 of 12 months gone
    # a project with nothing entered is grey, its budget unspent
    assert rows["网络运行维护费"].endswith("灰 0.00% / 58.33%"), rows["网络运行维护费"]
    # a year not yet begun: no light, no budget figures
    seeded.config["CLOCK"] = lambda: NOW.replace(year=2022)
    page = text_of(client.get("/projects?year=2023").get_data(as_text=True))
    assert "37,000,000.00 14 未到期 —" in page
