"""The fields of INTERFACES.md the stored figures alone did not give (reads/api_answers.py,
reads/indicator_facts.py): an IND's `last_light`, `over` and `original_target`, the budget's
`initial_yuan`, an evaluation item's `suggested`; and timestamps that say their zone."""
from __future__ import annotations

import json

from conftest import form_like, set_annual_target, store_forms
from test_api import Api, year_of
from test_api_actuals import annual, period_side
from test_api_evaluation import YEAR_END, scored

SPECIAL = "招商引资专项经费"


def test_a_grey_light_keeps_the_last_entered_light_beside_it(seeded, personas):
    api = Api(seeded, personas.manager_a)
    py, ids = year_of(seeded, SPECIAL)
    area = ids["参展面积"]
    assert api.put(f"/indicators/{area}/actuals/2023-07", {"value": 200, "deviation_reasons": ["其他"]}).status_code == 200
    in_july = annual(api.get(f"/projects/{py}", as_of="2023-08-06").get_json(), area)
    assert (in_july["light"], in_july["last_light"]) == ("yellow", "yellow")
    august_missing = annual(api.get(f"/projects/{py}", as_of="2023-09-06").get_json(), area)
    assert (august_missing["light"], august_missing["last_light"]) == ("grey", "yellow")
    never_entered = annual(api.get(f"/projects/{py}", as_of="2023-09-06").get_json(), ids["参加活动场次"])
    assert (never_entered["light"], never_entered["last_light"], never_entered["over"]) == ("grey", None, None)
    assert period_side(api.get(f"/projects/{py}", as_of="2023-09-06").get_json(), area)["last_light"] is None


def test_over_achievement_is_marked_and_stays_green(seeded, personas):
    api = Api(seeded, personas.manager_a)
    _py, ids = year_of(seeded, SPECIAL)
    ahead = api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 60}).get_json()   # p = 1.47
    on_track = api.put(f"/indicators/{ids['参加活动场次']}/actuals/2023-07", {"value": 3}).get_json()   # p = 1.03
    assert (ahead["light"], ahead["over"]) == ("green", True)
    assert (on_track["light"], on_track["over"]) == ("green", False)


def test_a_changed_target_shows_the_original_beside_it(seeded, personas):
    store_forms(seeded, [set_annual_target(form_like(0), "参展企业数量", "≥80家", 80)], file_name="调整.pdf",
                sha="d" * 64)
    api = Api(seeded, personas.manager_a)
    py, ids = year_of(seeded, SPECIAL)
    project = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()
    changed = annual(project, ids["参展企业数量"])
    assert changed["target"]["raw"] == "≥80家"
    assert changed["original_target"] == {"raw": "≥70家", "kind": "quantitative", "op": ">=", "value": 70,
                                          "unit": "家"}
    assert annual(project, ids["参展面积"])["original_target"] is None
    assert period_side(project, ids["参展企业数量"])["original_target"] is None      # 实施期 target unchanged


def test_the_budget_shows_the_imported_total_beside_the_one_in_force(seeded, personas):
    api = Api(seeded, personas.manager_a)
    py, _ids = year_of(seeded, SPECIAL)
    budget = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]
    assert (budget["annual_yuan"], budget["initial_yuan"]) == (37_000_000, 37_000_000)
    written = api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 15_000_000}).get_json()
    assert written["initial_yuan"] == 37_000_000 and written["spent_yuan"] == 15_000_000


def test_a_qualitative_score_is_suggested_until_an_evaluator_sets_it(seeded, personas):
    from test_api_evaluation import SERVICE
    clerk, reviewer = Api(seeded, personas.manager_a), Api(seeded, personas.supervisor_a)
    py, ids = year_of(seeded, SERVICE)
    assert clerk.put(f"/indicators/{ids['保障招商活动开展']}/actuals/2023-12", {"assessment": "达成"}).status_code == 200
    assert clerk.put(f"/projects/{py}/spending/2023-12", {"amount_yuan": 771100}).status_code == 200
    evaluation = clerk.get(f"/projects/{py}/evaluation", as_of=YEAR_END).get_json()
    assert scored(evaluation, ids["保障招商活动开展"])["suggested"] is True
    assert scored(evaluation, ids["会议服务次数"])["suggested"] is False            # quantitative
    scored_now = reviewer.put(f"/indicators/{ids['保障招商活动开展']}/score", {"score": 11}, as_of=YEAR_END)
    assert scored(scored_now.get_json(), ids["保障招商活动开展"])["suggested"] is False


def test_timestamps_say_their_zone_whether_just_written_or_read_back(seeded, personas):
    """RFC 3339 date-times, as the document promises: a time without its zone names no moment."""
    api = Api(seeded, personas.manager_a)
    py, ids = year_of(seeded, SPECIAL)
    written = api.put(f"/indicators/{ids['参展面积']}/actuals/2023-07", {"value": 200, "deviation_reasons": ["其他"]})
    read = annual(api.get(f"/projects/{py}", as_of="2023-07-31").get_json(), ids["参展面积"])
    assert written.get_json()["actual"]["updated_at"] == read["actual"]["updated_at"]
    assert read["actual"]["updated_at"].endswith("+00:00")
    from datetime import datetime, timezone
    from models.db import get_session, transaction
    from services import alerts
    with seeded.app_context():
        session = get_session()
        with transaction(session):
            alerts.sync(session, [py], datetime(2023, 8, 6).date(), datetime(2023, 8, 6, 1, tzinfo=timezone.utc),
                        seeded.config)
    listed = api.get("/alerts").get_json()["alerts"]
    assert listed and all(alert["opened_at"].endswith("+00:00") for alert in listed)


def test_an_answer_that_leaves_the_document_is_never_sent(seeded, personas, monkeypatch):
    """A key added to a read model but not to its schema: a server error that every test of the
    call sees — not an undocumented key for clients, and not the 422 of a domain refusal."""
    from reads import api_answers
    from test_api_evaluation import SERVICE
    real = api_answers.evaluation_dict
    monkeypatch.setattr(api_answers, "evaluation_dict", lambda *args: {**real(*args), "undocumented": 1})
    py, _ids = year_of(seeded, SERVICE)
    response = Api(seeded, personas.manager_a).get(f"/projects/{py}/evaluation", as_of=YEAR_END)
    assert response.status_code == 500 and response.get_json() == {"error": "服务器内部错误，请稍后再试"}


def test_the_project_list_is_sent_as_its_model_would_send_it_and_checked_under_test(seeded, personas, monkeypatch):
    """The project list is written without validating each row (a province's is 10,000 of
    them): the JSON is what the model would write, and under test a row that leaves the
    document is still a server error."""
    from reads import api_answers
    from reads.api_schemas import ProjectList, Unchecked, json_of
    api = Api(seeded, personas.admin)
    listed = api.get("/projects", year=2023).get_json()
    assert len(listed["projects"]) >= 3
    built = Unchecked(ProjectList, listed)
    assert json_of(built) == json_of(built.checked())
    real = api_answers.project_list
    monkeypatch.setattr(api_answers, "project_list", lambda *args: Unchecked(ProjectList, {"projects": [
        {**row, "undocumented": 1} for row in real(*args).data["projects"]]}))
    response = api.get("/projects", year=2023)
    assert response.status_code == 500 and response.get_json() == {"error": "服务器内部错误，请稍后再试"}


def test_a_project_answer_written_from_plain_rows_is_what_its_model_writes(seeded, personas, monkeypatch):
    """The project answer is written from its rows as they are (Unchecked): under test, rows that
    fit the model but would be written differently by it (a number sent as text) are a 500."""
    from reads import api_answers
    from reads.api_schemas import Project, Unchecked, json_of
    api = Api(seeded, personas.admin)
    py = api.get("/projects", year=2023).get_json()["projects"][0]["id"]
    answer = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()
    assert json.loads(json_of(Unchecked(Project, answer))) == json.loads(json_of(Unchecked(Project, answer).checked()))
    real = api_answers.project

    def as_text(*args):
        built = real(*args)
        return Unchecked(Project, {**built.data, "indicators": [
            {**ind, "target": {**ind["target"], "value": ind["target"]["value"] and str(ind["target"]["value"])}}
            for ind in built.data["indicators"]]})
    monkeypatch.setattr(api_answers, "project", as_text)
    assert any(i["target"]["value"] is not None for i in answer["indicators"])
    response = api.get(f"/projects/{py}", as_of="2023-07-31")
    assert response.status_code == 500 and response.get_json() == {"error": "服务器内部错误，请稍后再试"}
