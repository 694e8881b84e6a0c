"""Ids, years and dates a request may name (models/bounds.py): never a server error.

An id past 2**31 - 1 is out of range for PostgreSQL's INTEGER (DataError), and SQLite cannot
even bind one past 2**63 - 1 (OverflowError); a year like 9999 or 0001
overflows the date arithmetic behind the figures (ValueError); "²" passes str.isdigit() but not
int(). Every route of the URL map is called with such ids, as the admin through the pages (POSTs
with their CSRF token) and with an API token: always a 404. Ids in forms, query strings and an
uploaded sheet name nothing; years and dates out of range or malformed are a 400 with a Chinese
message, on the overview page and its API as on every route that reads them.
"""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from conftest import NOW, csrf_token, text_of
from models.bounds import MAX_ID      # 2**31 - 1: PostgreSQL's INTEGER
from test_api import token_for, year_of

HUGE_IDS = (MAX_ID, MAX_ID + 1, 2**63, 2**64)       # the largest a table holds (missing), and past it
FIXED = {"period": "2023-07", "job_id": "0" * 32, "export_id": "0" * 32, "filename": "app.css"}
NOT_FOUND = "页面不存在，或您无权查看"


def _rules(app):
    """(rule, methods) of every route of the URL map: a new route is covered as it is added."""
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        yield rule.rule, methods


def _fill(rule: str, ids) -> str:
    def value(match):
        converter, name = match.group(1), match.group(2)
        return str(ids(name)) if converter == "int" else FIXED[name]
    return re.sub(r"<(?:(\w+):)?(\w+)>", value, rule)


def _open(app, client, token: str, method: str, url: str, csrf: str):
    if url.startswith("/api/"):
        return app.test_client(use_cookies=False).open(url, method=method, json={},
                                                       headers={"Authorization": f"Bearer {token}"})
    return client.open(url, method=method, data={"csrf_token": csrf} if method == "POST" else None)


def test_an_id_no_table_can_hold_is_a_404_on_every_route(seeded, personas, client):
    token, csrf = token_for(seeded, personas.admin), csrf_token(client, "/account")
    wrong, checked = [], 0
    for rule, methods in _rules(seeded):
        if "<int:" not in rule:
            continue
        for huge in HUGE_IDS:
            url = _fill(rule, lambda name: huge)
            for method in methods:
                response = _open(seeded, client, token, method, url, csrf)
                answer = response.get_json()["error"] if url.startswith("/api/") else text_of(response.get_data(True))
                if huge <= MAX_ID:     # a row that may exist: the view decides (a 4xx for this empty form)
                    if not 400 <= response.status_code < 500:
                        wrong.append(f"{method} {url}: {response.status_code}")
                elif response.status_code != 404 or NOT_FOUND not in answer:
                    wrong.append(f"{method} {url}: {response.status_code}")
                checked += 1
    assert checked > 60 and not wrong, wrong


def test_ids_past_the_limit_in_forms_query_strings_and_sheets_name_nothing(seeded, personas, client):
    huge, token = str(2**64), token_for(seeded, personas.admin)
    csrf, project = csrf_token(client, "/account"), personas.project_a
    api = seeded.test_client(use_cookies=False)
    answers = {
        "bulk sheet of a unit": (client.get(f"/bulk.xlsx?unit={huge}"), 400, "实施单位无效"),
        "bulk page of unit ²": (client.get("/bulk?unit=²"), 400, "实施单位无效"),
        "unit export": (client.post("/exports", data={"csrf_token": csrf, "unit": huge, "year": "2023",
                                                      "month": "7"}), 400, "请选择实施单位、年度和月份"),
        "unit export of unit ²": (client.post("/exports", data={"csrf_token": csrf, "unit": "²", "year": "2023",
                                                                "month": "7"}), 400, "请选择实施单位、年度和月份"),
        "a score for no indicator": (client.post(f"/projects/{project}/evaluation/scores", data={
            "csrf_token": csrf, "year": "2023", f"score_{huge}": "5"}), 303, None),
        "projects of department ²": (client.get("/projects?department=²&page=²"), 200, "招商引资专项经费"),
        "outbox page ²": (client.get("/admin/reminders/outbox?page=²"), 200, None),
        "API overview of department ²": (api.get("/api/v1/reports/overview?department=²",
                                                 headers={"Authorization": f"Bearer {token}"}), 400, "应为编号"),
        "API overview of a huge department": (api.get(f"/api/v1/reports/overview?department={huge}",
                                                      headers={"Authorization": f"Bearer {token}"}), 400, "应为编号"),
    }
    for what, (response, status, message) in answers.items():
        shown = response.get_json()["error"] if response.is_json else text_of(response.get_data(True))
        assert response.status_code == status and (message is None or message in shown), (what, response.status_code)


def test_a_sheet_row_naming_an_indicator_past_the_limit_is_refused_in_chinese(seeded, personas, client):
    seeded.config["CLOCK"] = lambda: NOW
    book = load_workbook(io.BytesIO(client.get("/bulk.xlsx?period=2023-07").data))
    sheet = book["实际值"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=2, column=header.index("指标ID") + 1).value = str(2**64)
    sheet.cell(row=2, column=header.index("实际值") + 1).value = 100
    out = io.BytesIO()
    book.save(out)
    response = client.post("/bulk", data={"csrf_token": csrf_token(client, "/bulk"), "period": "2023-07",
                                          "file": (io.BytesIO(out.getvalue()), "填报表.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "第 2 行" in text_of(response.get_data(True)) and "该指标不存在或不在您的填报范围内" in text_of(
        response.get_data(True))


OUT_OF_RANGE = ("9999-12-31", "0001-01-01", "1999-12-31", "2101-01-01")
NOT_A_DAY = ("2023-02-30", "garbage", "2023-7-31", "２０２３-07-31")


@pytest.mark.parametrize("as_of", OUT_OF_RANGE + NOT_A_DAY)
def test_the_overview_refuses_a_date_out_of_range_or_malformed_in_chinese(seeded, personas, client, as_of):
    expected = "日期超出范围：截至日期（as_of）应在 2000-01-01 到 2100-12-31 之间" if as_of in OUT_OF_RANGE else \
        "截至日期（as_of）应为 YYYY-MM-DD 格式的有效日期，例如 2023-07-31"
    page = client.get(f"/reports/overview?as_of={as_of}")
    assert page.status_code == 400 and expected in text_of(page.get_data(True))
    for path in ("/api/v1/reports/overview", "/api/v1/projects"):
        answer = seeded.test_client(use_cookies=False).get(
            f"{path}?as_of={as_of}", headers={"Authorization": f"Bearer {token_for(seeded, personas.admin)}"})
        assert answer.status_code == 400 and answer.get_json() == {"error": expected}, path


BAD_YEARS = {"9999": "年度超出范围：年度（year）应在 2000 到 2100 之间",
             "0001": "年度超出范围：年度（year）应在 2000 到 2100 之间",
             "99999": "年度（year）应为四位数，例如 2023",
             "²⁰²³": "年度（year）应为四位数，例如 2023"}


def _year_readers(project: int) -> list[tuple[str, str]]:
    """(method, url) of every route that reads a year from its query string or form (the project
    and alert lists leave a bad one out, as any malformed filter: test_views_projects.py)."""
    gets = [f"/projects/{project}", f"/projects/{project}/evaluation", f"/projects/{project}/evaluation.xlsx",
            f"/projects/{project}/monitoring.xlsx", f"/projects/{project}/monitoring/print",
            f"/projects/{project}/evaluation/print", "/bulk", "/bulk.xlsx", "/exports", "/reports/overview",
            f"/reports/projects/{project}", "/api/v1/projects", "/api/v1/reports/overview"]
    posts = ["/exports", f"/projects/{project}/periods", f"/projects/{project}/evaluation",
             f"/projects/{project}/evaluation/submit"]
    return [("GET", url) for url in gets] + [("POST", url) for url in posts]


@pytest.mark.parametrize("year", sorted(BAD_YEARS))
def test_every_route_that_reads_a_year_refuses_one_out_of_range_or_malformed(seeded, personas, client, year):
    token, csrf = token_for(seeded, personas.admin), csrf_token(client, "/account")
    wrong = []
    for method, url in _year_readers(personas.project_a):
        if method == "GET":
            response = _open(seeded, client, token, method, f"{url}?year={year}", csrf)
        else:
            response = client.post(url, data={"csrf_token": csrf, "year": year, "unit": "1", "month": "7",
                                              "periods": "monthly"})
        shown = response.get_json()["error"] if response.is_json else text_of(response.get_data(True))
        if response.status_code != 400 or BAD_YEARS[year] not in shown:
            wrong.append(f"{method} {url}: {response.status_code}")
    assert not wrong, wrong


def test_no_route_answers_a_bad_date_or_year_with_a_server_error(seeded, personas, client):
    """Every GET route, its ids those of the admin's own objects, with each bad argument."""
    token, csrf = token_for(seeded, personas.admin), csrf_token(client, "/account")
    py, ids = year_of(seeded, "招商引资专项经费")
    own = {"project_id": personas.project_a, "project_year_id": py, "indicator_id": ids["参展企业数量"],
           "user_id": personas.admin.id}
    wrong = []
    for rule, methods in _rules(seeded):
        if "GET" not in methods:
            continue
        url = _fill(rule, lambda name: own.get(name, 1))
        for query in ("year=9999", "year=²⁰²³", "as_of=9999-12-31", "as_of=0001-01-01", "as_of=2023-02-30",
                      "period=9999-12", "period=0000-01", "unit=²", "department=²", "page=²"):
            response = _open(seeded, client, token, "GET", f"{url}?{query}", csrf)
            if response.status_code >= 500:
                wrong.append(f"GET {url}?{query}: {response.status_code}")
    assert not wrong, wrong


def test_the_bounds_are_the_tracked_years_and_the_largest_stored_integer():
    from models.bounds import MAX_ID, BadArgument, parse_date, parse_year, whole_number
    assert parse_year("2000") == 2000 and parse_year("2100") == 2100 and parse_year("") is None
    assert str(parse_date("2100-12-31")) == "2100-12-31" and parse_date(None) is None
    for bad in ("1999", "2101", "23", "二〇二三"):
        with pytest.raises(BadArgument):
            parse_year(bad)
    assert whole_number(str(MAX_ID)) == MAX_ID and whole_number(MAX_ID + 1) is None
    assert [whole_number(v) for v in (" 7 ", "²", "-1", "7.0", True, None)] == [7, None, None, None, None, None]
