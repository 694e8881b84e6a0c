"""A form's 年度资金 grouped as the official reports group it (the 监控表's 其中：财政拨款 / 其他资金,
the 绩效自评表's 其中：当年财政拨款 / 其他资金): one rule for both.

财政拨款 is the form's own 其中：财政拨款 where its layout gives one (年度-only forms, DOMAIN §1),
else the sum of its 中央、省级、市县（区）财政资金; 其他资金 is its 单位自筹 and 其他资金. An empty
cell of the form is unknown, not 0 (DOMAIN §1): a group is known when each of its cells is, or
when the form's cells already add up to its 年度资金总额 (its empty cells can then only be 0);
otherwise it is unknown (None), never a sum that takes a blank for 0.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Mapping, NamedTuple

FISCAL_SOURCES = ("central", "provincial", "local")
OTHER_SOURCES = ("self_raised", "other")


class FundGroups(NamedTuple):
    fiscal: Decimal | None
    other: Decimal | None
    fiscal_as_given: bool        # the form's own 其中：财政拨款, not the sum of its split


def fund_groups(funds: Mapping[str, Decimal | None]) -> FundGroups:
    """`funds`: one side of a form's funds by source (total, central, …, fiscal)."""
    given_fiscal = funds.get("fiscal")
    fiscal_cells = ("fiscal",) if given_fiscal is not None else FISCAL_SOURCES
    total = funds.get("total")
    cells = [funds.get(key) for key in fiscal_cells + OTHER_SOURCES]
    adds_up = total is not None and sum(v for v in cells if v is not None) == total

    def group(keys) -> Decimal | None:
        parts = [funds.get(key) for key in keys]
        if adds_up or all(v is not None for v in parts):
            return sum((v for v in parts if v is not None), Decimal(0))
        return None

    return FundGroups(group(fiscal_cells), group(OTHER_SOURCES), given_fiscal is not None)
