"""Overdue alerts are raised by the reminder cycle for every unit, whoever signs in; pages only
read; `GET /api/v1/alerts` lists them; the 工作台 and the mail name the same period.

The data is test_reminders_cycle.py's: January–June entered everywhere; in July unit A's
招商引资专项经费 lacks two indicators, 招商引资业务经费 everything, 网络运行维护费 its spending;
unit B (another 主管部门) has entered nothing for July."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlmodel import Session, select

from conftest import PROJECT_A, PROJECT_B, signed_in, text_of
from test_api import Api
from test_reminders_cycle import BUSINESS, NETWORK, NOT_ENTERED_IN_JULY, messages, reminders  # noqa: F401

CYCLE_NOW = "2023-08-07T09:00"


def missing_july(app) -> set[tuple[int, int | None]]:
    """(project year, indicator or None for the budget) of every entry missing for July."""
    from models.actual import Actual, Spending
    from models.indicator import Indicator
    from models.project import ProjectYear
    with Session(app.extensions["engine"]) as session:
        missing = set()
        for py in session.exec(select(ProjectYear)):
            for ind in session.exec(select(Indicator).where(Indicator.project_year_id == py.id,
                                                            Indicator.retired_at.is_(None),
                                                            Indicator.annual_raw.is_not(None))):
                if session.exec(select(Actual).where(Actual.indicator_id == ind.id, Actual.month == 7)).first() is None:
                    missing.add((py.id, ind.id))
            if session.exec(select(Spending).where(Spending.project_year_id == py.id,
                                                   Spending.month == 7)).first() is None:
                missing.add((py.id, None))
        return missing


def scope_of(app, person) -> set[int]:
    return {p["id"] for p in Api(app, person).get("/projects", year=2023).get_json()["projects"]}


def test_the_cycle_raises_overdue_alerts_for_every_unit_without_anyone_signing_in(reminders):
    app, personas = reminders
    result = app.test_cli_runner().invoke(args=["reminders", "send", "--now", CYCLE_NOW])
    assert result.exit_code == 0, result.output
    missing = missing_july(app)
    assert missing, "the data leaves July entries missing"

    for person in (personas.supervisor_a, personas.supervisor_all, personas.manager_b):
        alerts = Api(app, person).get("/alerts", year=2023).get_json()["alerts"]
        overdue = {(a["project_id"], a["indicator_id"]) for a in alerts if a["kind"] == "overdue"}
        assert {a["period"] for a in alerts if a["kind"] == "overdue"} == {"2023-07"}
        assert overdue == {m for m in missing if m[0] in scope_of(app, person)}
        assert all(a["light"] == "grey" and a["closed_at"] is None for a in alerts if a["kind"] == "overdue")

    everything = Api(app, personas.supervisor_all).get("/alerts", year=2023, state="all").get_json()["alerts"]
    again = app.test_cli_runner().invoke(args=["reminders", "send", "--now", CYCLE_NOW])
    assert again.exit_code == 0
    alerts = Api(app, personas.supervisor_all).get("/alerts", year=2023, state="all").get_json()["alerts"]
    assert alerts == everything                                                   # none twice
    assert len([a for a in alerts if a["kind"] == "overdue" and a["closed_at"] is None]) == len(missing)


def test_an_entry_that_arrives_closes_its_overdue_alert_at_the_next_cycle(reminders):
    app, personas = reminders
    app.test_cli_runner().invoke(args=["reminders", "send", "--now", CYCLE_NOW])
    api = Api(app, personas.manager_b)
    py = next(iter(scope_of(app, personas.manager_b)))
    june = api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["spent_yuan"]
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": june}).status_code == 200   # no fall: no note
    app.test_cli_runner().invoke(args=["reminders", "send", "--now", "2023-08-08T09:00"])
    open_ = Api(app, personas.manager_b).get("/alerts", year=2023).get_json()["alerts"]
    assert (py, None) not in {(a["project_id"], a["indicator_id"]) for a in open_ if a["kind"] == "overdue"}
    closed = Api(app, personas.manager_b).get("/alerts", year=2023, state="closed").get_json()["alerts"]
    assert any(a["project_id"] == py and a["indicator_id"] is None and a["kind"] == "overdue" for a in closed)


def test_the_workbench_only_reads_and_names_the_same_period_as_the_mail(reminders):
    from models.actual import Alert
    app, personas = reminders
    app.config["CLOCK"] = lambda: datetime(2023, 8, 7, 1, 0, tzinfo=timezone.utc)
    client = signed_in(app, personas.manager_a)
    with Session(app.extensions["engine"]) as session:
        before = session.exec(select(Alert.id, Alert.closed_at).order_by(Alert.id)).all()
    page = client.get("/").get_data(as_text=True)
    with Session(app.extensions["engine"]) as session:
        assert session.exec(select(Alert.id, Alert.closed_at).order_by(Alert.id)).all() == before    # a GET raised nothing
        assert not session.exec(select(Alert).where(Alert.kind == "overdue", Alert.closed_at.is_(None))).all()
    assert "逾期" in text_of(page) and "7月" in text_of(page)
    for project in (BUSINESS, NETWORK, PROJECT_A):
        assert project in text_of(page)
    app.test_cli_runner().invoke(args=["reminders", "send", "--now", CYCLE_NOW])
    mail = [m for m in messages(app) if "tianbao@unit-a" in m.to_address]
    assert mail, "the 填报人 of unit A is reminded"
    body = mail[-1].text_body
    assert "7月" in body, body
    for earlier in ("1月", "2月", "3月", "4月", "5月", "6月"):
        assert f"2023年{earlier}" not in body and f" {earlier}" not in body


def test_alerts_need_a_token_and_a_known_state(reminders):
    app, personas = reminders
    assert app.test_client().get("/api/v1/alerts").status_code == 401
    answer = Api(app, personas.supervisor_a).get("/alerts", state="半开")
    assert answer.status_code == 400 and "state" in answer.get_json()["error"]
    assert PROJECT_B  # unit B's project is outside supervisor_a's scope (asserted above by scope_of)
