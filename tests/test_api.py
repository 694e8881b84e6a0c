"""The JSON API's door: bearer tokens only, never the browser's cookie; answers in scope."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import Session, select

from conftest import csrf_token, signed_in
from models.user import ApiToken, User, new_token


def token_for(app, person) -> str:
    from models.db import get_session, transaction
    with app.app_context():
        session = get_session()
        with transaction(session):
            return new_token(session, session.get(User, person.id), datetime.now(timezone.utc))


def call(app, token: str | None, url: str = "/api/v1/projects", **headers):
    client = app.test_client(use_cookies=False)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get(url, headers=headers)


def names(response) -> list[tuple[str, int]]:
    return [(p["name"], p["year"]) for p in response.get_json()["projects"]]


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dGlhbmJhbzpwYXNz", "Token jx_abc",
                                    "Bearer jx_not-a-real-token"])
def test_without_a_valid_bearer_token_the_answer_is_401_json(seeded, personas, header):
    headers = {} if header is None else {"Authorization": header}
    response = seeded.test_client(use_cookies=False).get("/api/v1/projects", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "缺少或无效的访问令牌"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_browser_cookie_does_not_open_the_api(seeded, personas):
    browser = signed_in(seeded, personas.admin)
    assert browser.get("/projects").status_code == 200
    response = browser.get("/api/v1/projects")
    assert response.status_code == 401 and response.get_json() == {"error": "缺少或无效的访问令牌"}
    assert "Set-Cookie" not in response.headers


def test_the_project_list_answers_in_the_callers_scope(seeded, personas):
    expected_a = [("招商引资专项经费", 2023), ("招商引资业务经费", 2023), ("网络运行维护费", 2023)]
    expected_b = [("外商投资企业服务经费", 2023)]
    for person, expected in ((personas.manager_a, expected_a), (personas.supervisor_a, expected_a),
                             (personas.manager_b, expected_b)):
        response = call(seeded, token_for(seeded, person))
        assert response.status_code == 200 and sorted(names(response)) == sorted(expected), person.username
    everything = call(seeded, token_for(seeded, personas.supervisor_all))
    assert sorted(names(everything)) == sorted(expected_a + expected_b)


def test_each_project_has_the_interface_fields(seeded, personas):
    response = call(seeded, token_for(seeded, personas.manager_b), "/api/v1/projects?year=2023")
    assert response.get_json() == {"projects": [{
        "id": personas.project_b, "name": "外商投资企业服务经费", "year": 2023, "department": "山西省发展和改革委员会",
        "unit": "山西省国际经济合作中心", "light": None}]}
    assert call(seeded, token_for(seeded, personas.manager_b), "/api/v1/projects?year=2024").get_json() == \
        {"projects": []}


def test_a_malformed_year_is_a_400_in_chinese(seeded, personas):
    response = call(seeded, token_for(seeded, personas.admin), "/api/v1/projects?year=23")
    assert response.status_code == 400
    assert response.get_json() == {"error": "year 应为四位数的年度，例如 2023"}


def test_an_unknown_api_path_is_a_404_json(seeded, personas):
    response = call(seeded, token_for(seeded, personas.admin), "/api/v1/projects/999999/nothing")
    assert response.status_code == 404 and response.get_json() == {"error": "页面不存在，或您无权查看"}


def test_a_revoked_token_stops_at_once(seeded, personas):
    token = token_for(seeded, personas.manager_a)
    assert call(seeded, token).status_code == 200
    browser = signed_in(seeded, personas.manager_a)
    with Session(seeded.extensions["engine"]) as session:
        token_id = session.exec(select(ApiToken.id).where(ApiToken.user_id == personas.manager_a.id)).one()
    browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(browser, "/account")})
    assert call(seeded, token).status_code == 401


def test_a_disabled_users_token_stops(seeded, personas):
    token = token_for(seeded, personas.manager_b)
    admin = signed_in(seeded, personas.admin)
    admin.post(f"/admin/users/{personas.manager_b.id}/active",
               data={"csrf_token": csrf_token(admin, "/account"), "active": "0"})
    assert call(seeded, token).status_code == 401


def test_tokens_are_stored_as_hashes_and_the_last_use_is_noted(seeded, personas):
    token = token_for(seeded, personas.manager_a)
    call(seeded, token)
    with Session(seeded.extensions["engine"]) as session:
        row = session.exec(select(ApiToken).where(ApiToken.user_id == personas.manager_a.id)).one()
    assert token not in (row.token_sha256, row.prefix) and token.startswith(row.prefix)
    assert row.last_used_at is not None


def test_the_api_needs_no_csrf_token_but_sets_no_cookie(seeded, personas):
    response = call(seeded, token_for(seeded, personas.admin))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
