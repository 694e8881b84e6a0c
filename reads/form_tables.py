"""The tables of a 申报表 as the pages show them: its funds and its indicators.

The project page shows the stored form, the import review a parsed one beside what is stored;
both use these shapes (`FundRow`, `IndicatorRow`), so both tables are grouped and labelled the
same way, with cells merged as the form merges them (`with_spans`).
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal

from importers import taxonomy
from importers.values import parse_target
from models.indicator import SCOPES, Indicator

FUND_LABELS = {"total": "资金总额", "fiscal": "其中：财政拨款", "central": "中央财政资金", "provincial": "省级财政资金",
               "local": "市县（区）财政资金", "self_raised": "单位自筹", "other": "其他资金"}
SCOPE_LABELS = {"period": "实施期", "annual": "年度"}


def shown_sources(*funds: dict | None) -> list[str]:
    """The fund sources a table shows, in FUND_LABELS' order: 财政拨款 only where one of the
    given funds (a side of a form or of a stored year) has it, as 年度-only and 上海 forms do."""
    has_fiscal = any(f and f.get("fiscal") is not None for f in funds)
    return [k for k in FUND_LABELS if k != "fiscal" or has_fiscal]


@dataclass
class FundRow:
    label: str
    period: Decimal | int | float | None
    annual: Decimal | int | float | None
    period_old: Decimal | None = None        # review of a changed form: the stored value
    annual_old: Decimal | None = None
    period_changed: bool = False
    annual_changed: bool = False
    marks: dict = dc_field(default_factory=dict)    # review of an OCR read: side → its FieldCheck


@dataclass
class Side:
    """One side (实施期 or 年度) of an indicator row, as written and as parsed."""
    level2: str | None
    level2_std: str | None
    level3: str | None
    raw: str | None
    kind: str | None
    op: str | None
    value: Decimal | int | float | None
    unit: str | None

    @property
    def no_target(self) -> bool:
        return parse_target(self.raw).no_target

    @property
    def qualitative(self) -> bool:
        return self.kind == "qualitative" and not self.no_target

    @property
    def level2_differs(self) -> bool:
        """Written in a non-standard way: the page shows the standard name as a hint."""
        return bool(self.level2_std) and taxonomy.compact(self.level2) != self.level2_std


@dataclass
class IndicatorRow:
    number: int
    level1: str
    level1_std: str | None
    period: Side | None
    annual: Side | None
    status: str | None = None                  # review only: new | changed | unchanged
    old_raw: dict = dc_field(default_factory=dict)     # scope → target before this import
    old_level3: dict = dc_field(default_factory=dict)  # scope → name before this import
    notes: list[str] = dc_field(default_factory=list)  # other changes of the row (its 二级)
    originals: dict = dc_field(default_factory=dict)   # project page: scope → its 原目标 (indicator_facts.Origin)
    warnings: list[str] = dc_field(default_factory=list)
    marks: dict = dc_field(default_factory=dict)   # review of an OCR read: "annual.target.raw" … → FieldCheck
    level1_span: int = 1                       # rows the cell spans; 0: merged into the one above
    period_level2_span: int = 1
    annual_level2_span: int = 1

    @property
    def level1_differs(self) -> bool:
        return bool(self.level1_std) and taxonomy.compact(self.level1) != self.level1_std

    def side(self, scope: str) -> Side | None:
        return getattr(self, scope)


def side_from_indicator(ind: Indicator, scope: str) -> Side | None:
    values = {name: getattr(ind, f"{scope}_{name}") for name in
              ("level2", "level2_std", "level3", "raw", "kind", "op", "value", "unit")}
    if values["level3"] is None and values["raw"] is None:
        return None
    return Side(**values)


def _side_from_form(side: dict | None) -> Side | None:
    if side is None:
        return None
    target = side["target"]
    return Side(side["level2"], taxonomy.standard_level2(side["level2"]), side["level3"], target["raw"],
                target["kind"], target["op"], target["value"], target["unit"])


def rows_from_indicators(indicators: list[Indicator]) -> list[IndicatorRow]:
    rows = [IndicatorRow(n, ind.level1, ind.level1_std, side_from_indicator(ind, "period"),
                         side_from_indicator(ind, "annual")) for n, ind in enumerate(indicators, start=1)]
    return with_spans(rows)


def rows_from_form(form: dict) -> list[IndicatorRow]:
    rows = [IndicatorRow(n, item["level1"], taxonomy.standard_level1(item["level1"]),
                         _side_from_form(item["period"]), _side_from_form(item["annual"]))
            for n, item in enumerate(form["indicators"], start=1)]
    return with_spans(rows)


def with_spans(rows: list[IndicatorRow]) -> list[IndicatorRow]:
    """Merge equal 一级 cells of consecutive rows, and equal 二级 cells within one 一级 group,
    the way the form itself merges them."""
    def level2(row: IndicatorRow, scope: str) -> str | None:
        side = row.side(scope)
        return side.level2 if side else None

    for i, row in enumerate(rows):
        if i and rows[i - 1].level1 == row.level1:
            row.level1_span = 0
            _head(rows, i, "level1_span").level1_span += 1
        for scope in SCOPES:
            attr = f"{scope}_level2_span"
            if row.level1_span == 0 and level2(row, scope) is not None and level2(rows[i - 1], scope) == level2(row, scope):
                setattr(row, attr, 0)
                head = _head(rows, i, attr)
                setattr(head, attr, getattr(head, attr) + 1)
    return rows


def _head(rows: list[IndicatorRow], i: int, attr: str) -> IndicatorRow:
    while getattr(rows[i], attr) == 0:
        i -= 1
    return rows[i]
