"""The bands of DOMAIN.md come from settings everywhere (issue #12): an entry judged through the
page, the API or the Excel sheet stores the light the settings give, every reader shows it, and
`flask check` — which judges with the same settings — finds nothing to correct."""
from __future__ import annotations

import pytest

from app import create_app
from conftest import NOW, SECRET_KEY, signed_in, text_of
from test_api import Api, year_of
from test_bulk_entry import fill, send, sheet
from test_views_actuals import indicator_id, light_of, record, row_html

SPECIAL = "招商引资专项经费"
STRICT = {"green": 0.9, "yellow": 0.7}


@pytest.fixture
def strict(seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    seeded.config["PACE_BANDS"] = STRICT
    return seeded


def annual(project: dict, indicator_id: int) -> dict:
    return next(i for i in project["indicators"] if i["id"] == indicator_id and i["scope"] == "annual")


def test_pace_bands_from_settings_judge_the_page_the_api_the_sheet_and_the_check(strict, personas):
    """35 of ≥70家 in July: p = 0.857, green by default, yellow from 0.9; 200 of ≥500平方米 (0.686)
    and 300 of ≥800亿元 (0.643) are red below 0.7 (yellow by default)."""
    page = signed_in(strict, personas.manager_a)
    assert record(page, strict, "参展企业数量", value="35", deviation_reasons=["其他"]).status_code == 200
    api = Api(strict, personas.manager_a)
    py, ids = year_of(strict, SPECIAL)
    assert api.put(f"/indicators/{ids['参展面积']}/actuals/2023-07",
                   {"value": 200, "deviation_reasons": ["其他"]}).status_code == 200
    book = sheet(page, year=2023, period="2023-07")
    fill(book, "签约项目到位资金", 实际值=300, 单位="亿元", 偏差原因="其他")
    assert send(page, book).status_code == 303

    html = page.get(f"/projects/{personas.project_a}?period=2023-07").get_data(as_text=True)
    shown = {name: light_of(row_html(html, indicator_id(strict, name)))
             for name in ("参展企业数量", "参展面积", "签约项目到位资金")}
    assert shown == {"参展企业数量": "黄", "参展面积": "红", "签约项目到位资金": "红"}
    project = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()
    assert [annual(project, ids[name])["light"] for name in ("参展企业数量", "参展面积", "签约项目到位资金")] \
        == ["yellow", "red", "red"]
    assert round(annual(project, ids["参展企业数量"])["pace"], 3) == 0.857

    result = strict.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output


def test_an_entry_green_by_default_needs_no_reason_but_yellow_by_the_settings_does(strict, personas):
    page = signed_in(strict, personas.manager_a)
    refused = record(page, strict, "参展企业数量", value="35")
    assert refused.status_code == 422 and "当前为黄灯，请填写偏差原因" in text_of(refused.get_data(as_text=True))


def test_the_self_evaluation_api_grades_with_the_settings(seeded, personas):
    py, ids = year_of(seeded, "招商引资业务经费")
    clerk = Api(seeded, personas.manager_a)
    assert clerk.put(f"/indicators/{ids['会议服务次数']}/actuals/2023-12", {"value": 100}).status_code == 200
    assert clerk.put(f"/projects/{py}/spending/2023-12", {"amount_yuan": 771100}).status_code == 200
    answer = clerk.get(f"/projects/{py}/evaluation", as_of="2024-01-31").get_json()
    assert (answer["total"], answer["grade"]) == (22.5, "差")          # 10 (budget) + 12.5 (meetings)
    seeded.config["GRADE_BANDS"] = {"优": 40, "良": 30, "中": 20}
    assert clerk.get(f"/projects/{py}/evaluation", as_of="2024-01-31").get_json()["grade"] == "中"


@pytest.mark.parametrize("bands, reason", [
    ({"PACE_BANDS": {"green": 0.6, "yellow": 0.8}}, "序时进度阈值应满足 0 < 黄灯阈值 ≤ 绿灯阈值"),
    ({"LEVEL_YELLOW": "九成"}, "“九成”不是有效的数字"),
    ({"GRADE_BANDS": {"优": 80, "良": 90, "中": 60}}, "评级分数线应满足 0 ≤ 中 ≤ 良 ≤ 优 ≤ 100"),
])
def test_bands_out_of_order_stop_the_start_with_the_reason(tmp_path, bands, reason):
    """Before any database is touched, as a weak SECRET_KEY does."""
    with pytest.raises(RuntimeError, match=reason):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}", "TESTING": True, "SECRET_KEY": SECRET_KEY,
                    **bands})
    assert not (tmp_path / "never.db").exists()
