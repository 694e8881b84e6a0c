"""The 指标值 grammar (DOMAIN.md §2) and unit scaling (§4), case by case."""
import json
from decimal import Decimal
from pathlib import Path

import pytest

from importers.values import Target, parse_number, parse_target, same_base, split_unit, to_base

SEED = Path(__file__).parent / "fixtures" / "seed_forms.expected.json"


def quantitative(raw, op, value, unit):
    return Target(raw, "quantitative", op, Decimal(value), unit)


def qualitative(raw, is_date=False):
    return Target(raw, "qualitative", None, None, None, is_date=is_date)


def no_target(raw):
    return Target(raw, "qualitative", None, None, None, no_target=True)


# --- comparators -------------------------------------------------------------------------------

@pytest.mark.parametrize("spelling, op", [
    ("≥", ">="), ("＞＝", ">="), (">=", ">="), ("大于等于", ">="), ("不低于", ">="),
    ("不少于", ">="), ("不小于", ">="), ("≧", ">="), ("=>", ">="), ("⩾", ">="),
    ("＞=", ">="), (">＝", ">="), ("> =", ">="), ("大于或等于", ">="),
    ("≤", "<="), ("＜＝", "<="), ("<=", "<="), ("小于等于", "<="), ("不高于", "<="),
    ("不超过", "<="), ("不多于", "<="), ("不大于", "<="), ("≦", "<="), ("=<", "<="),
    ("⩽", "<="), ("＜=", "<="), ("<＝", "<="), ("小于或等于", "<="),
    (">", ">"), ("＞", ">"), ("大于", ">"), ("高于", ">"), ("超过", ">"),
    ("<", "<"), ("＜", "<"), ("小于", "<"), ("低于", "<"),
    ("=", "="), ("＝", "="), ("等于", "="), ("达到", "="),
])
def test_every_comparator_spelling(spelling, op):
    raw = f"{spelling}70家"
    assert parse_target(raw) == quantitative(raw, op, "70", "家")


@pytest.mark.parametrize("raw, expected", [
    ("≥ 70 家", quantitative("≥ 70 家", ">=", "70", "家")),
    ("  ≤12小时 ", quantitative("  ≤12小时 ", "<=", "12", "小时")),
    ("大于等于 95 %", quantitative("大于等于 95 %", ">=", "95", "%")),
    ("不超过\u300012小时", quantitative("不超过\u300012小时", "<=", "12", "小时")),
])
def test_spaces_between_parts(raw, expected):
    assert parse_target(raw) == expected


# --- numbers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, op, value, unit", [
    ("≥１００家", ">=", "100", "家"),
    ("≥９５％", ">=", "95", "%"),
    ("≤２３１．３３万元", "<=", "231.33", "万元"),
    ("≥1,234家", ">=", "1234", "家"),
    ("≥1，234，567元", ">=", "1234567", "元"),
    ("≥5, 256. 96万元", ">=", "5256.96", "万元"),
    ("≤231.33万元", "<=", "231.33", "万元"),
    ("≥0.5%", ">=", "0.5", "%"),
    ("≥-5%", ">=", "-5", "%"),
    ("-5%", "=", "-5", "%"),
    ("≥＋3个", ">=", "3", "个"),
])
def test_number_forms(raw, op, value, unit):
    assert parse_target(raw) == quantitative(raw, op, value, unit)


def test_raw_keeps_full_width_but_unit_is_normalised():
    target = parse_target("１００％")
    assert target.raw == "１００％"
    assert (target.op, target.value, target.unit) == ("=", Decimal(100), "%")


# --- no comparator, suffix words ---------------------------------------------------------------

@pytest.mark.parametrize("raw, op, value, unit", [
    ("100%", "=", "100", "%"),
    ("5家", "=", "5", "家"),
    ("12", "=", "12", None),
    ("90%以上", ">=", "90", "%"),
    ("90%及以上", ">=", "90", "%"),
    ("500平方米以上", ">=", "500", "平方米"),
    ("10%以内", "<=", "10", "%"),
    ("10%以下", "<=", "10", "%"),
    ("5日之内", "<=", "5", "日"),
    ("3个工作日内", "<=", "3", "个工作日"),
    ("5年内", "<=", "5", "年"),
    ("20以内", "<=", "20", None),
    ("10%左右", "=", "10", "%"),
    ("约10%", "=", "10", "%"),
    ("≥90%以上", ">=", "90", "%"),      # the written comparator wins, the word leaves the unit
    ("≤3个工作日以内", "<=", "3", "个工作日"),
    ("≥95%。", ">=", "95", "%"),
])
def test_implicit_and_suffix_comparators(raw, op, value, unit):
    assert parse_target(raw) == quantitative(raw, op, value, unit)


@pytest.mark.parametrize("raw, op, value, unit", [
    ("≥1次/年", ">=", "1", "次/年"),
    ("≥10万人次", ">=", "10", "万人次"),
    ("≤3700万元", "<=", "3700", "万元"),
    ("≥800亿元", ">=", "800", "亿元"),
    ("6个月", "=", "6", "个月"),
    ("≥10000m2", ">=", "10000", "m2"),
    ("≤100mg/m3", "<=", "100", "mg/m3"),
])
def test_units_are_kept_as_written(raw, op, value, unit):
    assert parse_target(raw) == quantitative(raw, op, value, unit)


# --- qualitative, dates, ranges, no target -------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "保障", "按时", "积极", "明显提升", "达到预期", "有效保障", "不低于上年", "超过预期",
    "提高10%左右",        # number only in the middle of words: no baseline to measure against
    "完成率达100%",
    "90%-95%", "80～90", "80~90", "1至3个", "3-5个工作日", "2000-3000元",   # ranges
    "≥1次/2年",           # a digit left in the unit
    "12,3个",             # thousands separator in the wrong place: not guessed
    "一次", "NaN", "inf", "≥",
])
def test_qualitative(raw):
    assert parse_target(raw) == qualitative(raw)


@pytest.mark.parametrize("raw", [
    "2024年8月底前", "12月31日前完成", "2023年12月31日", "年底前", "2023年底", "6月底",
    "2023-12-31", "2023/6", "2023.12.31", "上半年完成", "年内完成", "≥95%（2023年）",
])
def test_dates_are_qualitative(raw):
    assert parse_target(raw) == qualitative(raw, is_date=True)


@pytest.mark.parametrize("raw", ["*", "/", "—", "-", "——", "无", " 无 ", "", "   ", "\u3000",
                                 "－", "／", "＊"])
def test_no_target(raw):
    target = parse_target(raw)
    assert target == no_target(raw)
    assert target.as_dict() == {"raw": raw, "kind": "qualitative", "op": None, "value": None,
                                "unit": None}


def test_none_is_no_target_with_empty_raw():
    assert parse_target(None) == no_target("")


# --- as_dict -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("≥70家", {"raw": "≥70家", "kind": "quantitative", "op": ">=", "value": 70, "unit": "家"}),
    ("≤231.33万元", {"raw": "≤231.33万元", "kind": "quantitative", "op": "<=", "value": 231.33,
                    "unit": "万元"}),
    ("100.0%", {"raw": "100.0%", "kind": "quantitative", "op": "=", "value": 100, "unit": "%"}),
    ("按时", {"raw": "按时", "kind": "qualitative", "op": None, "value": None, "unit": None}),
])
def test_as_dict_is_json_ready(raw, expected):
    result = parse_target(raw).as_dict()
    assert result == expected
    assert type(result["value"]) is type(expected["value"])
    assert json.loads(json.dumps(result, ensure_ascii=False)) == expected


# --- the seed forms ----------------------------------------------------------------------------

def _seed_targets():
    forms = json.loads(SEED.read_text(encoding="utf-8"))["forms"]
    return [side["target"] for form in forms for row in form["indicators"]
            for side in (row["period"], row["annual"]) if side]


def test_seed_has_targets():
    assert len(_seed_targets()) == 54


@pytest.mark.parametrize("expected", _seed_targets(), ids=lambda t: t["raw"])
def test_seed_targets_parse_as_expected(expected):
    result = parse_target(expected["raw"]).as_dict()
    assert result == expected
    assert type(result["value"]) is type(expected["value"])


# --- units and scaling -------------------------------------------------------------------------

@pytest.mark.parametrize("unit, factor, base", [
    ("万元", 10 ** 4, "元"), ("亿元", 10 ** 8, "元"), ("元", 1, "元"), ("千元", 1000, "元"),
    ("百万元", 10 ** 6, "元"), ("千万元", 10 ** 7, "元"), ("万人次", 10 ** 4, "人次"),
    ("人次", 1, "人次"), ("%", 1, "%"), ("％", 1, "%"), ("家", 1, "家"), ("平方米", 1, "平方米"),
    ("万", 10 ** 4, None), ("亿", 10 ** 8, None), (None, 1, None), ("", 1, None), (" 万元 ", 10 ** 4, "元"),
    ("千克", 1, "千克"), ("千米", 1, "千米"), ("百分点", 1, "百分点"),
])
def test_split_unit(unit, factor, base):
    assert split_unit(unit) == (Decimal(factor), base)


@pytest.mark.parametrize("value, unit, expected, base", [
    ("3700", "万元", "37000000", "元"),
    ("10", "万人次", "100000", "人次"),
    ("800", "亿元", "80000000000", "元"),
    ("231.33", "万元", "2313300", "元"),
    ("95", "%", "95", "%"),
    ("1.5", "万", "15000", None),
    ("70", "家", "70", "家"),
])
def test_to_base(value, unit, expected, base):
    assert to_base(Decimal(value), unit) == (Decimal(expected), base)


def test_to_base_from_a_float_does_not_carry_binary_error():
    assert to_base(0.1, "万元") == (Decimal("1000.0"), "元")


def test_scaling_a_parsed_target():
    target = parse_target("≤3700万元")
    assert to_base(target.value, target.unit) == (Decimal(37000000), "元")


@pytest.mark.parametrize("unit_a, unit_b, same", [
    ("万元", "元", True), ("亿元", "万元", True), ("人次", "万人次", True), ("%", "％", True),
    ("万", None, True), (None, None, True), ("元", "人次", False), ("家", "个", False),
    ("%", None, False), ("万元", "万人次", False),
])
def test_same_base(unit_a, unit_b, same):
    assert same_base(unit_a, unit_b) is same
    assert same_base(unit_b, unit_a) is same


# --- parse_number ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("35", "35"), ("1,234.5", "1234.5"), ("5, 256. 96", "5256.96"), ("１２３", "123"),
    ("１，２３４．５", "1234.5"), ("-3", "-3"), ("+3", "3"), ("－3", "-3"), (" 0.5 ", "0.5"),
    (".5", "0.5"), ("1,000,000", "1000000"), ("15000000", "15000000"),
])
def test_parse_number(text, expected):
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", [
    "abc", "12a", "NaN", "nan", "inf", "Infinity", "-inf", "1e3", "", "   ", "1,2", "12,34",
    "1.2.3", "--1", "1,234,", ",", ".", "３５家", "≥35",
])
def test_parse_number_refuses_with_a_chinese_message(text):
    with pytest.raises(ValueError) as error:
        parse_number(text)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.value))


def test_parse_number_refuses_none():
    with pytest.raises(ValueError, match="请输入数字"):
        parse_number(None)


@pytest.mark.parametrize("typed, target, meant", [
    ("亿", "万元", "亿元"), ("万", "元", "万元"), ("亿", "≤3700万元"[5:], "亿元"), ("人", "人次", "人次"),
    ("万人", "万人次", "万人次"), ("人", "人", "人"), ("人", "家", "人"), ("万", "家", "万"), ("万", None, "万"),
    ("亿元", "万元", "亿元"), (None, "万元", None),
])
def test_short_units_mean_the_targets_base_only_where_it_matches(typed, target, meant):
    from domain.units import unit_alias
    assert unit_alias(typed, target) == meant


def test_a_spending_amount_in_a_short_unit():
    from models.actual import spending_amount_yuan
    assert spending_amount_yuan("1500", "万") == Decimal(15_000_000)
    assert spending_amount_yuan("0.5", "亿") == Decimal(50_000_000)
