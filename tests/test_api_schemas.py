"""The API's request models (reads/api_schemas.py): what the document forbids is refused with a
Chinese 422 and nothing is stored, what it allows is taken; the patterns stand for the bounds
they name. (A page form stays lenient with what people type: tests/test_views_actuals.py.)"""
from __future__ import annotations

import re

import pytest

from models.bounds import FIRST_YEAR, LAST_YEAR
from reads.api_schemas import PERIOD_PATTERN, SIGNED_TEXT, UNSIGNED_TEXT, YEAR_PATTERN
from test_api import Api, year_of
from test_api_actuals import CHINESE, SPECIAL, stored


@pytest.fixture
def api(seeded, personas):
    return Api(seeded, personas.manager_a)


def test_the_year_pattern_is_the_tracked_years():
    year = re.compile(YEAR_PATTERN)
    assert [y for y in range(1000, 10000) if year.fullmatch(str(y))] == list(range(FIRST_YEAR, LAST_YEAR + 1))
    assert re.fullmatch(PERIOD_PATTERN, "2023-07") and not re.fullmatch(PERIOD_PATTERN, "2023-13")


@pytest.mark.parametrize("text,number", [("35", True), ("1,234.5", True), ("+3", True), (".5", True), ("5.", True),
                                         ("-3", False), ("3 5", False), ("３５", False), (" 35", False),
                                         ("12,3", False), ("1e3", False), ("", False)])
def test_a_number_as_text_is_plain_digits(text, number):
    assert bool(re.fullmatch(UNSIGNED_TEXT, text)) is number
    assert bool(re.fullmatch(SIGNED_TEXT, text)) is (number or text == "-3")


FORBIDDEN = [
    ({"value": "3 5"}, "实际值：不是有效的数字"),
    ({"value": "３５"}, "实际值：不是有效的数字"),
    ({"value": 35, "assessment": "还行"}, "完成情况：应为"),        # was ignored on a quantitative indicator
    ({"value": 35, "assessment": ""}, "完成情况：应为"),
    ({"value": 35, "likelihood": ""}, "完成可能性：应为"),
    ({"value": 35, "deviation_reasons": "其他"}, "偏差原因：应为偏差原因的列表"),
    ({"value": 35, "unit": "万" + " " * 40 + "家"}, "单位"),         # 万家 to the rules; PostgreSQL holds 40
]


@pytest.mark.parametrize("body,message", FORBIDDEN, ids=[repr(b) for b, _m in FORBIDDEN])
def test_an_actual_the_document_forbids_is_refused_and_nothing_is_stored(seeded, api, body, message):
    py, ids = year_of(seeded, SPECIAL)
    response = api.put(f"/indicators/{ids['参展企业数量']}/actuals/2023-07", body)
    assert response.status_code == 422 and message in response.get_json()["error"], response.get_json()
    assert stored(api, py, ids["参展企业数量"]) is None


@pytest.mark.parametrize("amount", ["1 000", "１０", [], "-1"])
def test_spending_the_document_forbids_is_refused_and_nothing_is_stored(seeded, api, amount):
    py, _ids = year_of(seeded, SPECIAL)
    response = api.put(f"/projects/{py}/spending/2023-07", {"amount_yuan": amount})
    assert response.status_code == 422 and CHINESE.search(response.get_json()["error"])
    assert api.get(f"/projects/{py}", as_of="2023-07-31").get_json()["budget"]["spent_yuan"] is None


def test_a_version_written_as_a_whole_float_is_that_version(seeded, api):
    """JSON (and JSON Schema's integer) make no difference between 1 and 1.0; Schemathesis sent 558.0."""
    py, ids = year_of(seeded, SPECIAL)
    url = f"/indicators/{ids['参展企业数量']}/actuals/2023-07"
    assert api.put(url, {"value": 35}).status_code == 200
    assert api.put(url, {"value": 36, "version": 1.0}).status_code == 200
    assert api.put(url, {"value": 37, "version": 1.5}).status_code == 400
    assert stored(api, py, ids["参展企业数量"])["value"] == 36


def test_the_documented_words_are_the_domains():
    from typing import get_args

    from domain import rules
    from reads.api_schemas import Assessment, Light, Measure
    assert get_args(Assessment) == rules.ASSESSMENTS and get_args(Measure) == rules.MEASURES
    assert get_args(Light) == (rules.GREEN, rules.YELLOW, rules.RED, rules.GREY)
