"""The other layouts of DOMAIN.md §1 (importers/layouts.py), drawn as PDF and xlsx, ruled and blank."""
from decimal import Decimal

import pytest

from importers import parse_file
from importers.grid import Row, find_forms
from importers.layouts import split_value
from pdfgen import write_pdf
from pdfgen_layouts import annual_form, shanghai_form, split_raw, stacked_form
from xlsxgen import write_layout_xlsx

LAYOUTS = {
    "annual-only": (annual_form, {"form_style": "annual_only", "amount_unit": "万元"}),
    "annual-only-split-value": (annual_form, {"form_style": "annual_only", "indicator_style": "split_value",
                                              "amount_unit": "万元"}),
    "stacked-blocks": (stacked_form, {"indicator_style": "stacked"}),
    "stacked-blocks-in-wan-yuan": (stacked_form, {"indicator_style": "stacked", "amount_unit": "万元"}),
    "shanghai": (shanghai_form, {"form_style": "shanghai", "amount_unit": "万元"}),
    "shanghai-mid-term-goal": (shanghai_form, {"form_style": "shanghai", "period_goal_label": "中期目标"}),
}
STYLES = {"merged": {"merge_levels": True}, "blank-same-as-above": {"merge_levels": False}}


def public(result):
    return [{k: v for k, v in f.items() if not k.startswith("_")} for f in result.forms]


def write(tmp_path, source, forms, **layout):
    if source == "pdf":
        return write_pdf(tmp_path / "forms.pdf", forms, **layout)
    return write_layout_xlsx(tmp_path / "forms.xlsx", forms, **layout)


@pytest.mark.parametrize("source", ["pdf", "xlsx"])
@pytest.mark.parametrize("style", STYLES.values(), ids=STYLES.keys())
@pytest.mark.parametrize("make,layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_each_layout_parses_to_the_form_it_was_drawn_from(tmp_path, source, style, make, layout):
    form = make()
    result = parse_file(write(tmp_path, source, [form], **layout, **style))
    assert public(result) == [form]
    assert result.warnings == []


def test_annual_only_form_has_no_period_side_and_its_fiscal_funds():
    form = annual_form()
    assert all(v is None for v in form["funds"]["period"].values()) and "fiscal" not in form["funds"]["period"]
    assert form["funds"]["annual"]["fiscal"] == 30_000_000
    assert all(i["period"] is None for i in form["indicators"])


def test_stacked_blocks_pair_by_name_and_keep_the_unpaired_long_term_rows_last(tmp_path):
    result = parse_file(write_pdf(tmp_path / "f.pdf", [stacked_form()], indicator_style="stacked"))
    indicators = result.forms[0]["indicators"]
    new = next(i for i in indicators if i["annual"] and i["annual"]["level3"] == "新增招商小分队数量")
    assert new["period"] is None
    assert indicators[-1]["annual"] is None and indicators[-1]["period"]["level3"] == "招商引资长效机制"
    assert indicators[0]["period"]["target"]["raw"] == "≥100家" and indicators[0]["annual"]["target"]["raw"] == "≥70家"


def test_amounts_in_wan_yuan_are_exact_in_yuan(tmp_path):
    form = annual_form()
    form["funds"]["annual"].update(total=12_345_678.91, fiscal=11_000, other=12_334_678.91)
    result = parse_file(write_pdf(tmp_path / "f.pdf", [form], form_style="annual_only", amount_unit="万元"))
    annual = result.forms[0]["funds"]["annual"]
    # 1,234.567891 万元 and 1.1 万元: float arithmetic would give 11000.000000000002
    assert (annual["total"], annual["fiscal"], annual["other"]) == (12_345_678.91, 11_000, 12_334_678.91)
    assert isinstance(annual["fiscal"], int)
    assert Decimal(str(annual["total"])) == Decimal("12345678.91")


@pytest.mark.parametrize("source", ["pdf", "xlsx"])
def test_a_form_without_a_declared_unit_is_read_in_yuan_with_a_warning(tmp_path, source):
    form = annual_form()
    result = parse_file(write(tmp_path, source, [form], form_style="annual_only", amount_unit=None))
    assert public(result) == [form]
    assert result.warnings == ["招商引资专项经费：申报表未注明金额单位（元或万元），金额已按元读取，请核对"]


def test_shanghai_carried_over_funds_are_reported_not_stored(tmp_path):
    form = shanghai_form()
    result = parse_file(write_pdf(tmp_path / "f.pdf", [form], form_style="shanghai", amount_unit="万元",
                                  carried_over=500_000))
    assert public(result) == [form]
    assert result.warnings == ["招商引资专项经费：上年结转资金500000元已含在年度资金总额中，未单独保存"]


def test_shanghai_labels_map_to_the_schema():
    form = shanghai_form()
    assert form["project_attribute"] == "延续项目"               # 项目性质
    assert form["project_term"] == "2023-01-01至2025-12-31"      # 计划开始日期 至 计划完成日期
    assert form["funds"]["period"]["fiscal"] == 100_000_000       # 项目资金总额 其中：财政资金
    assert form["funds"]["annual"]["fiscal"] == 35_765_432.11     # 年度资金申请总额 其中：当年财政拨款


@pytest.mark.parametrize("raw", ["≥95%", "≤3700万元", "≥10万人次", "保障", "2023年12月底前", "＞＝1,000亿元"])
def test_split_values_concatenate_back_to_the_value_as_written(raw):
    nature, value, unit = split_raw(raw)
    assert split_value(nature, value, unit) == (raw, nature == "定性")


def test_qualitative_nature_wins_over_a_number_and_a_word_without_unit_is_qualitative():
    header = ["绩效指标", "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位"]
    rows = [Row(["项目支出绩效目标表"], "line"), Row(["（2024年度）"], "line"),
            Row(["项目名称", "测试项目"]), Row(["主管部门及代码", "301-河北省教育厅", "实施单位", "河北省某中学"]),
            Row(["项目资金（元）", "年度资金总额", "100"]), Row(header),
            Row([None, "产出指标", "数量指标", "培训批次", "定性", "3", "批"]),
            Row([None, None, "质量指标", "培训质量", "=", "优良", ""]),
            Row([None, None, None, "合格率", "≥", "95", "%"]),
            Row(["负责人：", "张三", "填报日期：", "20240105"])]
    forms, warnings = find_forms(rows)
    targets = [i["annual"]["target"] for i in forms[0]["indicators"]]
    assert [(t["raw"], t["kind"], t["op"], t["value"], t["unit"]) for t in targets] == [
        ("3批", "qualitative", None, None, None),
        ("=优良", "qualitative", None, None, None),
        ("≥95%", "quantitative", ">=", 95, "%")]
    assert [i["annual"]["level2"] for i in forms[0]["indicators"]] == ["数量指标", "质量指标", "质量指标"]
    assert warnings == []


def test_forms_of_several_layouts_in_the_middle_of_a_full_document(tmp_path):
    from pdfgen import make_form, write_document

    forms = [annual_form(project_name="年度专项"), stacked_form(project_name="分块专项"), make_form(),
             shanghai_form(project_name="上海专项")]
    layouts = [{"form_style": "annual_only", "indicator_style": "split_value", "amount_unit": "万元"},
               {"indicator_style": "stacked", "merge_levels": False}, {},
               {"form_style": "shanghai", "amount_unit": "万元"}]
    result = parse_file(write_document(tmp_path / "预算公开.pdf", forms, pages_before=4, pages_after=2,
                                       form_layouts=layouts))
    assert public(result) == forms
    assert result.warnings == []
