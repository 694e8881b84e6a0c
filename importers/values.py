"""The 指标值 grammar (DOMAIN.md §2); numbers, units and scaling live in domain/units.py.

Pure functions, stdlib only: the PDF/XLSX/text importers, the actual-entry forms and the API all
read targets and typed numbers through here, so one reading of a cell holds everywhere.

Decisions beyond the spec, each chosen so that a doubtful cell is never silently turned into a
wrong number (`raw` is always kept and staff can correct a target by hand):

- The number must come first (after an optional comparator). A number in the middle of words
  (`提高10%左右`, `完成率达100%`) is qualitative: a relative change needs a baseline we do not have.
- Ranges (`90%-95%`, `80～90`, `1至3个`) are qualitative: reading them as `>=` lower bound would
  silently drop the upper bound, which matters for costs.
- More generally, a unit that still contains a digit (`次/2年`, `个（2023年）`) is qualitative,
  except a digit right after a Latin letter (`m2`, `mg/m3`), which belongs to the unit.
- Dates and deadlines are qualitative with `is_date`: a 4-digit year followed by 年 (`2023年底`),
  a month with a day or 底/末/初/前 (`12月31日`, `8月底前`), ISO-like dates (`2023-12-31`), and,
  when no number leads, words like 年底/年内/上半年. `5年内` and `6个月` stay quantitative durations.
- Trailing `以上` → `>=`; `以内`/`以下`/`之内`/`内` → `<=` (`3个工作日内` = `<=` 3 个工作日: "within 3
  working days"); `左右` and a leading `约` → `=` (an approximate target is still the target).
  These words are dropped from the unit, also when a comparator was written (`≥90%以上` → `%`);
  the written comparator wins.
- Chinese numerals (`一次`) are not read: qualitative.
"""
from __future__ import annotations

import re

from domain.units import _FULLWIDTH, Target, parse_number, same_base, split_unit, to_base

__all__ = ["Target", "parse_target", "parse_number", "same_base", "split_unit", "to_base"]

_COMPARATORS = {
    ">=": [">=", "=>", "≥", "≧", "⩾", "大于等于", "大于或等于", "不低于", "不少于", "不小于"],
    "<=": ["<=", "=<", "≤", "≦", "⩽", "小于等于", "小于或等于", "不高于", "不超过", "不多于", "不大于"],
    ">": [">", "大于", "高于", "超过"],
    "<": ["<", "小于", "低于"],
    "=": ["=", "等于", "达到", "约"],
}
# Longest spelling first, so 大于等于 wins over 大于 and >= over >; spaces allowed inside (`> =`).
_SPELLINGS = sorted(((spelling, op) for op, spellings in _COMPARATORS.items() for spelling in spellings),
                    key=lambda pair: -len(pair[0]))
_COMPARATOR_RE = re.compile(r"\s*(?:" + "|".join(
    "(?P<c%d>%s)" % (i, r"\s*".join(map(re.escape, spelling))) for i, (spelling, _) in enumerate(_SPELLINGS)
) + ")")

# A number as typed: digits with stray spaces and thousands commas, an optional fraction.
_NUMBER_RE = re.compile(
    r"\s*[+-]?\s*(?:\d(?:\s*,?\s*\d)*(?:\s*\.(?:\s*\d)*)?|\.(?:\s*\d)+)")

_SUFFIX_OPS = {"以上": ">=", "以下": "<=", "以内": "<=", "之内": "<=", "内": "<=", "左右": "="}
_SUFFIX_RE = re.compile(r"(?:及|或)?(以上|以下|以内|之内|内|左右)$")
_TRAILING_PUNCT = "。；;,、"

_NO_TARGET_RE = re.compile(r"[\s*/\\\-—–―─－／＊]+|\s*无\s*|\s*")
_DATE_WITH_DIGITS = re.compile("|".join([
    r"(?:19|20)\d{2}\s*年",
    r"(?<!\d)(?:0?[1-9]|1[0-2])\s*月\s*(?:[0-3]?\d\s*[日号]|[底末初中前]|[上中下]旬|份)",
    r"(?<!\d)(?:19|20)\d{2}\s*[-/]\s*(?:0?[1-9]|1[0-2])(?:\s*[-/]\s*[0-3]?\d)?(?!\d)",
    r"(?<!\d)(?:19|20)\d{2}\.(?:0?[1-9]|1[0-2])\.[0-3]?\d(?!\d)",
]))
_DATE_WORDS = re.compile(r"[年月季][底末初]|季度末|[上下]半年|年内|月内|当年|当月|[上中下]旬")
# A digit left in the unit means a range or a compound value; m2 / mg/m3 are the exception.
_DIGIT_IN_UNIT = re.compile(r"(?<![A-Za-z])\d")

def parse_target(raw: str | None) -> Target:
    """Read one 指标值 cell. Never raises: what cannot be read as a number is qualitative."""
    raw = "" if raw is None else raw if isinstance(raw, str) else str(raw)
    if _NO_TARGET_RE.fullmatch(raw):
        return Target(raw, "qualitative", None, None, None, no_target=True)
    text = raw.translate(_FULLWIDTH).strip()
    if _DATE_WITH_DIGITS.search(text):
        return _qualitative(raw, is_date=True)
    target = _quantitative(raw, text)
    if target is None:
        return _qualitative(raw, is_date=bool(_DATE_WORDS.search(text)))
    return target


def _qualitative(raw: str, is_date: bool = False) -> Target:
    return Target(raw, "qualitative", None, None, None, is_date=is_date)


def _quantitative(raw: str, text: str) -> Target | None:
    """comparator? number unit? suffix? — or None when the cell is not of that shape."""
    op, rest = _take_comparator(text)
    number = _NUMBER_RE.match(rest)
    if not number:
        return None
    try:
        value = parse_number(number.group())
    except ValueError:
        return None  # e.g. "12,3": better flagged qualitative than read as 123
    unit = rest[number.end():].strip().rstrip(_TRAILING_PUNCT).strip()
    if _DIGIT_IN_UNIT.search(unit):
        return None
    suffix = _SUFFIX_RE.search(unit)
    if suffix:
        unit = unit[:suffix.start()].strip()
        op = op or _SUFFIX_OPS[suffix.group(1)]
    return Target(raw, "quantitative", op or "=", value, unit or None)


def _take_comparator(text: str) -> tuple[str | None, str]:
    match = _COMPARATOR_RE.match(text)
    if not match:
        return None, text
    return _SPELLINGS[int(match.lastgroup[1:])][1], text[match.end():]
