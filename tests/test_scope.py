"""Who sees and does what, as each persona meets it on the pages (the route matrix checks the
status codes; these check what is on the page and what is stored)."""
from __future__ import annotations

import re

from sqlmodel import Session, select

from conftest import (PROJECT_B, UNIT_A, csrf_token, seed_forms, signed_in, text_of, unit_b_form)
from models.importing import ImportBatch
from models.project import Project, ProjectYear

SEED_A = ["招商引资专项经费", "招商引资业务经费", "网络运行维护费"]


def listed(client, **args) -> list[str]:
    html = client.get("/projects", query_string=args).get_data(as_text=True)
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<td class="name"><a [^>]*>([^<]+)</a>', body)


def test_each_persona_lists_the_projects_of_their_scope(seeded, personas):
    expected = {personas.admin: SEED_A + [PROJECT_B], personas.supervisor_all: SEED_A + [PROJECT_B],
                personas.manager_a: SEED_A, personas.supervisor_a: SEED_A, personas.manager_b: [PROJECT_B]}
    for person, names in expected.items():
        assert sorted(listed(signed_in(seeded, person))) == sorted(names), person.username


def test_filters_offer_only_what_is_in_scope(seeded, personas):
    page = signed_in(seeded, personas.manager_a).get("/projects").get_data(as_text=True)
    assert "山西省投资促进局" in page
    assert "山西省国际经济合作中心" not in page and "山西省发展和改革委员会" not in page
    # naming unit B in the query string does not open it either
    with Session(seeded.extensions["engine"]) as session:
        unit_b = session.exec(select(Project.unit_id).where(Project.name == PROJECT_B)).one()
    assert listed(signed_in(seeded, personas.manager_a), unit=unit_b) == []


def test_another_units_project_is_a_chinese_404_as_if_missing(seeded, personas):
    client = signed_in(seeded, personas.manager_a)
    response = client.get(f"/projects/{personas.project_b}")
    assert response.status_code == 404
    text = text_of(response.get_data(as_text=True))
    assert "页面不存在，或您无权查看" in text and PROJECT_B not in text
    assert client.get("/projects/999999").get_data(as_text=True).count("页面不存在，或您无权查看") == \
        response.get_data(as_text=True).count("页面不存在，或您无权查看")


def test_a_supervisor_reads_their_departments_projects_and_imports_nothing(seeded, personas):
    client = signed_in(seeded, personas.supervisor_a)
    assert client.get(f"/projects/{personas.project_a}").status_code == 200
    assert client.get(f"/projects/{personas.project_b}").status_code == 404
    page = text_of(client.get("/projects").get_data(as_text=True))
    assert "导入申报表" not in page
    refused = client.get("/imports/new")
    assert refused.status_code == 403 and "您没有权限执行此操作" in refused.get_data(as_text=True)


def test_editing_actuals_is_for_the_units_manager_and_the_admin(seeded, personas):
    from models.db import get_session
    from reads.scope import may_edit_actuals, project_year_visible
    from models.user import User
    with seeded.app_context():
        session = get_session()
        project_a, project_b = session.get(Project, personas.project_a), session.get(Project, personas.project_b)
        year_b = session.exec(select(ProjectYear.id).where(ProjectYear.project_id == project_b.id)).one()
        users = {name: session.get(User, getattr(personas, name).id) for name in
                 ("admin", "manager_a", "supervisor_a", "supervisor_all", "manager_b")}
        assert [name for name, u in users.items() if may_edit_actuals(u, project_a)] == ["admin", "manager_a"]
        assert [name for name, u in users.items() if may_edit_actuals(u, project_b)] == ["admin", "manager_b"]
        assert [name for name, u in users.items() if project_year_visible(session, u, year_b)] == [
            "admin", "supervisor_all", "manager_b"]


# --------------------------------------------------------------------------- importing as a 填报人

def _job_with(app, person, forms: list[dict]) -> str:
    """An upload by `person` that has been read: one file with these forms."""
    from sqlalchemy import update
    from models.db import get_session, transaction
    from models.job import ImportJob, ImportJobFile
    from services.import_jobs import create_job, utcnow
    from services.uploads import SavedFile
    job_id = "d" * 32
    with app.app_context():
        session = get_session()
        create_job(session, job_id, [SavedFile("两个单位.pdf", "001.pdf", 100, "1" * 64)], person.username, utcnow())
        with transaction(session):
            session.exec(update(ImportJob).where(ImportJob.id == job_id).values(state="ready", files_done=1))
            session.exec(update(ImportJobFile).where(ImportJobFile.job_id == job_id)
                         .values(state="read", forms=forms, warnings=[]))
    return job_id


def test_a_manager_reviews_another_units_form_as_refused_without_its_stored_data(seeded, personas):
    changed_b = unit_b_form()
    changed_b["indicators"][0]["annual"]["target"]["raw"] = "≥999次"
    new_a = seed_forms()[2] | {"project_name": "新的本单位项目"}
    job_id = _job_with(seeded, personas.manager_a, [new_a, changed_b])
    html = signed_in(seeded, personas.manager_a).get(f"/imports/{job_id}").get_data(as_text=True)
    text = text_of(html)
    assert "读出申报表 2 张： 新增 1 张 变更 0 张 未变 0 张； 不导入 1 张（其他实施单位的申报表）" in text
    assert (f"实施单位为“山西省国际经济合作中心”，不是您所在的“{UNIT_A}”：填报人只能导入本单位的申报表，此表不会导入。"
            in text)
    assert "确认后写入新增和变更的 1 张申报表" in text
    refused = re.search(r'<article class="form-review outcome-refused".*?</article>', html, flags=re.S).group(0)
    assert "与已导入的版本相比有变化" not in refused and "<del" not in refused   # B's stored targets stay unseen


def test_confirming_stores_only_the_managers_own_unit(seeded, personas):
    new_a = seed_forms()[2] | {"project_name": "新的本单位项目"}
    other = unit_b_form(0, name="别的单位的新项目")
    job_id = _job_with(seeded, personas.manager_a, [new_a, other])
    client = signed_in(seeded, personas.manager_a)
    response = client.post(f"/imports/{job_id}/confirm", data={"csrf_token": csrf_token(client, "/account")},
                           follow_redirects=True)
    text = text_of(response.get_data(as_text=True))
    assert "两个单位.pdf 已导入 1 1 0 0 未导入其他实施单位的申报表 1 张：别的单位的新项目 新的本单位项目（2023）" in text
    with Session(seeded.extensions["engine"]) as session:
        names = set(session.exec(select(Project.name)))
        batch = session.exec(select(ImportBatch).where(ImportBatch.file_name == "两个单位.pdf")).one()
    assert "新的本单位项目" in names and "别的单位的新项目" not in names
    assert (batch.imported_by, batch.forms_count) == ("tianbao", 1)


def test_a_file_with_only_other_units_forms_stores_nothing(seeded, personas):
    job_id = _job_with(seeded, personas.manager_b, seed_forms())
    client = signed_in(seeded, personas.manager_b)
    text = text_of(client.post(f"/imports/{job_id}/confirm", data={"csrf_token": csrf_token(client, "/account")},
                               follow_redirects=True).get_data(as_text=True))
    assert "两个单位.pdf 未导入 实施单位为“山西省投资促进局”，不是您所在的“山西省国际经济合作中心”" in text
    with Session(seeded.extensions["engine"]) as session:
        assert session.exec(select(ImportBatch).where(ImportBatch.file_name == "两个单位.pdf")).first() is None


def test_a_manager_sees_only_their_own_uploads(seeded, personas):
    job_id = _job_with(seeded, personas.manager_b, [unit_b_form()])
    mine = signed_in(seeded, personas.manager_b).get("/imports/new").get_data(as_text=True)
    assert f'href="/imports/{job_id}"' in mine and "tianbao_b" in text_of(mine)
    theirs = signed_in(seeded, personas.manager_a)
    assert f'href="/imports/{job_id}"' not in theirs.get("/imports/new").get_data(as_text=True)
    assert theirs.get(f"/imports/{job_id}").status_code == 404
    assert f'href="/imports/{job_id}"' in signed_in(seeded, personas.admin).get("/imports/new").get_data(as_text=True)


def test_an_admin_imports_any_unit(seeded, personas):
    job_id = _job_with(seeded, personas.manager_a, [unit_b_form(0, name="别的单位的新项目")])
    admin = signed_in(seeded, personas.admin)
    admin.post(f"/imports/{job_id}/confirm", data={"csrf_token": csrf_token(admin, "/account")})
    with Session(seeded.extensions["engine"]) as session:
        batch = session.exec(select(ImportBatch).where(ImportBatch.file_name == "两个单位.pdf")).one()
    assert batch.imported_by == "admin"
