"""Whatever a user or a file supplies shows as text: a project, an indicator, a file or a user
named `"><script>alert(1)</script>` is escaped on every page that shows it."""
from __future__ import annotations

import pytest

from conftest import add_user, csrf_token, form_like, signed_in, store_forms

PAYLOAD = '"><script>alert(1)</script>'
ESCAPED = "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"


def assert_escaped(html: str, times: int = 1) -> None:
    """Never the markup itself; the escaped text, as often as the page shows the value."""
    assert "<script>alert(1)</script>" not in html and "<script>" not in html
    assert html.count(ESCAPED) >= times, html.count(ESCAPED)


def hostile_form() -> dict:
    form = form_like(2, name=PAYLOAD)
    form["indicators"][0]["annual"]["level3"] = PAYLOAD
    form["indicators"][0]["annual"]["target"]["raw"] = PAYLOAD
    form["goal_annual"] = PAYLOAD
    return form


@pytest.fixture
def hostile(seeded):
    store_forms(seeded, [hostile_form()], file_name=PAYLOAD + ".pdf", who=PAYLOAD, sha="e" * 64)
    return seeded


def test_the_project_list_shows_the_name_as_text(hostile, client):
    assert_escaped(client.get("/projects").get_data(as_text=True))
    fragment = client.get("/projects", query_string={"q": PAYLOAD}, headers={"HX-Request": "true"})
    assert_escaped(fragment.get_data(as_text=True))


def test_the_search_box_gives_back_the_query_as_text(client):
    assert_escaped(client.get("/projects", query_string={"q": PAYLOAD}).get_data(as_text=True))


def test_the_project_page_shows_name_indicator_target_goal_file_and_importer_as_text(hostile, client):
    from conftest import project_id
    html = client.get(f"/projects/{project_id(hostile, PAYLOAD)}").get_data(as_text=True)
    assert_escaped(html, times=7)    # title, heading, breadcrumb, facts, indicator, target, goal, history …


def test_the_review_shows_the_form_and_the_file_name_as_text(app, client):
    from io import BytesIO
    from sqlalchemy import update

    from conftest import SEED_PDF, job_id_of, wait_for_job
    from models.db import get_session, transaction
    from models.job import ImportJobFile
    # (a file name has no "/" — the last part is kept — and the test client cannot send a ")
    response = client.post("/imports", data={"csrf_token": csrf_token(client),
                                             "files": [(BytesIO(SEED_PDF.read_bytes()), "<img src=x onerror=alert(1)>.pdf")]},
                           content_type="multipart/form-data")
    job_id = job_id_of(response)
    wait_for_job(app, job_id)
    html = client.get(f"/imports/{job_id}").get_data(as_text=True)
    assert "<img src=x" not in html and html.count("&lt;img src=x onerror=alert(1)&gt;.pdf") >= 2
    # and a parsed form with hostile content, as a crafted file could give
    with app.app_context():
        session = get_session()
        with transaction(session):
            session.exec(update(ImportJobFile).where(ImportJobFile.job_id == job_id).values(forms=[hostile_form()]))
    assert_escaped(client.get(f"/imports/{job_id}").get_data(as_text=True), times=5)


def test_user_names_show_as_text_in_user_management_and_the_top_bar(app, client):
    user = add_user(app, "xss", "admin", display_name=PAYLOAD)
    assert_escaped(client.get("/admin/users").get_data(as_text=True))
    assert_escaped(client.get(f"/admin/users/{user.id}").get_data(as_text=True), times=2)
    assert_escaped(signed_in(app, user).get("/account").get_data(as_text=True), times=2)


def test_a_refused_new_user_name_is_given_back_as_text(client):
    response = client.post("/admin/users", data={"csrf_token": csrf_token(client, "/account"), "username": PAYLOAD,
                                                 "role": "admin", "display_name": PAYLOAD})
    assert response.status_code == 422
    assert_escaped(response.get_data(as_text=True), times=2)
