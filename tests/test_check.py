"""`flask check [--fix]`: every stored derived value recomputed from its inputs; nothing stale
after a re-import changes a target (the example of issue #12)."""
from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import Session

from conftest import NOW, seed_forms, set_annual_target, store_forms
from importers.values import parse_target
from test_api import Api, year_of

SPECIAL = "招商引资专项经费"


@pytest.fixture(autouse=True)
def today_is_the_import_day(seeded):
    """The seed is imported on 2023-08-06 (conftest.NOW), its open alerts brought in line as of
    that day; the entries and `flask check` (which compares the open alerts as of today) read
    the same clock."""
    seeded.config["CLOCK"] = lambda: NOW


def run_check(app, *args):
    return app.test_cli_runner().invoke(args=["check", *args])


def enter_july(app, api, name: str, value, **extra):
    py, ids = year_of(app, SPECIAL)
    response = api.put(f"/indicators/{ids[name]}/actuals/2023-07", {"value": value, **extra})
    assert response.status_code == 200, response.get_json()
    return py, ids


def test_a_fresh_database_with_entries_checks_clean(seeded, personas):
    api = Api(seeded, personas.manager_a)
    py, _ids = enter_july(seeded, api, "参展企业数量", 35)
    enter_july(seeded, api, "参展面积", 200, deviation_reasons=["其他"])
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 15_000_000}).status_code == 200
    result = run_check(seeded)
    assert result.exit_code == 0, result.output
    assert "一致" in result.output


def test_a_corrupted_summary_row_is_found_and_fixed(seeded, personas):
    from models.summary import LightSummary
    api = Api(seeded, personas.manager_a)
    py, _ids = enter_july(seeded, api, "参展企业数量", 35)
    with Session(seeded.extensions["engine"]) as session:
        session.execute(update(LightSummary).where(LightSummary.project_year_id == py, LightSummary.month == 8,
                                                   LightSummary.level1 == "").values(green=LightSummary.green + 5))
        session.commit()
    result = run_check(seeded)
    assert result.exit_code == 1
    assert f"light_summary ({py}, 8, '')" in result.output and "发现 1 处差异" in result.output
    assert run_check(seeded, "--fix").exit_code == 0
    assert run_check(seeded).exit_code == 0


def test_a_corrupted_actual_light_is_found(seeded, personas):
    from models.actual import Actual
    api = Api(seeded, personas.manager_a)
    _py, ids = enter_july(seeded, api, "参展企业数量", 35)
    with Session(seeded.extensions["engine"]) as session:
        session.execute(update(Actual).where(Actual.indicator_id == ids["参展企业数量"]).values(light="red"))
        session.commit()
    result = run_check(seeded)
    assert result.exit_code == 1
    assert f"指标{ids['参展企业数量']} 2023-07 light: 存储为 red，应为 green" in result.output
    assert run_check(seeded, "--fix").exit_code == 0
    again = run_check(seeded)          # the light and the summaries rewritten once: nothing counted twice
    assert again.exit_code == 0, again.output


def test_a_reimported_target_rejudges_what_was_stored(seeded, personas):
    """≥70家 → ≥80家 with a July actual of 60: completion 0.75 and pace 60 / (80 · 7/12) on the
    API, and nothing stale for `flask check`."""
    api = Api(seeded, personas.manager_a)
    py, ids = enter_july(seeded, api, "参展企业数量", 60)
    before = _annual(api.get(f"/projects/{py}", as_of="2023-08-07").get_json(), ids["参展企业数量"])
    assert round(before["completion"], 3) == 0.857
    forms = seed_forms()
    set_annual_target(forms[0], "参展企业数量", "≥80家", 80)
    store_forms(seeded, forms, file_name="更正.pdf", sha="c" * 64)
    after = _annual(api.get(f"/projects/{py}", as_of="2023-08-07").get_json(), ids["参展企业数量"])
    assert after["target"]["raw"] == "≥80家"
    assert after["completion"] == 0.75
    assert round(after["pace"], 6) == round(60 / (80 * 7 / 12), 6)
    result = run_check(seeded)
    assert result.exit_code == 0, result.output


def _annual(project: dict, indicator_id: int) -> dict:
    return next(i for i in project["indicators"] if i["id"] == indicator_id and i["scope"] == "annual")


def test_a_red_with_nothing_after_it_reads_grey_with_its_last_light_as_of_next_january(seeded, personas):
    api = Api(seeded, personas.manager_a)
    py, ids = year_of(seeded, SPECIAL)
    body = {"value": 100, "deviation_reasons": ["其他"]}
    assert api.put(f"/indicators/{ids['参展面积']}/actuals/2023-09", body).status_code == 200
    september = _annual(api.get(f"/projects/{py}", as_of="2023-10-05").get_json(), ids["参展面积"])
    assert (september["light"], september["last_light"]) == ("red", "red")
    january = _annual(api.get(f"/projects/{py}", as_of="2024-01-10").get_json(), ids["参展面积"])
    assert (january["light"], january["last_light"]) == ("grey", "red")
    assert january["actual"]["period"] == "2023-09"


def test_over_achievement_is_marked_in_the_answer(seeded, personas):
    api = Api(seeded, personas.manager_a)
    py, ids = enter_july(seeded, api, "参展企业数量", 100)
    shown = _annual(api.get(f"/projects/{py}", as_of="2023-08-07").get_json(), ids["参展企业数量"])
    assert shown["over"] is True and shown["light"] == "green"
    _py, _ids = enter_july(seeded, api, "参展面积", 300)
    normal = _annual(api.get(f"/projects/{py}", as_of="2023-08-07").get_json(), ids["参展面积"])
    assert normal["over"] is False
# --------------------------------------------------------------------------- writers and the core agree

SERVICE, NETWORK = "招商引资业务经费", "网络运行维护费"
REASON = {"deviation_reasons": ["其他"]}


def test_a_value_with_more_decimals_than_kept_is_judged_as_stored(seeded, personas):
    """The value column keeps 6 decimals: the entry is judged on the value it is stored as, so
    its completion and pace are the ones `flask check` works out from what is stored."""
    api = Api(seeded, personas.manager_a)
    py, ids = enter_july(seeded, api, "参展企业数量", 35.12345678)
    project = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()
    assert _annual(project, ids["参展企业数量"])["actual"]["value"] == 35.123457
    result = run_check(seeded)
    assert result.exit_code == 0, result.output


def test_spending_in_fractions_of_a_fen_is_judged_as_stored(seeded, personas):
    api = Api(seeded, personas.manager_a)
    py, _ids = year_of(seeded, NETWORK)          # 年度资金 160,600 元: a fen is a visible share of it
    response = api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 80_000.005})
    assert response.status_code == 200 and response.get_json()["spent_yuan"] == 80_000.01
    result = run_check(seeded)
    assert result.exit_code == 0, result.output


def test_an_entry_the_target_in_force_cannot_judge_reads_grey_everywhere(seeded, personas):
    """保障 (assessed 达成 in July) re-imported as ≥90 %: the assessment cannot be judged against a
    number, so the period has no usable actual — grey on the project and in the summaries."""
    api = Api(seeded, personas.manager_a)
    py, ids = year_of(seeded, SERVICE)
    response = api.put(f"/indicators/{ids['保障招商活动开展']}/actuals/2023-07", {"assessment": "达成"})
    assert response.status_code == 200 and response.get_json()["light"] == "green"
    forms = seed_forms()
    item = next(i for i in forms[1]["indicators"] if i["annual"] and i["annual"]["level3"] == "保障招商活动开展")
    item["annual"]["target"] = parse_target("≥90%").as_dict()
    store_forms(seeded, forms, file_name="更正.pdf", sha="d" * 64)
    project = api.get(f"/projects/{py}", as_of="2023-08-07").get_json()
    assert _annual(project, ids["保障招商活动开展"])["light"] == "grey"
    result = run_check(seeded)
    assert result.exit_code == 0, result.output


def test_entries_are_judged_with_the_light_bands_in_settings(seeded, personas):
    """PACE_BANDS green 0.9 / yellow 0.7: July's 35 of ≥70家 (p = 0.857) is yellow, so it needs a
    偏差原因 — and what is stored is what `flask check` works out under the same settings."""
    seeded.config["PACE_BANDS"] = {"green": 0.9, "yellow": 0.7}
    api = Api(seeded, personas.manager_a)
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    refused = api.put(url, {"value": 35})
    assert refused.status_code == 422 and "黄灯" in refused.get_json()["error"]
    answer = api.put(url, {"value": 35, **REASON})
    assert answer.status_code == 200 and answer.get_json()["light"] == "yellow"
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 17_000_000}).get_json()["light"] == "yellow"
    result = run_check(seeded)
    assert result.exit_code == 0, result.output


def test_a_change_of_the_bands_is_applied_to_everything_stored_by_check_fix(seeded, personas):
    """The settings-change path (services.derived.rejudge_all): after PACE_BANDS change, `flask
    check` names every stale light, `--fix` rewrites them, and a second check finds nothing."""
    api = Api(seeded, personas.manager_a)
    py, ids = enter_july(seeded, api, "参展企业数量", 35)
    assert _annual(api.get(f"/projects/{py}", as_of="2023-08-07").get_json(), ids["参展企业数量"])["light"] == "green"
    seeded.config["PACE_BANDS"] = {"green": 0.9, "yellow": 0.7}
    stale = run_check(seeded)
    assert stale.exit_code == 1
    assert f"指标{ids['参展企业数量']} 2023-07 light: 存储为 green，应为 yellow" in stale.output
    fixed = run_check(seeded, "--fix")
    assert fixed.exit_code == 0 and "已修正" in fixed.output
    again = run_check(seeded)
    assert again.exit_code == 0, again.output
    assert _annual(api.get(f"/projects/{py}", as_of="2023-08-07").get_json(), ids["参展企业数量"])["light"] == "yellow"


def test_bands_out_of_range_are_named_and_nothing_is_checked(seeded):
    seeded.config["PACE_BANDS"] = {"green": 0.5, "yellow": 0.7}
    for args in ((), ("--fix",)):
        result = run_check(seeded, *args)
        assert result.exit_code == 2
        assert "设置有误，未检查：序时进度阈值应满足 0 < 黄灯阈值 ≤ 绿灯阈值" in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


# --------------------------------------------------------------------------- open alerts

def test_open_alerts_unlike_the_cores_are_found_and_fixed(seeded, personas):
    """The open alerts are compared as of today (the app's clock: 2023-08-06, July overdue): an
    alert missing, an extra one and one of the wrong period are each named, with exit code 1;
    `--fix` brings them in line (services.alerts) and a second check finds nothing."""
    from sqlmodel import select

    from models.actual import Alert
    api = Api(seeded, personas.manager_a)
    py, ids = enter_july(seeded, api, "参展面积", 200, **REASON)          # yellow: a light alert
    area, count, visits = ids["参展面积"], ids["参展企业数量"], ids["参加活动场次"]
    with Session(seeded.extensions["engine"]) as session:
        def open_alert(indicator_id: int, kind: str) -> Alert:
            return session.exec(select(Alert).where(Alert.indicator_id == indicator_id, Alert.kind == kind,
                                                    Alert.closed_at.is_(None))).one()
        open_alert(area, "light").closed_at = NOW                              # missing
        session.add(Alert(project_year_id=py, indicator_id=count, kind="light", month=7, light="red",
                          opened_at=NOW))                                      # extra: July is not entered
        open_alert(visits, "overdue").month = 6                                # July is the one overdue
        session.commit()
    result = run_check(seeded)
    assert result.exit_code == 1
    for line in (f"项目年度{py} 指标{area} 预警 light: 存储为 空，应为 yellow 2023-07",
                 f"项目年度{py} 指标{count} 预警 light: 存储为 red 2023-07，应为 空",
                 f"项目年度{py} 指标{visits} 预警 overdue: 存储为 grey 2023-06，应为 grey 2023-07",
                 "发现 3 处差异"):
        assert line in result.output, result.output
    fixed = run_check(seeded, "--fix")
    assert fixed.exit_code == 0 and "已修正 3 处差异" in fixed.output
    again = run_check(seeded)
    assert again.exit_code == 0, again.output
    with Session(seeded.extensions["engine"]) as session:
        standing = {(a.indicator_id, a.kind): (a.light, a.month) for a in session.exec(
            select(Alert).where(Alert.project_year_id == py, Alert.closed_at.is_(None)))}
    assert standing[(area, "light")] == ("yellow", 7) and (count, "light") not in standing
    assert standing[(visits, "overdue")] == ("grey", 7) and standing[(count, "overdue")] == ("grey", 7)


def test_alerts_left_behind_by_the_days_that_passed_are_found(seeded, personas):
    """Alerts are a cache of the core as of a day: a day later the judged period may move on (the
    reminder cycle brings them along each morning); until then `flask check` says so."""
    from datetime import timedelta
    assert run_check(seeded).exit_code == 0
    seeded.config["CLOCK"] = lambda: NOW.replace(month=9) + timedelta(days=1)       # 2023-09-06: August is overdue
    stale = run_check(seeded)
    assert stale.exit_code == 1 and "预警 overdue: 存储为 grey 2023-07，应为 grey 2023-08" in stale.output
    assert seeded.test_cli_runner().invoke(args=["reminders", "send", "--now", "2023-09-06T09:00"]).exit_code == 0
    again = run_check(seeded)
    assert again.exit_code == 0, again.output
