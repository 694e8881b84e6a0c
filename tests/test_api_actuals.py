"""Actuals and spending through the JSON API: the worked example of DOMAIN.md §6, the state as
of a date, the 实施期 entries, stale edits, and every kind of bad input (nothing stored)."""
from __future__ import annotations

import re

import pytest

from conftest import PROJECT_A, form_like, store_forms
from test_api import Api, year_of

SPECIAL = "招商引资专项经费"        # the worked example's project (unit A)
SERVICE = "招商引资业务经费"        # unit A, with qualitative indicators
CHINESE = re.compile(r"[\u4e00-\u9fff]")
REASON = {"deviation_reasons": ["其他"]}


@pytest.fixture
def api(seeded, personas):
    """The 填报人 of unit A."""
    return Api(seeded, personas.manager_a)


def annual(project: dict, indicator_id: int) -> dict:
    return next(i for i in project["indicators"] if i["id"] == indicator_id and i["scope"] == "annual")


def period_side(project: dict, indicator_id: int) -> dict:
    return next(i for i in project["indicators"] if i["id"] == indicator_id and i["scope"] == "period")


def stored(api: Api, py: int, indicator_id: int, as_of: str = "2023-07-31") -> dict | None:
    return annual(api.get(f"/projects/{py}", as_of=as_of).get_json(), indicator_id)["actual"]


# --------------------------------------------------------------------------- the worked example

@pytest.mark.parametrize("cost", [{"value": 2500, "unit": "万元"}, {"value": 25_000_000, "unit": "元"}],
                         ids=["万元", "元"])
def test_the_worked_example_through_the_api(seeded, api, cost):
    py, ids = year_of(seeded, SPECIAL)
    entries = [("参展企业数量", {"value": 35, "unit": "家"}), ("参展面积", {"value": 200, **REASON}),
               ("业务成本", {**cost, **REASON}), ("投资者满意度", {"value": 93, "unit": "%", **REASON}),
               ("签约项目到位资金", {"value": 300, "unit": "亿元", **REASON})]
    for name, body in entries:
        response = api.put(f"/indicators/{ids[name]}/actuals/2023-07", body)
        assert response.status_code == 200, (name, response.get_json())
    spending = api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 15_000_000})
    assert spending.status_code == 200
    assert spending.get_json()["spent_yuan"] == 15_000_000 and spending.get_json()["light"] == "yellow"

    project = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()
    assert (project["id"], project["name"], project["year"]) == (py, SPECIAL, 2023)
    shown = {name: annual(project, ids[name]) for name, _body in entries}
    assert [shown[n]["light"] for n, _b in entries] == ["green", "yellow", "yellow", "yellow", "yellow"]
    assert round(shown["参展企业数量"]["pace"], 3) == 0.857
    assert round(shown["参展面积"]["pace"], 3) == 0.686
    assert round(shown["投资者满意度"]["completion"], 3) == 0.979 and shown["投资者满意度"]["pace"] is None
    assert round(shown["签约项目到位资金"]["pace"], 3) == 0.643
    assert shown["业务成本"]["completion"] == 1 and shown["业务成本"]["pace"] is None   # within 3700万元, but
    assert shown["业务成本"]["actual"]["value"] == cost["value"]                       # 4285.7 projected
    assert shown["业务成本"]["actual"]["unit"] == cost["unit"]
    budget = project["budget"]
    assert (budget["annual_yuan"], budget["spent_yuan"], budget["light"]) == (37_000_000, 15_000_000, "yellow")
    assert round(budget["execution_rate"], 3) == 0.405 and round(budget["pace"], 3) == 0.695
    assert project["light"] == "grey"       # the other nine indicators lack June, past its deadline


def test_the_answer_to_an_entry_is_what_the_project_shows_as_of_its_periods_end(seeded, api):
    """The PUT's answer reads the year its entry judged (services.entry.Entered); the GET judges
    it afresh: every field agrees, for a first entry, a later period, a red and a correction."""
    py, ids = year_of(seeded, SPECIAL)
    for name, period, body in [("参展企业数量", "2023-07", {"value": 35, "unit": "家"}),
                               ("参展企业数量", "2023-09", {"value": 5, **REASON}),
                               ("参展面积", "2023-03", {"value": 20, **REASON}),
                               ("参展企业数量", "2023-07", {"value": 60, "version": 1})]:
        answer = api.put(f"/indicators/{ids[name]}/actuals/{period}", body)
        assert answer.status_code == 200, answer.get_json()
        month_end = {"2023-03": "2023-03-31", "2023-07": "2023-07-31", "2023-09": "2023-09-30"}[period]
        shown = annual(api.get(f"/projects/{py}", as_of=month_end).get_json(), ids[name])
        assert answer.get_json() == shown, (name, period)
    assert shown["light"] == "green" and round(shown["pace"], 3) == round(60 / (70 * 7 / 12), 3)


def test_the_answer_to_a_spending_entry_is_the_projects_budget_as_of_its_periods_end(seeded, api):
    """Read from the year its entry judged, like an actual's: a first report, a later one, a
    fall (冲减, with its note) and one above the budget (超预算)."""
    py, _ids = year_of(seeded, SPECIAL)
    month_ends = {"2023-05": "2023-05-31", "2023-07": "2023-07-31", "2023-08": "2023-08-31"}
    for period, body in [("2023-07", {"amount_yuan": 15_000_000}),
                         ("2023-08", {"amount_yuan": 12_000_000, "note": "7月数据更正"}),
                         ("2023-05", {"amount_yuan": 9_000_000}),
                         ("2023-08", {"amount_yuan": 50_000_000, "note": "追加预算待批复", "version": 1})]:
        answer = api.put(f"/projects/{py}/spending/{period}", body)
        assert answer.status_code == 200, answer.get_json()
        shown = api.get(f"/projects/{py}", as_of=month_ends[period]).get_json()["budget"]
        assert answer.get_json() == shown, period
    assert shown["marks"] == ["超预算"] and shown["spent_yuan"] == 50_000_000


def test_an_indicator_entry_has_the_interface_fields_as_json_numbers(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    answer = api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": "35", "unit": "家"}).get_json()
    assert {"id", "level1", "level2", "level3", "scope", "target", "measure", "actual", "completion", "pace",
            "light"} <= answer.keys()
    assert (answer["id"], answer["level1"], answer["level2"], answer["level3"], answer["scope"], answer["measure"]) \
        == (ids["参展企业数量"], "产出指标", "数量指标", "参展企业数量", "annual", "cumulative")
    assert answer["target"] == {"raw": "≥70家", "kind": "quantitative", "op": ">=", "value": 70, "unit": "家"}
    actual = answer["actual"]
    assert (actual["period"], actual["value"], actual["unit"], actual["assessment"]) == ("2023-07", 35, "家", None)
    assert isinstance(answer["completion"], float) and answer["completion"] == 0.5
    assert actual["version"] == 1 and actual["updated_by"] == "tianbao"


def test_a_qualitative_indicator_takes_an_assessment(seeded, api):
    _py, ids = year_of(seeded, SERVICE)
    answer = api.put(f"/indicators/{ids['保障招商活动开展']}/actuals/2023-07",
                     {"assessment": "部分达成", "note": "部分活动延期", "deviation_reasons": ["经费保障"],
                      "likelihood": "有可能", "forecast": None}).get_json()
    assert answer["measure"] == "qualitative" and answer["light"] == "yellow"
    assert answer["actual"]["assessment"] == "部分达成" and answer["actual"]["value"] is None
    assert answer["actual"]["note"] == "部分活动延期" and answer["actual"]["likelihood"] == "有可能"
    assert answer["completion"] is None and answer["pace"] is None


def test_a_qualitative_forecast_is_an_assessment(seeded, api):
    """Must hold (issue 13): a qualitative forecast 达成 is accepted; the IND returns it."""
    py, ids = year_of(seeded, SERVICE)
    url = f"/indicators/{ids['保障招商活动开展']}/actuals/2023-07"
    response = api.put(url, {"assessment": "部分达成", "forecast": "达成", **REASON})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["actual"]["forecast"] == "达成"
    assert stored(api, py, ids["保障招商活动开展"])["forecast"] == "达成"
    for body, message in (({"assessment": "达成", "forecast": 90}, "定性指标的全年预计应为：达成、部分达成、未达成"),
                          ({"assessment": "达成", "forecast": "基本达成"}, "定性指标的全年预计应为：达成、部分达成、未达成")):
        response = api.put(url, {**body, "version": 1})
        assert response.status_code == 422 and message in response.get_json()["error"], response.get_json()
    assert stored(api, py, ids["保障招商活动开展"])["forecast"] == "达成"


def test_a_numeric_forecast_stays_a_number_in_the_entrys_unit(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['业务成本']}/actuals/2023-07"
    answer = api.put(url, {"value": 2500, "unit": "万元", "forecast": "3,600", **REASON}).get_json()
    assert (answer["actual"]["forecast"], answer["actual"]["unit"]) == (3600, "万元")
    refused = api.put(url, {"value": 2500, "unit": "万元", "forecast": "达成", "version": 1, **REASON})
    assert refused.status_code == 422
    assert "“达成”只用于定性指标，本指标的全年预计应为数字" in refused.get_json()["error"]
    assert stored(api, py, ids["业务成本"])["forecast"] == 3600


# --------------------------------------------------------------------------- as of a date

def test_before_any_actual_the_actual_and_the_light_are_null(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-01", {"value": 10})
    early = api.get(f"/projects/{py}", as_of="2023-01-15").get_json()    # January has not ended
    assert all(i["actual"] is None and i["light"] is None and i["completion"] is None
               for i in early["indicators"])
    assert early["budget"]["light"] is None and early["budget"]["spent_yuan"] is None and early["light"] is None
    window = api.get(f"/projects/{py}", as_of="2023-02-05").get_json()   # January may be entered until 5 Feb
    assert annual(window, ids["参展面积"])["actual"] is None and annual(window, ids["参展面积"])["light"] is None
    assert annual(window, ids["参展企业数量"])["light"] == "green"
    assert annual(window, ids["参展企业数量"])["actual"]["period"] == "2023-01"


def test_after_the_deadline_without_an_actual_the_light_is_grey(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 35})
    api.put(f"/indicators/{ids['参展面积']}/actuals/2023-06", {"value": 300})
    late = api.get(f"/projects/{py}", as_of="2023-02-06").get_json()      # January past its deadline
    assert all(i["light"] == "grey" for i in late["indicators"] if i["scope"] == "annual")
    assert late["budget"]["light"] == "grey" and late["light"] == "grey"
    # until 5 August July may still come in: June decides, and June's area is in
    in_time = api.get(f"/projects/{py}", as_of="2023-08-05").get_json()
    assert annual(in_time, ids["参展面积"])["light"] == "green"
    assert annual(in_time, ids["参展面积"])["actual"]["period"] == "2023-06"
    assert annual(in_time, ids["参展企业数量"])["light"] == "green"
    assert annual(in_time, ids["参加活动场次"])["light"] == "grey"   # June missing too
    late = api.get(f"/projects/{py}", as_of="2023-08-06").get_json()
    assert annual(late, ids["参展面积"])["light"] == "grey" and annual(late, ids["参展面积"])["actual"]["value"] == 300
    assert annual(late, ids["参展企业数量"])["light"] == "green"
    september = api.get(f"/projects/{py}", as_of="2023-09-06").get_json()    # August not entered
    entry = annual(september, ids["参展企业数量"])
    assert entry["light"] == "grey" and entry["actual"]["period"] == "2023-07"


def test_without_as_of_the_date_is_today_in_shanghai(seeded, api):
    from datetime import datetime, timezone
    py, ids = year_of(seeded, SPECIAL)
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-01", {"value": 10})
    # 2023-02-05 17:00 UTC is 02-06 01:00 in Shanghai: past January's deadline there
    seeded.config["CLOCK"] = lambda: datetime(2023, 2, 5, 17, 0, tzinfo=timezone.utc)
    project = api.get(f"/projects/{py}").get_json()
    assert annual(project, ids["参展面积"])["light"] == "grey"
    seeded.config["CLOCK"] = lambda: datetime(2023, 2, 5, 15, 0, tzinfo=timezone.utc)    # 23:00 on the 5th
    assert annual(api.get(f"/projects/{py}").get_json(), ids["参展面积"])["light"] is None


@pytest.mark.parametrize("url", ["/projects", "/projects/{py}", "/projects/{py}/evaluation"])
@pytest.mark.parametrize("as_of", ["2023-13-01", "2023-7-31", "20230731", "昨天", "2023-02-30"])
def test_a_bad_as_of_is_a_400_in_chinese(seeded, api, url, as_of):
    py, _ids = year_of(seeded, SPECIAL)
    response = api.get(url.format(py=py), as_of=as_of)
    assert response.status_code == 400 and CHINESE.search(response.get_json()["error"])


# --------------------------------------------------------------------------- 实施期

def test_the_period_side_is_listed_with_the_progress_over_the_projects_years(seeded, api):
    store_forms(seeded, [form_like(0, year=2022)], file_name="2022.pdf", sha="2" * 64)
    py22, ids22 = year_of(seeded, SPECIAL, 2022)
    py, ids = year_of(seeded, SPECIAL)
    for indicator, period, body in ((ids22["参展企业数量"], "2022-11", {"value": 30, **REASON}),
                                    (ids22["参展企业数量"], "2022-12", {"value": 40, **REASON}),
                                    (ids22["投资者满意度"], "2022-12", {"value": 96}),
                                    (ids["参展企业数量"], "2023-07", {"value": 35}),
                                    (ids["投资者满意度"], "2023-07", {"value": 93, **REASON})):
        assert api.put(f"/indicators/{indicator}/actuals/{period}", body).status_code == 200
    project = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()

    count = period_side(project, ids["参展企业数量"])     # cumulative: 40 (2022) + 35 (2023)
    assert count["target"] == {"raw": "≥100家", "kind": "quantitative", "op": ">=", "value": 100, "unit": "家"}
    assert (count["actual"]["value"], count["actual"]["unit"], count["actual"]["period"]) == (75, "家", "2023-07")
    assert count["actual"]["years"] == [2022, 2023]
    assert count["completion"] == 0.75 and count["pace"] is None and count["light"] is None
    level = period_side(project, ids["投资者满意度"])     # a level: the latest year
    assert level["actual"]["value"] == 93 and round(level["completion"], 4) == round(93 / 95, 4)
    # the annual side keeps this year's own figures
    assert annual(project, ids["参展企业数量"])["actual"]["value"] == 35
    # the 2022 page counts 2022 alone
    earlier = api.get(f"/projects/{py22}", as_of="2023-07-31").get_json()
    assert period_side(earlier, ids22["参展企业数量"])["actual"]["value"] == 40
    # as of the end of 2022, 2023 has nothing due
    assert period_side(api.get(f"/projects/{py}", as_of="2022-12-31").get_json(),
                       ids["参展企业数量"])["actual"]["value"] == 40


def test_every_indicator_is_listed_with_both_targets(seeded, api):
    py, ids = year_of(seeded, SPECIAL)
    indicators = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["indicators"]
    assert [i["scope"] for i in indicators] == ["annual", "period"] * 14
    assert {i["id"] for i in indicators} == set(ids.values())


# --------------------------------------------------------------------------- two editors

def test_a_stale_version_is_a_409_and_nothing_is_lost(seeded, api, personas):
    _py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    first = api.put(url, {"value": 35}).get_json()
    admin = Api(seeded, personas.admin)
    assert admin.put(url, {"value": 40, "version": first["actual"]["version"]}).status_code == 200
    stale = api.put(url, {"value": 41, "version": first["actual"]["version"]})
    assert stale.status_code == 409
    answer = stale.get_json()
    assert "admin" in answer["error"] and CHINESE.search(answer["error"])
    assert answer["current"]["actual"]["value"] == 40 and answer["current"]["actual"]["version"] == 2
    again = api.put(url, {"value": 41}, headers={"If-Match": '"1"'})
    assert again.status_code == 409
    assert api.put(url, {"value": 41}, headers={"If-Match": '"2"'}).status_code == 200
    fresh = api.put(url, {"value": 42, "version": 3})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"4"'


def test_two_editors_at_the_same_moment_one_wins_and_the_other_is_told(seeded, api, personas):
    import threading
    _py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    api.put(url, {"value": 35})
    editors, answers = [api, Api(seeded, personas.admin)], {}
    start = threading.Barrier(2)

    def edit(n):
        start.wait()
        answers[n] = editors[n].put(url, {"value": 40 + n, "version": 1})

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers.values()) == [200, 409]
    winner = next(a for a in answers.values() if a.status_code == 200).get_json()["actual"]["value"]
    loser = next(a for a in answers.values() if a.status_code == 409).get_json()
    assert loser["current"]["actual"]["value"] == winner


VERSION_REQUIRED = "该期已有数值，请先读取并在请求中附上 version 或 If-Match，以免覆盖他人的填报"


def test_a_first_entry_needs_no_version_but_overwriting_one_does(seeded, api, personas):
    """A script that never read the period cannot replace someone's entry unseen: 428."""
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    assert api.put(url, {"value": 35}).status_code == 200            # nothing stored yet: no version needed
    admin = Api(seeded, personas.admin)
    blind = admin.put(url, {"value": 40})
    assert blind.status_code == 428 and blind.get_json() == {"error": VERSION_REQUIRED}
    kept = stored(api, py, ids["参展企业数量"])
    assert (kept["value"], kept["version"], kept["updated_by"]) == (35, 1, "tianbao")
    seen = stored(admin, py, ids["参展企业数量"])["version"]           # read first, then write on what was read
    assert admin.put(url, {"value": 40, "version": seen}).status_code == 200
    assert api.put(url, {"value": 41}, headers={"If-Match": '"2"'}).status_code == 200
    assert stored(api, py, ids["参展企业数量"])["value"] == 41


def test_overwriting_stored_spending_needs_a_version_too(seeded, api):
    py, _ids = year_of(seeded, SPECIAL)
    url = f"/projects/{py}/spending/2023-07"
    assert api.put(url, {"amount_yuan": 15_000_000}).status_code == 200
    blind = api.put(url, {"amount_yuan": 1})
    assert blind.status_code == 428 and blind.get_json() == {"error": VERSION_REQUIRED}
    budget = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]
    assert (budget["spent_yuan"], budget["version"]) == (15_000_000, 1)
    assert api.put(url, {"amount_yuan": 16_000_000}, headers={"If-Match": '"1"'}).status_code == 200
    assert api.put(f"/projects/{py}/spending/2023-08", {"amount_yuan": 17_000_000}).status_code == 200   # a new month


def test_version_zero_writes_only_what_is_not_there_yet(seeded, api):
    _py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    assert api.put(url, {"value": 35, "version": 0}).status_code == 200
    assert api.put(url, {"value": 36, "version": 0}).status_code == 409


def test_if_match_and_the_body_must_agree(seeded, api):
    _py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    api.put(url, {"value": 35})
    for headers, body in (({"If-Match": "abc"}, {"value": 36}), ({}, {"value": 36, "version": "最新"}),
                          ({}, {"value": 36, "version": True})):
        response = api.put(url, body, headers=headers)
        assert response.status_code == 400 and CHINESE.search(response.get_json()["error"]), (headers, body)
    disagree = api.put(url, {"value": 36, "version": 2}, headers={"If-Match": '"1"'})
    assert disagree.status_code == 422 and "不一致" in disagree.get_json()["error"]
    assert api.put(url, {"value": 36}, headers={"If-Match": 'W/"1"'}).status_code == 200


def test_a_stale_spending_is_a_409_and_nothing_is_lost(seeded, api):
    py, _ids = year_of(seeded, SPECIAL)
    url = f"/projects/{py}/spending/2023-07"
    assert api.put(url, {"amount_yuan": 15_000_000}).get_json()["version"] == 1
    assert api.put(url, {"amount_yuan": 16_000_000, "version": 1}).status_code == 200
    stale = api.put(url, {"amount_yuan": 17_000_000}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.get_json()["current"]["spent_yuan"] == 16_000_000
    budget = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]
    assert budget["spent_yuan"] == 16_000_000 and budget["version"] == 2


# --------------------------------------------------------------------------- 超预算 / 冲减 (DOMAIN §3)

def test_spending_below_the_previous_months_needs_a_note(seeded, api):
    """Issue #13's "must hold": without a note 422, with one 200, and the answer marks it."""
    py, _ids = year_of(seeded, SPECIAL)
    assert api.put(f"/projects/{py}/spending/2023-06", {"amount_yuan": 15_000_000}).status_code == 200
    url = f"/projects/{py}/spending/2023-07"
    refused = api.put(url, {"amount_yuan": 12_000_000})
    assert refused.status_code == 422
    assert refused.get_json() == {"error": "累计支出 12,000,000.00 元低于2023年6月的 15,000,000.00 元（冲减）。"
                                           "请在“说明”中写明原因，如资金退回、冲销更正、追加预算待批复", "field": "note"}
    assert api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["period"] == "2023-06"
    accepted = api.put(url, {"amount_yuan": 12_000_000, "note": "退回多拨资金300万元"})
    assert accepted.status_code == 200
    budget = accepted.get_json()
    assert (budget["spent_yuan"], budget["marks"], budget["note"], budget["explained_by"]) == \
        (12_000_000, ["冲减"], "退回多拨资金300万元", "2023-07")
    assert api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["marks"] == ["冲减"]


def test_spending_above_the_budget_needs_a_note_and_stays_green_marked_over_budget(seeded, api):
    py, _ids = year_of(seeded, SPECIAL)
    url = f"/projects/{py}/spending/2023-07"
    refused = api.put(url, {"amount_yuan": 50_000_000, "note": "  "})
    assert refused.status_code == 422 and "超过全年预算数 37,000,000.00 元（超预算）" in refused.get_json()["error"]
    budget = api.put(url, {"amount_yuan": 50_000_000, "note": "追加预算待批复"}).get_json()
    assert (round(budget["execution_rate"], 4), budget["light"], budget["marks"]) == (1.3514, "green", ["超预算"])
    plain = api.put(f"/projects/{py}/spending/2023-08", {"amount_yuan": 51_000_000})
    assert plain.status_code == 422          # still above the budget: every such month explains itself


def test_raising_an_earlier_month_above_a_later_one_needs_the_note_on_the_raise(seeded, api):
    py, _ids = year_of(seeded, SPECIAL)
    api.put(f"/projects/{py}/spending/2023-06", {"amount_yuan": 15_000_000})
    api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 16_000_000})
    url = f"/projects/{py}/spending/2023-06"
    refused = api.put(url, {"amount_yuan": 18_000_000, "version": 1})
    assert refused.status_code == 422 and "2023年7月的累计支出 16,000,000.00 元将低于本期" in refused.get_json()["error"]
    assert api.put(url, {"amount_yuan": 18_000_000, "version": 1, "note": "6月含暂付款，7月冲销"}).status_code == 200
    july = api.get(f"/projects/{py}", as_of="2023-08-31").get_json()["budget"]
    assert (july["period"], july["marks"], july["note"], july["explained_by"]) == ("2023-07", ["冲减"], None, "2023-06")


def test_a_spending_note_that_is_not_text_or_too_long_is_refused(seeded, api):
    py, _ids = year_of(seeded, SPECIAL)
    url = f"/projects/{py}/spending/2023-07"
    assert api.put(url, {"amount_yuan": 1, "note": 5}).status_code == 422
    too_long = api.put(url, {"amount_yuan": 1, "note": "退" * 501})
    assert too_long.status_code == 422 and too_long.get_json()["error"] == "说明不能超过 500 字"
    assert api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["spent_yuan"] is None


# --------------------------------------------------------------------------- bad input

BAD_ACTUALS = [
    ("参展企业数量", {"value": "三十五"}, 422, "实际值"),
    ("参展企业数量", {"value": "abc"}, 422, "不是有效的数字"),
    ("参展企业数量", {"value": "NaN"}, 422, "不是有效的数字"),
    ("参展企业数量", {"value": "Infinity"}, 422, "不是有效的数字"),
    ("参展企业数量", {"value": True}, 422, "不是有效的数字"),
    ("参展企业数量", {"value": [35]}, 422, "不是有效的数字"),
    ("参展企业数量", {"value": {"n": 35}}, 422, "不是有效的数字"),
    ("参展企业数量", {"value": 1e20}, 422, "数值过大"),
    ("参展企业数量", {"value": -1}, 422, "负数"),
    ("参加活动场次", {"value": 600_000_000_000_000}, 422, "相差过大"),     # r = 1.2e14 against ≥5场
    ("参展企业数量", {"value": 35, "unit": "人次"}, 422, "不是同一种单位"),
    ("参展企业数量", {"value": 35, "unit": 5}, 422, "单位"),
    ("参展企业数量", {}, 422, "请填写实际值"),
    ("参展企业数量", {"assessment": "达成"}, 422, "请填写实际值"),
    ("参展面积", {"value": 200}, 422, "偏差原因"),
    ("参展企业数量", {"value": 35, "deviation_reasons": ["天气"]}, 422, "偏差原因"),
    ("参展企业数量", {"value": 35, "likelihood": "也许"}, 422, "完成可能性"),
    ("参展企业数量", {"value": 35, "forecast": "很多"}, 422, "全年预计"),
    ("参展企业数量", {"value": 35, "forecast": "达成"}, 422, "只用于定性指标"),
    ("保障招商活动开展", {"assessment": "达成", "forecast": 1}, 422, "全年预计"),
    ("保障招商活动开展", {"assessment": "达成", "forecast": ["达成"]}, 422, "全年预计"),
    ("保障招商活动开展", {"assessment": "还行"}, 422, "完成情况"),
    ("保障招商活动开展", {"value": 1}, 422, "完成情况"),
]


@pytest.mark.parametrize("name,body,status,message", BAD_ACTUALS, ids=[repr(b) for _n, b, _s, _m in BAD_ACTUALS])
def test_bad_actual_values_are_refused_in_chinese_and_nothing_changes(seeded, api, name, body, status, message):
    project = SERVICE if name == "保障招商活动开展" else SPECIAL
    py, ids = year_of(seeded, project)
    url = f"/indicators/{ids[name]}/actuals/2023-07"
    good = {"assessment": "达成"} if project == SERVICE else {"value": 500 if name == "参展面积" else 35}
    assert api.put(url, good).status_code == 200
    before = stored(api, py, ids[name])
    response = api.put(url, body)
    assert response.status_code == status, response.get_json()
    assert message in response.get_json()["error"] and CHINESE.search(response.get_json()["error"])
    assert stored(api, py, ids[name]) == before


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_nan_and_infinity_are_not_numbers(seeded, api, raw):
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    api.put(url, {"value": 35})
    response = api.put(url, raw=f'{{"value": {raw}}}')
    assert response.status_code == 422 and "不是有效的数字" in response.get_json()["error"]
    assert stored(api, py, ids["参展企业数量"])["value"] == 35


@pytest.mark.parametrize("period,status,message", [
    ("2023-13", 400, "月份"), ("2023-00", 400, "月份"), ("abc", 400, "YYYY-MM"), ("2023-7", 400, "YYYY-MM"),
    ("0000-01", 400, "YYYY-MM"), ("２０２３-07", 400, "YYYY-MM"),
    ("2024-01", 422, "不在项目的 2023 年度内"), ("2022-12", 422, "不在项目的 2023 年度内"),
])
def test_a_bad_period_is_refused_and_nothing_changes(seeded, api, period, status, message):
    py, ids = year_of(seeded, SPECIAL)
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 35})
    before = stored(api, py, ids["参展企业数量"], "2024-01-31")
    response = api.put(f"/indicators/{ids['参展企业数量']}/actuals/{period}", {"value": 36})
    assert response.status_code == status and message in response.get_json()["error"]
    assert stored(api, py, ids["参展企业数量"], "2024-01-31") == before
    spending = api.put(f"/projects/{py}/spending/{period}", {"amount_yuan": 1})
    assert spending.status_code == status and message in spending.get_json()["error"]


@pytest.mark.parametrize("raw", ["", "value=35", '{"value": 35', "[35]", '"35"', "35", "null"])
def test_a_body_that_is_not_a_json_object_is_a_400(seeded, api, raw):
    py, ids = year_of(seeded, SPECIAL)
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 35})
    response = api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", raw=raw)
    assert response.status_code == 400 and "JSON" in response.get_json()["error"]
    assert CHINESE.search(response.get_json()["error"])
    assert stored(api, py, ids["参展企业数量"])["value"] == 35
    assert api.put(f"/projects/{py}/spending/2023-07", raw=raw).status_code == 400


@pytest.mark.parametrize("body,message", [
    ({"amount_yuan": -1}, "不小于 0"), ({"amount_yuan": "很多"}, "不是有效的数字"), ({}, "必须填写"),
    ({"amount_yuan": None}, "必须填写"), ({"amount_yuan": True}, "不是有效的数字"), ({"amount_yuan": [1]}, "不是有效的数字"),
    ({"amount_yuan": "NaN"}, "不是有效的数字"), ({"amount_yuan": 1e20}, "过大"),
])
def test_bad_spending_is_refused_in_chinese_and_nothing_changes(seeded, api, body, message):
    py, _ids = year_of(seeded, SPECIAL)
    url = f"/projects/{py}/spending/2023-07"
    api.put(url, {"amount_yuan": 15_000_000})
    response = api.put(url, body)
    assert response.status_code == 422 and message in response.get_json()["error"]
    assert api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["spent_yuan"] == 15_000_000


def test_spending_whose_rate_no_column_holds_is_refused_not_a_server_error(seeded, api):
    """Against a budget of 1 元 an amount the API's document allows (< 10^15) is an execution rate
    of 10^14 and more, which no ratio column holds (a 500 on PostgreSQL before)."""
    tiny = form_like(0, name="小额经费")
    tiny["funds"]["annual"]["total"] = 1
    store_forms(seeded, [tiny], file_name="小额.pdf", sha="c" * 64)
    py, _ids = year_of(seeded, "小额经费")
    response = api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 900_000_000_000_000})
    assert response.status_code == 422 and "相差过大" in response.get_json()["error"]
    assert api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["spent_yuan"] is None
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 1}).status_code == 200


# --------------------------------------------------------------------------- who

def test_a_reviewer_reads_but_may_not_write(seeded, api, personas):
    py, ids = year_of(seeded, SPECIAL)
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 35})
    reviewer = Api(seeded, personas.supervisor_a)
    assert reviewer.get(f"/projects/{py}", as_of="2023-07-31").status_code == 200
    for response in (reviewer.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 70}),
                     reviewer.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 1})):
        assert response.status_code == 403 and CHINESE.search(response.get_json()["error"])
    assert stored(api, py, ids["参展企业数量"])["value"] == 35


def test_another_units_objects_are_not_found(seeded, api, personas):
    py, ids = year_of(seeded, PROJECT_A)
    other = Api(seeded, personas.manager_b)
    for response in (other.get(f"/projects/{py}"), other.get(f"/projects/{py}/evaluation"),
                     other.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 70}),
                     other.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 1})):
        assert response.status_code == 404 and response.get_json() == {"error": "页面不存在，或您无权查看"}
    assert stored(api, py, ids["参展企业数量"]) is None
    assert api.get("/projects/999999").status_code == 404


def test_without_a_token_every_call_is_a_401(seeded, personas):
    py, ids = year_of(seeded, SPECIAL)
    client = seeded.test_client(use_cookies=False)
    for response in (client.get(f"/api/v1/projects/{py}"),
                     client.put(f"/api/v1/indicators/{ids['参展企业数量']}/actuals/2023-07", json={"value": 35}),
                     client.put(f"/api/v1/projects/{py}/spending/2023-07", json={"amount_yuan": 1}),
                     client.get(f"/api/v1/projects/{py}/evaluation"),
                     client.put(f"/api/v1/indicators/{ids['参展企业数量']}/score", json={"score": None})):
        assert response.status_code == 401 and response.get_json() == {"error": "缺少或无效的访问令牌"}
