"""The history records who by their username — through the page and the API alike — and pages
name them by their display name (issue #12); a migration rewrites the display names earlier API
entries stored."""
from __future__ import annotations

import re

from alembic import command
from sqlalchemy import update
from sqlmodel import Session, select

from conftest import NOW, add_user, csrf_token, signed_in, text_of
from models.actual import Actual, ActualChange, Spending, SpendingChange
from models.evaluation import EvaluationStep
from models.importing import ImportBatch
from models.migrate import alembic_config
from test_api import Api, year_of
from test_views_actuals import HX, indicator_id, record

SPECIAL = "招商引资专项经费"
LABEL = "填报人甲（tianbao）"          # personas.manager_a as pages name them


def history_rows(client, ind: int) -> list[str]:
    fragment = client.get(f"/indicators/{ind}/history", headers=HX).get_data(as_text=True)
    return [text_of(r) for r in re.findall(r"<tr>.*?</tr>", fragment.split("<tbody>")[1], flags=re.S)]


def spend_on_page(client, project_id: int, period: str, amount: str, version: int):
    data = {"csrf_token": csrf_token(client, "/projects"), "period": period, "amount": amount, "unit": "元",
            "version": str(version)}
    return client.post(f"/projects/{project_id}/spending", data=data, headers=HX)


def test_an_api_entry_and_a_page_entry_record_the_username_and_show_the_display_name(seeded, personas):
    seeded.config["CLOCK"] = lambda: NOW
    api, page = Api(seeded, personas.manager_a), signed_in(seeded, personas.manager_a)
    py, ids = year_of(seeded, SPECIAL)
    ind = ids["参展企业数量"]
    assert api.put(f"/indicators/{ind}/actuals/2023-07", {"value": 35}).status_code == 200
    assert record(page, seeded, "参展企业数量", value="40", version=1).status_code == 200
    assert api.put(f"/projects/{py}/spending/2023-06", {"amount_yuan": 10_000_000}).status_code == 200
    assert spend_on_page(page, personas.project_a, "2023-07", "15000000", 0).status_code == 200

    with Session(seeded.extensions["engine"]) as session:
        assert [c.changed_by for c in session.exec(select(ActualChange).where(ActualChange.indicator_id == ind))] \
            == ["tianbao", "tianbao"]
        assert session.exec(select(Actual.updated_by).where(Actual.indicator_id == ind)).all() == ["tianbao"]
        assert sorted(session.exec(select(SpendingChange.changed_by)).all()) == ["tianbao", "tianbao"]
        assert sorted(session.exec(select(Spending.updated_by)).all()) == ["tianbao", "tianbao"]

    rows = history_rows(page, ind)
    assert [row.split(" 2023年7月")[0] for row in rows] == [f"2023-08-06 09:00 {LABEL}"] * 2
    html = page.get(f"/projects/{personas.project_a}?period=2023-07").get_data(as_text=True)
    budget = [text_of(r) for r in re.findall(r"<tr>.*?</tr>", html.split("支出修改记录")[1].split("</table>")[0],
                                              flags=re.S)]
    assert [row.split(" 2023年")[0] for row in budget[1:]] == [f"2023-08-06 09:00 {LABEL}"] * 2


def test_the_stale_edit_message_names_the_display_name(seeded, personas):
    """On the page and in the API, whoever saved first — through either door — is named as pages name them."""
    seeded.config["CLOCK"] = lambda: NOW
    py, ids = year_of(seeded, SPECIAL)
    assert Api(seeded, personas.manager_a).put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07",
                                                {"value": 35}).status_code == 200
    admin = signed_in(seeded, personas.admin)
    stale = record(admin, seeded, "参展企业数量", value="40", version=0)
    assert stale.status_code == 409
    assert f"该数值已被{LABEL}修改，当前为 35家。" in text_of(stale.get_data(as_text=True))

    assert spend_on_page(signed_in(seeded, personas.manager_a), personas.project_a, "2023-07", "100", 0
                         ).status_code == 200
    answer = Api(seeded, personas.admin).put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 200, "version": 0})
    assert answer.status_code == 409
    assert answer.get_json()["error"] == f"该数值已被{LABEL}修改，请刷新后在最新数据上修改"


def test_the_import_history_names_who_imported_by_display_name(seeded, personas):
    with Session(seeded.extensions["engine"]) as session:
        session.execute(update(ImportBatch).values(imported_by="tianbao"))
        session.commit()
    page = text_of(signed_in(seeded, personas.admin).get(f"/projects/{personas.project_a}").get_data(as_text=True))
    assert f"{LABEL} seed_forms.pdf 2023" in page


def test_the_migration_rewrites_display_names_that_name_one_user(seeded, personas):
    """Rows an API entry wrote before (display names) become usernames through `flask init-db`;
    a name two users share, one that is also a username, or no user's, stays as it is."""
    add_user(seeded, "lisi1", "supervisor", display_name="李四")
    add_user(seeded, "lisi2", "supervisor", display_name="李四")
    add_user(seeded, "qian", "supervisor", display_name="tianbao_b")       # someone else's username
    py, ids = year_of(seeded, SPECIAL)
    api = Api(seeded, personas.manager_a)
    assert api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", {"value": 35}).status_code == 200
    assert api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 100}).status_code == 200
    engine = seeded.extensions["engine"]
    with Session(engine) as session:
        session.execute(update(Actual).values(updated_by="填报人甲"))
        session.execute(update(ActualChange).values(changed_by="填报人甲"))
        session.execute(update(Spending).values(updated_by="李四"))
        session.execute(update(SpendingChange).values(changed_by="tianbao_b"))
        session.execute(update(ImportBatch).where(ImportBatch.file_name == "发改委.pdf").values(imported_by="填报人甲"))
        session.add(EvaluationStep(project_year_id=py, who="填报人甲", role="manager", action="submit",
                                   from_state="draft", to_state="submitted", at=NOW))
        session.commit()
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")

    result = seeded.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        assert session.exec(select(Actual.updated_by)).all() == ["tianbao"]
        assert session.exec(select(ActualChange.changed_by)).all() == ["tianbao"]
        assert session.exec(select(EvaluationStep.who)).all() == ["tianbao"]
        assert session.exec(select(Spending.updated_by)).all() == ["李四"]
        assert session.exec(select(SpendingChange.changed_by)).all() == ["tianbao_b"]
        assert dict(session.exec(select(ImportBatch.file_name, ImportBatch.imported_by)).all()) \
            == {"seed_forms.pdf": "演示数据", "发改委.pdf": "tianbao"}
