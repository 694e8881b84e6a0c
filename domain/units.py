"""Numbers and units (DOMAIN.md §2, §4): a number as typed, and units compared after scaling
(`万` ×10⁴, `亿` ×10⁸ in front of a base unit: `3700万元` = 37000000 元).

Pure, stdlib only. `Target` is a parsed 指标值 (importers/values.py reads the cell); the rules
compare targets and actuals through `to_base` / `same_base`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

# Full-width and look-alike characters mapped 1:1 onto ASCII, so that positions in the working
# copy still line up with the raw text and the unit keeps everything else as written.
_FULLWIDTH = str.maketrans({
    **{chr(0xFF10 + i): str(i) for i in range(10)},
    "．": ".", "，": ",", "＋": "+", "－": "-", "−": "-",
    "＞": ">", "＜": "<", "＝": "=", "％": "%", "～": "~", "〜": "~",
})

_STRICT_NUMBER_RE = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)")

# Scale prefixes, longest first. 千 only scales 元: 千克, 千米, 千瓦 are units of their own.
_PREFIXES = [("万亿", 10 ** 12), ("千万", 10 ** 7), ("百万", 10 ** 6), ("十万", 10 ** 5),
             ("亿", 10 ** 8), ("万", 10 ** 4)]


@dataclass(frozen=True)
class Target:
    raw: str
    kind: str
    op: str | None
    value: Decimal | None
    unit: str | None
    no_target: bool = False
    is_date: bool = False

    def as_dict(self) -> dict:
        """The `target` object of forms.schema.json (JSON-ready: no Decimal)."""
        value = None
        if self.value is not None:
            value = int(self.value) if self.value == self.value.to_integral_value() else float(self.value)
        return {"raw": self.raw, "kind": self.kind, "op": self.op, "value": value, "unit": self.unit}


def parse_number(text: str) -> Decimal:
    """A number as a user types it: `1,234.5`, `5, 256. 96`, `１２３`, `-3`.

    Thousands commas must group by three (`12,3` is refused rather than guessed as 123).
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("请输入数字")
    compact = re.sub(r"\s+", "", text.translate(_FULLWIDTH))
    if not _STRICT_NUMBER_RE.fullmatch(compact):
        raise ValueError(f"“{text.strip()}”不是有效的数字")
    try:
        return Decimal(compact.replace(",", ""))
    except InvalidOperation:  # unreachable with the regex above; kept so no Decimal error leaks
        raise ValueError(f"“{text.strip()}”不是有效的数字") from None


@lru_cache(maxsize=1024)     # a province's actuals use a few dozen units, each met over and over
def split_unit(unit: str | None) -> tuple[Decimal, str | None]:
    """Scale factor and base unit: 万元 → (10000, 元); a bare 万/亿 scales a unitless number."""
    unit = (unit or "").translate(_FULLWIDTH).strip()
    if not unit:
        return Decimal(1), None
    if unit == "千元":
        return Decimal(1000), "元"
    for prefix, factor in _PREFIXES:
        if unit.startswith(prefix):
            return Decimal(factor), unit[len(prefix):].strip() or None
    return Decimal(1), unit


def to_base(value: Decimal, unit: str | None) -> tuple[Decimal, str | None]:
    """`value` in `unit` expressed in the base unit: (3700, 万元) → (37000000, 元)."""
    factor, base = split_unit(unit)
    # str() first: Decimal(0.1) would carry the float's binary error into money.
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return value * factor, base


def same_base(unit_a: str | None, unit_b: str | None) -> bool:
    """Whether an actual in one unit can be compared with a target in the other."""
    return split_unit(unit_a)[1] == split_unit(unit_b)[1]


# Short forms people type for a unit of the target's base: 亿/万 for 亿元/万元 (an amount in 元),
# 人 for 人次 (and 万人 for 万人次). Each applies only where the target's base is the alias's.
_ALIASES = {"元": {"亿": "亿元", "万": "万元"}, "人次": {"人": "人次", "万人": "万人次"}}


def unit_alias(typed: str | None, target_unit: str | None) -> str | None:
    """The unit as meant: `亿` for a target in 元 is 亿元, `人` for a target in 人次 is 人次; any
    other unit as typed (a bare 万 scales a unitless target, 人 stays 人 beside a target in 人)."""
    if typed is None:
        return None
    key = typed.translate(_FULLWIDTH).strip()
    return _ALIASES.get(split_unit(target_unit)[1] or "", {}).get(key, typed)


SPENDING_UNITS = ("元", "万元", "亿元")
_SCALED_BASES = ("元", "人次", "人", "平方米", "亩", "吨", "户", "千瓦时")   # written with 万 in real forms
_LEVEL_ONLY_UNITS = ("%", "％", "小时", "分钟", "天", "日", "个工作日", "工作日", "月", "年", "秒", "分")


def unit_choices(target_unit: str | None) -> list[str]:
    """Units an actual may be entered in: the target's, its base, and the 万/亿 scales of a count
    or an amount (元/万元/亿元, 人次/万人次); a percentage or a duration only in its own unit."""
    target_unit = (target_unit or "").strip()
    factor, base = split_unit(target_unit)
    if not base or base in _LEVEL_ONLY_UNITS:
        return [target_unit]
    choices = [target_unit, base]
    if factor != 1 or base in _SCALED_BASES:
        choices.append("万" + base)
    if base == "元":
        choices.append("亿元")
    return list(dict.fromkeys(choices))


def rate_above_whole(value, unit: str | None) -> bool:
    """A rate in % above 100 (a 及时率 of 120 %): accepted, but unusual enough to ask for a check."""
    return value is not None and (unit or "").translate(_FULLWIDTH).strip() == "%" and Decimal(str(value)) > 100
