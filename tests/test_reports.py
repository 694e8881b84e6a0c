"""Reports: the overview as of a date (counts, budget, filters, scope), the API's answer beside
the page's, the open-alert list, the drill-down, and the summary tables kept in step with
every write (reads/overview.py, reads/alert_list.py, reads/project_report.py, views/reports.py,
views/api_reports.py)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlmodel import select

from conftest import (DEPARTMENT_A, DEPARTMENT_B, PROJECT_B, UNIT_A, UNIT_B, form_like, seed_forms, signed_in,
                      store_forms, text_of)

NOW = datetime(2023, 8, 10, 2, 0, tzinfo=timezone.utc)
P = "招商引资业务经费"          # 7 annual indicators: the hand-built case
REASON = {"deviation_reasons": ["其他"]}

# June: all seven green. July: six entered (满意度 missing), with known lights.
JUNE = {"会议服务次数": {"value": 50}, "保障招商活动开展": {"assessment": "达成"}, "项目按时完成": {"assessment": "达成"},
        "成本指标": {"value": 30}, "对我省招商引资的作用": {"assessment": "达成"}, "服务投诉率": {"value": 5},
        "服务对象满意度": {"value": 95}}
JULY = {"会议服务次数": ({"value": 80}, "green"), "保障招商活动开展": ({"assessment": "部分达成", **REASON}, "yellow"),
        "项目按时完成": ({"assessment": "未达成", **REASON}, "red"), "成本指标": ({"value": 40}, "green"),
        "对我省招商引资的作用": ({"assessment": "达成"}, "green"), "服务投诉率": ({"value": 15, **REASON}, "red")}
OTHERS_A = 14 + 6           # the other two projects of unit A: nothing entered → grey once due


# --------------------------------------------------------------------------- helpers

def _session(app):
    from models.db import get_session
    return get_session()


def project_year(session, name: str, unit: str = UNIT_A):
    from models import Project, ProjectYear, Unit
    return session.exec(select(ProjectYear).join(Project, Project.id == ProjectYear.project_id)
                        .join(Unit, Unit.id == Project.unit_id)
                        .where(Project.name == name, Unit.name == unit)).one()


def indicator(session, py, level3: str):
    from models import Indicator
    return session.exec(select(Indicator).where(Indicator.project_year_id == py.id,
                                                Indicator.annual_level3 == level3)).one()


def enter(app, name: str, month: int, values: dict, unit: str = UNIT_A, when: datetime = NOW):
    """Record actuals the way the pages do (record_actual in one transaction)."""
    from models.actual import ActualInput
    from services.entry import Context, record_actual
    from models.db import get_session, transaction
    with app.app_context():
        session = get_session()
        with transaction(session):
            py = project_year(session, name, unit)
            for level3, data in values.items():
                record_actual(session, indicator(session, py, level3), py, 2023, month, ActualInput(**data),
                              Context("填报人甲", when))


def spend(app, name: str, month: int, amount, unit: str = UNIT_A, note: str | None = None):
    from services.entry import Context, record_spending
    from models.db import get_session, transaction
    with app.app_context():
        session = get_session()
        with transaction(session):
            record_spending(session, project_year(session, name, unit), 2023, month, amount, Context("填报人甲", NOW),
                            note=note)


@pytest.fixture
def entered(seeded, personas):
    """The hand-built case: June all green, July six entered with known lights."""
    enter(seeded, P, 6, JUNE)
    enter(seeded, P, 7, {k: data for k, (data, _light) in JULY.items()})
    spend(seeded, P, 6, 385_550)
    spend(seeded, P, 7, 400_000)
    return seeded


def report(app, username: str = "admin", **filters):
    from models.user import User
    from reads.overview import overview
    from reads.report_filters import ReportFilters, resolve_moment
    with app.app_context():
        session = _session(app)
        user = session.exec(select(User).where(User.username == username)).one()
        f = ReportFilters.model_validate(filters)
        return overview(session, user, f, resolve_moment(f, [2023], date(2023, 8, 10), app.config))


def counts(group) -> dict:
    return group.counts.as_dict()


def unit_named(rep, name: str):
    return next(u for d in rep.departments for u in d.units if u.name == name)


# --------------------------------------------------------------------------- the rule of "as of"

@pytest.mark.parametrize("lights,month,late,periods,expected", [
    ({7: "red"}, 7, False, "monthly", "red"),           # entered early: it counts
    ({6: "green"}, 7, False, "monthly", "green"),       # July's window still open: June stands
    ({6: "green"}, 7, True, "monthly", "grey"),         # past July's deadline: grey
    ({5: "green"}, 7, False, "monthly", "grey"),        # June missing too: grey, not May's light
    ({}, 1, False, "monthly", None),                    # January's window open: nothing due yet
    ({}, 1, True, "monthly", "grey"),
    ({6: "yellow"}, 8, False, "quarterly", "yellow"),   # quarterly: Q2 decides all through August
    ({3: "green"}, 7, False, "quarterly", "grey"),      # Q2 missing, its deadline (5 July) passed
    ({3: "green"}, 6, False, "quarterly", "green"),     # end of June: Q2's window open, Q1 stands
    ({}, 2, True, "quarterly", None),                   # no quarter has ended
])
def test_the_light_as_of_a_date_follows_the_judged_period(lights, month, late, periods, expected):
    from domain.calendar import YearCalendar
    from domain.project_year import light_at_month
    assert light_at_month(YearCalendar(2023, periods), lights, month, late) == expected


def test_the_moment_knows_its_month_and_whether_the_deadline_passed():
    from reads.report_filters import AsOf

    def at(on: date, config=None) -> tuple:
        moment = AsOf.of(2023, on, config or {})
        return moment.month, moment.late

    assert at(date(2023, 7, 31)) == (7, False)
    assert at(date(2023, 8, 5)) == (7, False)
    assert at(date(2023, 8, 6)) == (7, True)
    assert at(date(2023, 1, 30))[0] is None
    assert at(date(2024, 3, 1)) == (12, True)
    assert at(date(2023, 8, 6), {"ENTRY_DEADLINE_DAY": 10}) == (7, False)      # the settings' deadline day
    assert at(date(2023, 8, 11), {"ENTRY_DEADLINE_DAY": 10}) == (7, True)


# --------------------------------------------------------------------------- counts

def test_counts_of_a_hand_built_case_as_of_two_months(entered):
    after = report(entered, year=2023, as_of=date(2023, 8, 10))
    department_a = after.departments[0].id
    p = next(line for line in report(entered, year=2023, as_of=date(2023, 8, 10), department=department_a).projects
             if line.name == P)
    assert counts(p) == {"green": 3, "yellow": 1, "red": 2, "grey": 1}          # 满意度 missing past 5 August

    end_of_july = report(entered, year=2023, as_of=date(2023, 7, 31))
    p_july = next(line for line in end_of_july.red_projects if line.name == P)
    assert counts(p_july) == {"green": 4, "yellow": 1, "red": 2, "grey": 0}    # June's green still stands

    end_of_june = report(entered, year=2023, as_of=date(2023, 6, 30))
    unit = unit_named(end_of_june, UNIT_A)
    assert counts(unit) == {"green": 7, "yellow": 0, "red": 0, "grey": OTHERS_A}
    assert counts(unit_named(after, UNIT_A)) == {"green": 3, "yellow": 1, "red": 2, "grey": 1 + OTHERS_A}
    assert unit.counts.indicators == 7 + OTHERS_A and unit.projects == 3


def test_before_anything_is_due_there_are_no_lights_only_indicators(entered):
    rep = report(entered, year=2023, as_of=date(2023, 1, 20))
    unit = unit_named(rep, UNIT_A)
    assert counts(unit) == {"green": 0, "yellow": 0, "red": 0, "grey": 0}
    assert unit.counts.pending == 7 + OTHERS_A
    assert rep.red_total == 0 and unit.budget.light is None


def test_budget_execution_sums_the_projects_against_their_progress(entered):
    unit = unit_named(report(entered, year=2023, as_of=date(2023, 8, 10)), UNIT_A)
    annual = Decimal(37_000_000 + 771_100 + 160_600)
    assert unit.budget.annual_yuan == annual and unit.budget.spent_yuan == 400_000
    assert unit.budget.execution_rate == Decimal(400_000) / annual
    assert unit.budget.progress == Decimal(7) / 12
    assert unit.budget.light == "red"                     # 1 % spent at 58 % of the year
    alone = report(entered, year=2023, as_of=date(2023, 8, 10), light="red").totals.budget
    assert alone.annual_yuan == 771_100 and alone.light == "green"     # 400000/771100 = 51.9 % ≥ 0.8 × 58.3 %


@pytest.mark.parametrize("bands,expected", [
    (None, "yellow"),                               # the default bands: pace 0.686 is in 0.6–0.8
    ({"green": 0.65, "yellow": 0.5}, "green"),
    ({"green": 0.9, "yellow": 0.7}, "red"),
])
def test_a_groups_budget_light_follows_the_bands_in_settings(seeded, personas, bands, expected):
    """Unit A's three projects each spent 40 % of their budget by July (pace 0.4 / (7/12) =
    0.686): the light of what they add up to is judged with the settings' PACE_BANDS, on the
    page and in the API alike."""
    from models import Project, ProjectYear, Unit
    with seeded.app_context():
        budgets = _session(seeded).exec(select(Project.name, ProjectYear.annual_total_yuan)
                                         .join(ProjectYear, ProjectYear.project_id == Project.id)
                                         .join(Unit, Unit.id == Project.unit_id).where(Unit.name == UNIT_A)).all()
    assert len(budgets) == 3 and all(annual > 0 for _name, annual in budgets)
    for name, annual in budgets:
        spend(seeded, name, 7, annual * Decimal("0.4"))
    if bands is not None:
        seeded.config["PACE_BANDS"] = bands
    answer = api(seeded, personas.supervisor_a, "/api/v1/reports/overview?year=2023&as_of=2023-08-10")
    (department,) = answer["departments"]
    assert department["budget"]["execution_rate"] == 0.4
    assert [department["budget"]["light"], department["units"][0]["budget"]["light"]] == [expected, expected]
    html = signed_in(seeded, personas.supervisor_a).get("/reports/overview?year=2023&as_of=2023-08-10").get_data(
        as_text=True)
    assert re.search(r'<p class="big-figure"><span class="light light-(\w+)"', html).group(1) == expected


def test_the_overview_and_the_drill_down_read_the_deadline_day_of_settings(entered):
    """As of 8 August, July's window is open when entries are due by the 10th: 服务对象满意度
    (not entered for July) still shows June's green, not grey."""
    by_the_5th = report(entered, year=2023, as_of=date(2023, 8, 8))
    assert counts(unit_named(by_the_5th, UNIT_A)) == {"green": 3, "yellow": 1, "red": 2, "grey": 1 + OTHERS_A}
    entered.config["ENTRY_DEADLINE_DAY"] = 10
    by_the_10th = report(entered, year=2023, as_of=date(2023, 8, 8))
    assert by_the_5th.moment.late and not by_the_10th.moment.late
    # the other two projects miss June as well: grey either way
    assert counts(unit_named(by_the_10th, UNIT_A)) == {"green": 4, "yellow": 1, "red": 2, "grey": OTHERS_A}
    from models.user import User
    from reads.project_report import project_report
    with entered.app_context():
        session = _session(entered)
        admin = session.exec(select(User).where(User.username == "admin")).one()
        drill = project_report(session, admin, _project_id(entered, P), 2023, date(2023, 8, 8), entered.config)
    assert {i.name: i.light for i in drill.indicators}["服务对象满意度"] == "green"


def test_filters_narrow_the_numbers(entered):
    base = report(entered, year=2023, as_of=date(2023, 8, 10))
    assert base.totals.projects == 4
    satisfaction = report(entered, year=2023, as_of=date(2023, 8, 10), level1="满意度指标")
    assert counts(unit_named(satisfaction, UNIT_A)) == {"green": 0, "yellow": 0, "red": 0, "grey": 3}
    output = report(entered, year=2023, as_of=date(2023, 8, 10), level1="产出指标", light="red")
    assert output.totals.projects == 1 and counts(output.totals) == {"green": 2, "yellow": 1, "red": 1, "grey": 0}
    red = report(entered, year=2023, as_of=date(2023, 8, 10), light="red")
    assert [line.name for line in red.red_projects] == [P] and red.totals.projects == 1
    only_b = report(entered, year=2023, as_of=date(2023, 8, 10), department=base.departments[1].id)
    assert [d.name for d in only_b.departments] == [DEPARTMENT_B]
    assert [line.name for line in only_b.projects] == [PROJECT_B]


def test_departments_and_units_group_the_projects(entered):
    rep = report(entered, year=2023, as_of=date(2023, 8, 10))
    assert [(d.label, [u.name for u in d.units]) for d in rep.departments] == [
        ("216-山西省商务厅", [UNIT_A]), ("217-山西省发展和改革委员会", [UNIT_B])]
    totals = rep.totals.counts
    assert totals.indicators == 7 + OTHERS_A + 7 and totals.grey == 1 + OTHERS_A + 7


# --------------------------------------------------------------------------- scope

def test_a_departments_supervisor_sees_only_theirs(entered, personas):
    rep = report(entered, "shenhe", year=2023, as_of=date(2023, 8, 10))
    assert [d.name for d in rep.departments] == [DEPARTMENT_A]
    assert rep.totals.counts.indicators == 7 + OTHERS_A            # unit B's seven are not in the numbers
    client = signed_in(entered, personas.supervisor_a)
    html = client.get("/reports/overview?year=2023&as_of=2023-08-10").get_data(as_text=True)
    page = text_of(html)
    assert DEPARTMENT_A in page and DEPARTMENT_B not in page and UNIT_B not in page
    assert f">{UNIT_A}</option>" in html           # their only department's units are offered at once
    answer = api(entered, personas.supervisor_a, "/api/v1/reports/overview?year=2023&as_of=2023-08-10")
    assert [d["name"] for d in answer["departments"]] == [DEPARTMENT_A]
    # naming the other department in the query string opens nothing
    other = report(entered, "admin", year=2023).departments[1].id
    assert report(entered, "shenhe", year=2023, department=other).departments == []


def test_a_manager_sees_their_own_units_overview(entered, personas):
    rep = report(entered, "tianbao_b", year=2023, as_of=date(2023, 8, 10))
    assert [u.name for d in rep.departments for u in d.units] == [UNIT_B]
    assert rep.totals.counts.grey == 7 and rep.red_total == 0
    client = signed_in(entered, personas.manager_b)
    assert UNIT_A not in client.get("/reports/overview").get_data(as_text=True)
    assert client.get(f"/reports/projects/{personas.project_a}").status_code == 404


# --------------------------------------------------------------------------- the page and the API

def api(app, person, url: str):
    from models.db import get_session, transaction
    from models.user import User, new_token
    with app.app_context():
        session = get_session()
        with transaction(session):
            token = new_token(session, session.get(User, person.id), NOW)
    response = app.test_client(use_cookies=False).get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def page_numbers(html: str) -> dict[str, dict]:
    """What the page shows per 主管部门 (summary row) and 实施单位 (table row): counts and 执行率."""
    shown = {}
    for block in re.findall(r'<details class="dept".*?</details>', html, flags=re.S):
        summary = block.split("</summary>", 1)[0]
        name = re.search(r'<span class="name">([^<]+)</span>', summary).group(1).split("-", 1)[-1]
        numbers = re.findall(r'<span class="num count-(\w+)[^"]*"><span class="visually-hidden">[^<]*</span>(\d+)</span>', summary)
        rate = re.search(r'<span class="num">([\d.]+%)</span>', summary)
        shown[name] = {"counts": {k: int(v) for k, v in numbers}, "rate": rate.group(1) if rate else None}
        for row in re.findall(r"<tr>\s*<td><a [^>]*>([^<]+)</a></td>(.*?)</tr>", block, flags=re.S):
            cells = re.findall(r'<td class="num count-(\w+)[^"]*"><span class="visually-hidden">[^<]*</span>(\d+)</td>', row[1])
            unit_rate = re.search(r'<span class="num">([\d.]+%)</span>', row[1])
            shown[row[0]] = {"counts": {k: int(v) for k, v in cells}, "rate": unit_rate.group(1) if unit_rate else None}
    return shown


def as_percent(rate) -> str | None:
    return None if rate is None else f"{Decimal(str(rate)) * 100:.2f}%"


def test_the_api_answers_the_pages_numbers_in_the_interfaces_shape(entered, personas):
    url = "year=2023&as_of=2023-08-10"
    answer = api(entered, personas.admin, f"/api/v1/reports/overview?{url}")
    assert set(answer) >= {"departments"}
    for dept in answer["departments"]:
        assert set(dept) >= {"name", "counts", "budget", "units"}
        assert set(dept["counts"]) == {"green", "yellow", "red", "grey"}
        assert set(dept["budget"]) >= {"annual_yuan", "spent_yuan", "execution_rate", "light"}
        for unit in dept["units"]:
            assert set(unit) >= {"name", "counts", "budget"}
    html = signed_in(entered, personas.admin).get(f"/reports/overview?{url}").get_data(as_text=True)
    shown = page_numbers(html)
    for dept in answer["departments"]:
        for item in [dept, *dept["units"]]:
            assert shown[item["name"]]["counts"] == item["counts"], item["name"]
            assert shown[item["name"]]["rate"] == as_percent(item["budget"]["execution_rate"]), item["name"]
    a = next(d for d in answer["departments"] if d["name"] == DEPARTMENT_A)["units"][0]
    assert a["counts"] == {"green": 3, "yellow": 1, "red": 2, "grey": 1 + OTHERS_A}
    assert a["budget"]["annual_yuan"] == 37_931_700 and a["budget"]["spent_yuan"] == 400_000
    assert a["budget"]["execution_rate"] == 0.0105 and a["budget"]["light"] == "red"


def test_the_api_refuses_malformed_parameters_in_chinese(entered, personas):
    from models.db import get_session, transaction
    from models.user import User, new_token
    with entered.app_context():
        session = get_session()
        with transaction(session):
            token = new_token(session, session.get(User, personas.admin.id), NOW)
    client = entered.test_client(use_cookies=False)
    for query in ("year=23", "as_of=2023-13-01", "light=purple", "department=x"):
        response = client.get(f"/api/v1/reports/overview?{query}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 400 and "应为" in response.get_json()["error"], query
    assert client.get("/api/v1/reports/overview").status_code == 401


def test_the_page_lists_the_red_projects_first_and_links_down(entered, personas):
    client = signed_in(entered, personas.admin)
    html = client.get("/reports/overview?year=2023&as_of=2023-08-10").get_data(as_text=True)
    sections = [html.index(f'<h2 id="{name}"') for name in ("ov-red", "ov-lights", "ov-exec", "ov-table")]
    assert sections == sorted(sections)                                  # the red projects come first
    assert re.search(r'<h2 id="ov-red">红灯项目 <span class="count">1 个</span>', html)
    p_id = _project_id(entered, P)
    assert f'/reports/projects/{p_id}?' in html
    drill = client.get(f"/reports/projects/{p_id}?year=2023&as_of=2023-08-10")
    assert drill.status_code == 200
    body = drill.get_data(as_text=True)
    ind_id = _indicator_id(entered, P, "服务投诉率")
    assert f'/indicators/{ind_id}/history' in body and f'#ind-{ind_id}' in body
    assert "<title" in body and "服务投诉率" in text_of(body)


def test_the_drill_down_shows_the_same_lights_as_the_overview(entered):
    from models.user import User
    from reads.project_report import project_report
    line = next(li for li in report(entered, year=2023, as_of=date(2023, 8, 10)).red_projects if li.name == P)
    with entered.app_context():
        session = _session(entered)
        admin = session.exec(select(User).where(User.username == "admin")).one()
        drill = project_report(session, admin, _project_id(entered, P), 2023, date(2023, 8, 10), entered.config)
    assert drill.counts.as_dict() == line.counts.as_dict()
    assert {i.name: i.light for i in drill.indicators} == {**{k: v for k, (_d, v) in JULY.items()},
                                                           "服务对象满意度": "grey"}
    assert drill.budget_light == "green" and drill.budget.spent_yuan == 400_000


def test_the_overview_answers_htmx_with_the_fragment_and_opens_a_department(entered, personas):
    client = signed_in(entered, personas.admin)
    full = client.get("/reports/overview?year=2023")
    part = client.get("/reports/overview?year=2023", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True) and "<html" not in part.get_data(as_text=True)
    assert 'id="overview"' in part.get_data(as_text=True) and "HX-Request" in part.headers["Vary"]
    dept = report(entered, year=2023).departments[0].id
    units = client.get(f"/reports/overview?year=2023&department={dept}&part=units")
    assert units.status_code == 200 and UNIT_A in units.get_data(as_text=True)


def test_charts_carry_titles_and_their_numbers(entered, personas):
    html = signed_in(entered, personas.admin).get("/reports/overview?year=2023&as_of=2023-08-10").get_data(as_text=True)
    assert "<title id=\"lights-t\">指标灯色分布</title>" in html
    assert re.search(r"<desc id=\"lights-d\">共\d+个年度指标：绿灯3个", html)
    assert "预算执行率与序时进度" in html and "以表格查看" in html
    assert " style=" not in html and "<script>" not in html         # the CSP admits neither


def test_a_reduction_is_marked_in_the_overview_the_drill_down_and_its_chart(entered, personas):
    """July falls below June (385,550 → 300,000, with its note): the overview's project rows, the
    drill-down's budget panel and table, and the spending chart say 冲减 instead of drawing a
    silent falling line."""
    spend(entered, P, 7, 300_000, note="退回多拨会议费85,550元")
    assert [li.spending_marks for li in report(entered, year=2023, as_of=date(2023, 8, 10)).red_projects
            if li.name == P] == [("冲减",)]
    client = signed_in(entered, personas.admin)
    unit = unit_named(report(entered, year=2023), UNIT_A).id
    html = client.get(f"/reports/overview?year=2023&as_of=2023-08-10&unit={unit}").get_data(as_text=True)
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, flags=re.S)
    marked = [text_of(r) for r in rows if P in r]
    assert len(marked) == 2 and all("冲减" in row for row in marked), marked      # the red list and the project list
    assert not [r for r in rows if "招商引资专项经费" in r and "冲减" in r]
    drill = client.get(f"/reports/projects/{_project_id(entered, P)}?year=2023&as_of=2023-08-10").get_data(as_text=True)
    text = text_of(drill)
    assert "7月 冲减：退回多拨会议费85,550元" in text
    assert re.search(r'<circle class="chart-dot dot-\w+ current marked"[^>]*><title>7月 30万元（冲减）</title>', drill)
    assert '<text class="chart-mark"' in drill and "各月累计实际值：6月 38.555万元，7月 30万元（冲减）" in drill
    june = client.get(f"/reports/projects/{_project_id(entered, P)}?year=2023&as_of=2023-07-10").get_data(as_text=True)
    assert "冲减" not in text_of(june)          # as of early July only June is shown


# --------------------------------------------------------------------------- the alert list

def test_the_alert_list_shows_red_first_and_filters_by_kind(entered, personas):
    from models.db import get_session, transaction
    from services.alerts import sync
    with entered.app_context():
        session = get_session()
        with transaction(session):
            sync(session, [project_year(session, P).id], date(2023, 8, 10), NOW, {})
    client = signed_in(entered, personas.admin)
    html = client.get("/reports/alerts?year=2023").get_data(as_text=True)
    order = re.findall(r'<tr class="alert-(\w+)">', html)
    assert order[:2] == ["red", "red"] and "yellow" in order and "grey" in order and order[-1] == "blue"
    assert order == sorted(order, key=["red", "yellow", "grey", "blue"].index)     # 超额 (blue) last
    reds = re.findall(r'<tr class="alert-(\w+)">', client.get("/reports/alerts?kind=red").get_data(as_text=True))
    assert reds == ["red", "red"]
    overdue = rows_of(client.get("/reports/alerts?kind=overdue").get_data(as_text=True), P)
    assert any("服务对象满意度" in row for row in overdue) and not any("项目按时完成" in row for row in overdue)
    # every project year's alerts stand since its import (nothing entered is overdue): each sees its own
    supervisor = signed_in(entered, personas.supervisor_a).get("/reports/alerts").get_data(as_text=True)
    mine = rows_of(supervisor, P)
    assert len([row for row in mine if not row.startswith("超额")]) == 4 and f">{UNIT_A}</option>" in supervisor
    assert [row for row in mine if row.startswith("超额")] == [
        f"超额 灯仍为绿 {P} 2023年度 会议服务次数 {UNIT_A} 216-山西省商务厅 7月 2023-08-10 历史 · 查看"]       # a 审核人 reads: 查看
    assert rows_of(supervisor) and all(UNIT_A in row for row in rows_of(supervisor))
    outsider = signed_in(entered, personas.manager_b).get("/reports/alerts").get_data(as_text=True)
    assert rows_of(outsider) and rows_of(outsider) == rows_of(outsider, PROJECT_B) and P not in outsider


def rows_of(html: str, project: str = "") -> list[str]:
    """The text of each row of an alert list (those of `project`)."""
    rows = [text_of(row) for row in re.findall(r'<tr class="alert-\w+">(.*?)</tr>', html, flags=re.S)]
    return [row for row in rows if project in row]


# --------------------------------------------------------------------------- the summary tables

def summary_state(app) -> tuple[list, list]:
    from models.summary import BudgetSummary, LightSummary
    with app.app_context():
        session = _session(app)
        lights = sorted(tuple(getattr(r, c) for c in LightSummary.model_fields) for r in session.exec(select(LightSummary)))
        budget = sorted(tuple(getattr(r, c) for c in BudgetSummary.model_fields) for r in session.exec(select(BudgetSummary)))
        session.rollback()
        return lights, budget


def from_scratch(app) -> dict:
    """The counts per (project year, month, 一级指标, mode) computed directly from the stored
    actuals, restating DOMAIN.md's rule without the summary code: the latest period's light;
    before its deadline a missing one leaves the previous period's light; missing → grey."""
    from models import Actual, Indicator, ProjectYear
    out: dict = {}
    with app.app_context():
        session = _session(app)
        for py in session.exec(select(ProjectYear)):
            step = 3 if py.periods == "quarterly" else 1
            inds = session.exec(select(Indicator).where(Indicator.project_year_id == py.id,
                                                        Indicator.retired_at.is_(None),
                                                        Indicator.annual_raw.is_not(None))).all()
            for ind in inds:
                lights = {a.month: a.light for a in session.exec(select(Actual).where(Actual.indicator_id == ind.id))}
                for month in range(1, 13):
                    due = month - month % step
                    for late in (True, False):
                        if due == 0:
                            light = None
                        elif due in lights:
                            light = lights[due]
                        elif late or due != month:
                            light = "grey"
                        elif due - step <= 0:
                            light = None
                        else:
                            light = lights.get(due - step, "grey")
                        key = (py.id, month, ind.level1_std or ind.level1, late)
                        bucket = out.setdefault(key, {"green": 0, "yellow": 0, "red": 0, "grey": 0, "n": 0})
                        bucket["n"] += 1
                        if light:
                            bucket[light] += 1
        session.rollback()
    return out


def assert_a_rebuild_changes_nothing(app) -> None:
    """The stored summaries (lights and budget) are what rebuilding them from scratch gives."""
    from models.db import get_session, transaction
    from services.summaries import rebuild_all_summaries
    before = summary_state(app)
    with app.app_context():
        session = get_session()
        with transaction(session):
            rebuild_all_summaries(session)
    assert summary_state(app) == before


def assert_summary_is_current(app) -> None:
    lights, _budget = summary_state(app)
    expected = from_scratch(app)
    stored = {}
    for row in lights:
        py_id, month, level1, n, g, y, r, grey, eg, ey, er, egrey = row
        if level1 == "":
            continue
        stored[(py_id, month, level1, True)] = {"green": g, "yellow": y, "red": r, "grey": grey, "n": n}
        stored[(py_id, month, level1, False)] = {"green": eg, "yellow": ey, "red": er, "grey": egrey, "n": n}
    assert stored == expected
    totals: dict = {}
    for row in lights:
        key = (row[0], row[1], row[2] == "")
        totals.setdefault(key, [0] * 9)
        totals[key] = [a + b for a, b in zip(totals[key], row[3:])]
    for (py_id, month, is_total), values in totals.items():
        if is_total:
            assert values == totals.get((py_id, month, False), [0] * 9), (py_id, month)


def test_the_summary_follows_every_write_in_the_same_transaction(entered):
    assert_summary_is_current(entered)
    enter(entered, P, 7, {"服务投诉率": {"value": 5, "version": 1}})            # red → green
    enter(entered, P, 8, {"会议服务次数": {"value": 90}})
    enter(entered, "网络运行维护费", 3, {"使用人员满意度": {"value": 80, **REASON}})
    spend(entered, P, 7, 500_000)
    assert_summary_is_current(entered)
    unit = unit_named(report(entered, year=2023, as_of=date(2023, 8, 10)), UNIT_A)
    assert counts(unit) == {"green": 4, "yellow": 1, "red": 1, "grey": 1 + OTHERS_A}
    assert unit.budget.spent_yuan == 500_000
    assert_a_rebuild_changes_nothing(entered)


def test_simultaneous_entries_in_one_project_keep_the_summaries_exact(seeded, personas):
    """Two editors per indicator of one project year (odd and even months) and two entering its
    spending, all at the same moment, each going through their six months (on PostgreSQL the
    transactions run side by side): the summary rows must equal what the stored actuals and
    spending give."""
    import threading

    from test_api import Api, year_of
    py, ids = year_of(seeded, P)
    assessments = ["达成", "部分达成", "未达成"]
    answers, start = [], threading.Barrier(2 * (len(JUNE) + 1))

    def editor(level3: str, example: dict, first: int) -> None:
        api = Api(seeded, personas.manager_a)
        start.wait()
        for month in range(first, 13, 2):
            if "assessment" in example:
                body = {"assessment": assessments[(month + len(level3)) % 3]}
            else:
                body = {"value": round(example["value"] * (0.2 + 0.25 * ((month + len(level3)) % 5)), 2)}
            answers.append(api.put(f"/indicators/{ids[level3]}/actuals/2023-{month:02d}", body | REASON).status_code)

    def spender(first: int) -> None:
        api = Api(seeded, personas.manager_a)
        start.wait()
        for month in range(first, 13, 2):
            amount = 100_000 * month * (1 + month % 3)
            body = {"amount_yuan": amount, "note": "含退回与追加"}          # it rises and falls, beyond the budget
            answers.append(api.put(f"/projects/{py}/spending/2023-{month:02d}", body).status_code)

    threads = [threading.Thread(target=editor, args=(*item, first)) for item in JUNE.items() for first in (1, 2)]
    threads += [threading.Thread(target=spender, args=(first,)) for first in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * (len(JUNE) + 1) * 12
    assert_summary_is_current(seeded)
    assert_a_rebuild_changes_nothing(seeded)


@pytest.mark.parametrize("writes", [
    [("会议服务次数", 7, {"value": 10}), ("会议服务次数", 8, {"value": 90})],    # one indicator, two months
    [("会议服务次数", 7, {"value": 10}), ("成本指标", 7, {"value": 90})],        # two indicators, one month
    [("spending", 8, {"amount_yuan": 900_000, "note": "追加预算待批复"}), ("spending", 7, {"amount_yuan": 100_000})],
    # the later first (above the budget of 771,100: with its note)
], ids=["same-indicator", "two-indicators", "spending"])
def test_an_entry_that_commits_while_another_is_committing_is_not_lost(seeded, personas, writes):
    """The interleavings that lose an update: the first entry has brought the summary up to
    date and is about to commit when a second entry in the same project year runs. The second
    must build on the first, not on the state before it."""
    import threading
    import time

    from sqlalchemy import event
    from test_api import Api, year_of
    py, ids = year_of(seeded, P)
    engine = seeded.extensions["engine"]
    wrote, first_at_commit, answers = threading.Event(), threading.Event(), {}

    def note(_conn, _cursor, statement, *_args):
        head = statement.split("WHERE")[0]
        if threading.current_thread().name == "first" and ("light_summary" in head or "budget_summary" in head) \
                and statement.lstrip().upper().startswith(("UPDATE", "INSERT")):
            wrote.set()

    def hold(_conn):
        if threading.current_thread().name == "first" and wrote.is_set() and not first_at_commit.is_set():
            first_at_commit.set()
            time.sleep(1.0)     # the second entry runs meanwhile, as far as the database lets it

    def put(name: str, target: str, month: int, body: dict) -> None:
        api = Api(seeded, personas.manager_a)
        api.get("/projects")                  # the token's first use is noted before the race
        if name == "second":
            first_at_commit.wait(10)
        url = (f"/projects/{py}/spending/2023-{month:02d}" if target == "spending"
               else f"/indicators/{ids[target]}/actuals/2023-{month:02d}")
        answers[name] = api.put(url, body | (REASON if target != "spending" else {})).status_code

    event.listen(engine, "before_cursor_execute", note)
    event.listen(engine, "commit", hold)
    try:
        threads = [threading.Thread(target=put, name=name, args=(name, *write))
                   for name, write in zip(("first", "second"), writes)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        event.remove(engine, "commit", hold)
        event.remove(engine, "before_cursor_execute", note)
    assert first_at_commit.is_set() and answers == {"first": 200, "second": 200}
    assert_summary_is_current(seeded)
    assert_a_rebuild_changes_nothing(seeded)


def test_the_summary_follows_a_removed_actual_and_rebuilds_rows_it_cannot_add_to(entered):
    """An entry adds its light's change to the rows; a removed actual takes its light away the
    same way (services.summaries.after_entry, as any use case that removes one calls it); where
    the rows are not there to add to, the project year's rows are rebuilt instead."""
    from sqlalchemy import delete

    from models import Actual
    from models.db import get_session, transaction
    from models.summary import LightSummary
    from services import summaries
    with entered.app_context():
        session = get_session()
        with transaction(session):
            py = project_year(session, P)
            july = indicator(session, py, "服务投诉率")
            removed = session.exec(select(Actual).where(Actual.indicator_id == july.id, Actual.month == 7)).one()
            session.delete(removed)
            session.flush()
            summaries.after_entry(session, py.id, july.id, 7, removed.light, summaries.ABSENT)
        py_id = py.id
    assert_summary_is_current(entered)
    with entered.app_context():
        session = get_session()
        with transaction(session):
            session.execute(delete(LightSummary).where(LightSummary.project_year_id == py_id,
                                                       LightSummary.level1 != ""))
    enter(entered, P, 8, {"会议服务次数": {"value": 90}})
    assert_summary_is_current(entered)
    assert_a_rebuild_changes_nothing(entered)


def test_a_failed_write_leaves_the_summary_as_it_was(entered):
    from models.actual import ActualInput, EntryError
    from services.entry import Context, record_actual
    from models.db import get_session, transaction
    before = summary_state(entered)
    with entered.app_context():
        session = get_session()
        with pytest.raises(EntryError):
            with transaction(session):
                py = project_year(session, P)
                record_actual(session, indicator(session, py, "会议服务次数"), py, 2023, 9, ActualInput(value=99),
                              Context("甲", NOW))
                record_actual(session, indicator(session, py, "服务投诉率"), py, 2023, 9, ActualInput(value=99),
                              Context("甲", NOW))          # red without a reason: refused, all rolled back
    assert summary_state(entered) == before


def test_a_reimport_that_drops_an_indicator_takes_it_out_of_the_counts(entered):
    form = seed_forms()[1]
    form["indicators"] = [i for i in form["indicators"]
                          if not (i["annual"] and i["annual"]["level3"] == "服务对象满意度")]
    store_forms(entered, [form], file_name="更正.pdf", sha="c" * 64)
    assert_summary_is_current(entered)
    p = next(li for li in report(entered, year=2023, as_of=date(2023, 8, 10), light="red").red_projects if li.name == P)
    assert counts(p) == {"green": 3, "yellow": 1, "red": 2, "grey": 0} and p.counts.indicators == 6


def test_a_new_project_counts_grey_without_any_entry(entered):
    store_forms(entered, [form_like(2, name="新项目", unit=UNIT_A)], file_name="新.pdf", sha="d" * 64)
    unit = unit_named(report(entered, year=2023, as_of=date(2023, 8, 10)), UNIT_A)
    assert unit.projects == 4 and unit.counts.grey == 1 + OTHERS_A + 6


def test_switching_to_quarterly_reporting_is_summarised_by_quarter(entered):
    from models.db import get_session, transaction
    from services.entry import Context
    from services.tracking import set_periods
    with entered.app_context():
        session = get_session()
        with transaction(session):
            set_periods(session, project_year(session, P), "quarterly", Context("填报人甲", NOW))
    assert_summary_is_current(entered)
    p = next(li for li in report(entered, year=2023, as_of=date(2023, 8, 10),
                                 department=report(entered, year=2023).departments[0].id).projects if li.name == P)
    assert counts(p) == {"green": 7, "yellow": 0, "red": 0, "grey": 0}       # Q2 (June) decides until September


# --------------------------------------------------------------------------- helpers of the helpers

def _project_id(app, name: str) -> int:
    from models import Project
    with app.app_context():
        return _session(app).exec(select(Project.id).where(Project.name == name)).first()


def _indicator_id(app, name: str, level3: str) -> int:
    with app.app_context():
        session = _session(app)
        return indicator(session, project_year(session, name), level3).id


def test_the_overview_states_one_progress_the_share_of_the_year_gone(entered, personas):
    """In July's entry window (4 August) one project's July spending is in and the others are
    judged at June: the weighted mean of their periods is 50.17 %, but the page states one
    序时进度 — 7 of 12 months gone — in its headline, the unit row and the chart."""
    entered.config["CLOCK"] = lambda: datetime(2023, 8, 4, 2, 0, tzinfo=timezone.utc)
    unit = unit_named(report(entered, year=2023, as_of=date(2023, 8, 4)), UNIT_A)
    assert unit.budget.progress == Decimal(7) / 12 and unit.budget.judged_progress < Decimal(7) / 12
    page = signed_in(entered, personas.supervisor_a).get("/reports/overview?as_of=2023-08-04").get_data(as_text=True)
    stated = set(re.findall(r"序时进度\s*([\d.]+%)", text_of(page)) +
                 re.findall(r"序时进度\s*<strong>([\d.]+%)", page) +
                 re.findall(r'<td class="num">([\d.]+%)</td>\s*<td class="num">[\d,.]+</td>', page))
    assert {"58.33%", "58.3%"} >= stated and "58.33%" in stated, stated     # the chart's summary says 58.3%


def test_a_reader_is_offered_to_look_not_to_enter(entered, personas):
    """A 审核人 reads the projects: the drill-down and the alert list say 查看, not 填报/去处理;
    the unit's 填报人 is sent to enter."""
    from conftest import project_id
    entered.config["CLOCK"] = lambda: NOW
    url = f"/reports/projects/{project_id(entered, P)}?year=2023"
    reader, enterer = signed_in(entered, personas.supervisor_a), signed_in(entered, personas.manager_a)
    drill = text_of(reader.get(url).get_data(as_text=True))
    assert "项目页（查看）" in drill and "填报" not in drill.replace("填报期", "").replace("填报截止", "").replace("未填报", "")
    assert "项目页（填报）" in text_of(enterer.get(url).get_data(as_text=True))
    alerts = text_of(reader.get("/reports/alerts?year=2023").get_data(as_text=True))
    assert "查看" in alerts and "去处理" not in alerts
    assert "去处理" in text_of(enterer.get("/reports/alerts?year=2023").get_data(as_text=True))
