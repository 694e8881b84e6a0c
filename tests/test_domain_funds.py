"""A form's 年度资金 grouped into 财政拨款 and 其他资金 (domain/funds.py): one rule for the 监控表 and
the 绩效自评表; an empty cell of the form is unknown, never 0 (DOMAIN §1)."""
from decimal import Decimal

from hypothesis import given, strategies as st

from domain.funds import fund_groups
from models.project import FUND_SOURCES, ProjectYear
from reads.monitoring import _funds
from reads.self_evaluation import funds_lines

D = Decimal


def funds(**given):
    return {key: (D(given[key]) if given.get(key) is not None else None) for key in FUND_SOURCES}


def test_the_split_adds_up_to_fiscal_and_other():
    groups = fund_groups(funds(total=37_000_000, central=0, provincial=30_000_000, local=0, self_raised=7_000_000,
                               other=0))
    assert (groups.fiscal, groups.other, groups.fiscal_as_given) == (30_000_000, 7_000_000, False)


def test_a_blank_cell_is_unknown_unless_the_cells_already_add_up_to_the_total():
    # 中央 blank, and the cells do not reach the total: 财政拨款 is unknown, not 30,000,000
    groups = fund_groups(funds(total=40_000_000, provincial=30_000_000, local=0, self_raised=7_000_000, other=0))
    assert (groups.fiscal, groups.other) == (None, 7_000_000)
    # the same blanks where the cells add up to the total: they can only be 0
    groups = fund_groups(funds(total=37_000_000, provincial=30_000_000, self_raised=7_000_000))
    assert (groups.fiscal, groups.other) == (30_000_000, 7_000_000)


def test_a_year_only_form_gives_its_fiscal_line_itself():
    groups = fund_groups(funds(total=37_000_000, fiscal=30_000_000, other=7_000_000))
    assert (groups.fiscal, groups.other, groups.fiscal_as_given) == (30_000_000, 7_000_000, True)
    # without 其他资金 and not adding up: 其他资金 unknown, 财政拨款 as the form gives it
    groups = fund_groups(funds(total=37_000_000, fiscal=30_000_000))
    assert (groups.fiscal, groups.other) == (30_000_000, None)


def test_the_self_evaluation_of_a_year_only_form_shows_its_fiscal_line():
    py = ProjectYear(annual_total_yuan=D(37_000_000), annual_fiscal_yuan=D(30_000_000), annual_other_yuan=D(7_000_000))
    lines, notes = funds_lines(py, D(37_000_000), D(1_000_000), None, adjusted=False)
    assert [(line.label, line.initial_yuan) for line in lines] == [
        ("年度资金总额", 37_000_000), ("当年财政拨款", 30_000_000), ("上年结转资金", None), ("其他资金", 7_000_000)]
    assert notes[0] == "当年财政拨款按申报表的财政拨款填列，其他资金按申报表的其他资金填列"
    assert "上年结转资金：申报表未列明，年初预算数不填" in notes


amounts = st.one_of(st.none(), st.integers(min_value=0, max_value=50_000_000).map(D))


@given(st.fixed_dictionaries({key: amounts for key in FUND_SOURCES}))
def test_the_monitoring_sheet_and_the_self_evaluation_group_the_funds_alike(given_funds):
    py = ProjectYear(**{f"annual_{key}_yuan": value for key, value in given_funds.items()})
    monitoring = {line.label.removeprefix("其中："): line.initial_yuan for line in _funds(py, None)}
    evaluation = {line.label: line.initial_yuan for line in funds_lines(py, None, None, None, adjusted=False)[0]}
    assert monitoring["财政拨款"] == evaluation["当年财政拨款"]
    assert monitoring["其他资金"] == evaluation["其他资金"]
