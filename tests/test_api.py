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


class Api:
    """A script calling the API as one person: their bearer token, JSON in and out, no cookies."""

    def __init__(self, app, person):
        self.client = app.test_client(use_cookies=False)
        self.headers = {"Authorization": f"Bearer {token_for(app, person)}"}

    def get(self, url: str, **params):
        return self.client.get(f"/api/v1{url}", query_string=params, headers=self.headers)

    def put(self, url: str, body=None, *, raw: str | bytes | None = None, headers: dict | None = None, **params):
        kwargs = {"data": raw, "content_type": "application/json"} if raw is not None else {"json": body}
        return self.client.put(f"/api/v1{url}", query_string=params, headers=self.headers | (headers or {}),
                               **kwargs)


def year_of(app, project_name: str, year: int = 2023) -> tuple[int, dict[str, int]]:
    """The ProjectYear id of a project and its indicators' ids by 年度 三级指标."""
    from models.indicator import Indicator
    from models.project import Project, ProjectYear
    with Session(app.extensions["engine"]) as session:
        py = session.exec(select(ProjectYear.id).join(Project, Project.id == ProjectYear.project_id)
                          .where(Project.name == project_name, ProjectYear.year == year)).one()
        indicators = session.exec(select(Indicator).where(Indicator.project_year_id == py)).all()
        return py, {i.annual_level3 or i.period_level3: i.id for i in indicators}


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


def project_year_id(app, project: int, year: int = 2023) -> int:
    from models.project import ProjectYear
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(ProjectYear.id).where(ProjectYear.project_id == project,
                                                         ProjectYear.year == year)).one()


def test_each_project_has_the_interface_fields(seeded, personas):
    """`id` is the ProjectYear's: what the other calls take. Nothing is due in January yet."""
    response = call(seeded, token_for(seeded, personas.manager_b), "/api/v1/projects?year=2023&as_of=2023-01-15")
    assert response.get_json() == {"projects": [{
        "id": project_year_id(seeded, personas.project_b), "name": "外商投资企业服务经费", "year": 2023,
        "department": "山西省发展和改革委员会", "unit": "山西省国际经济合作中心", "light": None}]}
    assert call(seeded, token_for(seeded, personas.manager_b), "/api/v1/projects?year=2024").get_json() == \
        {"projects": []}


def test_a_malformed_year_is_a_400_in_chinese(seeded, personas):
    response = call(seeded, token_for(seeded, personas.admin), "/api/v1/projects?year=23")
    assert response.status_code == 400
    assert response.get_json() == {"error": "年度（year）应为四位数，例如 2023"}


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


# --------------------------------------------------------------------------- the list's lights

def lights(api: Api, **params) -> dict[str, str | None]:
    return {p["name"]: p["light"] for p in api.get("/projects", **params).get_json()["projects"]}


def test_a_projects_light_is_the_worst_of_its_indicators_and_budget(seeded, personas):
    py, ids = year_of(seeded, "招商引资专项经费")
    api = Api(seeded, personas.manager_a)
    # until 5 February only January's entries that came in have a light
    api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-01", {"value": 10})              # p = 1.71
    assert lights(api, as_of="2023-01-31")["招商引资专项经费"] == "green"
    api.put(f"/indicators/{ids['参展面积']}/actuals/2023-01", {"value": 30, "deviation_reasons": ["其他"]})  # 0.72
    assert lights(api, as_of="2023-01-31") == {"招商引资专项经费": "yellow", "招商引资业务经费": None,
                                               "网络运行维护费": None}
    api.put(f"/projects/{py}/spending/2023-01", {"amount_yuan": 100_000})                       # p = 0.03
    assert lights(api, as_of="2023-01-31")["招商引资专项经费"] == "red"
    assert set(lights(api, as_of="2023-02-06").values()) == {"red", "grey"}    # January past its deadline
    assert lights(api, as_of="2023-01-15")["招商引资专项经费"] is None           # nothing due yet
    seeded.config["CLOCK"] = lambda: datetime(2023, 1, 31, 4, 0, tzinfo=timezone.utc)
    assert lights(api)["招商引资专项经费"] == "red"                              # today, by the clock


@pytest.mark.parametrize("as_of", ["2023-01-15", "2023-07-31", "2023-08-05", "2023-08-06", "2023-09-30",
                                   "2024-03-01"])
def test_the_lists_light_is_the_project_pages_light(seeded, personas, as_of):
    """The list reads the stored lights in bulk; it must say what each project's page says."""
    api = Api(seeded, personas.admin)
    entries = {"招商引资专项经费": [("参展企业数量", "2023-07", {"value": 35}), ("参展面积", "2023-08", {"value": 500})],
               "招商引资业务经费": [("保障招商活动开展", "2023-07", {"assessment": "未达成", "deviation_reasons": ["其他"]})],
               "外商投资企业服务经费": [("会议服务次数", "2023-12", {"value": 100})]}
    for name, rows in entries.items():
        py, ids = year_of(seeded, name)
        for level3, period, body in rows:
            assert api.put(f"/indicators/{ids[level3]}/actuals/{period}", body).status_code == 200
        api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": 20_000})
    listed = {p["id"]: p["light"] for p in api.get("/projects", as_of=as_of).get_json()["projects"]}
    assert len(listed) == 4
    for py, light in listed.items():
        assert api.get(f"/projects/{py}", as_of=as_of).get_json()["light"] == light, py
