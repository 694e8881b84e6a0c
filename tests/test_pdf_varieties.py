"""PDFs the tests make themselves, for each thing real files do (DOMAIN.md §1)."""
import pytest

from importers import parse_file
from pdfgen import indicator, make_form, random_form, write_document, write_pdf


def public(result):
    return [{k: v for k, v in f.items() if not k.startswith("_")} for f in result.forms]


def parsed(tmp_path, forms, **layout):
    info = {}
    result = parse_file(write_pdf(tmp_path / "forms.pdf", forms, info=info, **layout))
    return result, info


LAYOUTS = {
    "merged-level-cells": {"merge_levels": True},
    "blank-same-as-above": {"merge_levels": False},
    "wrapped-cells-narrow-columns": {"narrow_columns": True},
    "split-over-two-pages-with-header": {"split_after_rows": 6, "repeat_header": True},
    "split-over-two-pages-without-header": {"split_after_rows": 6, "repeat_header": False},
    "split-merged-text-centred": {"split_after_rows": 5, "split_merged_text": "center", "merge_levels": True},
    "placeholder-rows": {"placeholders": True},
    "missing-level1": {"missing_level1": True},
    "blank-annual-level2": {"blank_annual_level2": True},
    "other-province-short-title": {"province": "河北", "title_style": "short"},
    "other-province-full-title": {"province": "河南", "title_style": "full"},
    "declared-period-funds-label": {"period_funds_label": "申报期资金总额"},
    "amounts-with-spaces": {"amount_spaces": True},
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_each_variety_parses_to_the_form_it_was_drawn_from(tmp_path, layout):
    form = make_form()
    result, _ = parsed(tmp_path, [form], **layout)
    assert public(result) == [form]
    assert result.warnings == []


def test_decimals_in_amounts(tmp_path):
    form = make_form()
    form["funds"]["annual"]["total"] = 5256.96
    form["funds"]["annual"]["provincial"] = 5256.96
    result, _ = parsed(tmp_path, [form], amount_spaces=True)
    assert public(result)[0]["funds"]["annual"]["total"] == 5256.96


def test_different_wording_on_the_two_sides_stays_paired(tmp_path):
    form = make_form()
    form["indicators"][0] = indicator("产出指标", "数量指标", "官方网站更新消息数", "≥300条", "≥50条",
                                      annual_level3="官方网站更新消息数量")
    result, _ = parsed(tmp_path, [form])
    first = public(result)[0]["indicators"][0]
    assert (first["period"]["level3"], first["annual"]["level3"]) == ("官方网站更新消息数", "官方网站更新消息数量")


def test_several_forms_in_one_file_each_with_its_pages(tmp_path):
    forms = [random_form(seed=s) for s in range(3)]
    result, info = parsed(tmp_path, forms, form_layouts=[{}, {"split_after_rows": 4}, {}])
    assert public(result) == forms
    assert [f["_pages"] for f in result.forms] == info["form_pages"]
    assert len(info["form_pages"][1]) == 2


def test_forms_in_the_middle_of_a_full_document(tmp_path):
    forms = [random_form(seed=7), random_form(seed=8)]
    info = {}
    path = write_document(tmp_path / "预算公开.pdf", forms, pages_before=6, pages_after=3, info=info,
                          split_after_rows=5)
    result = parse_file(path)
    assert public(result) == forms
    assert info["page_count"] >= 12
    assert result.forms[0]["_pages"][0] == info["form_pages"][0][0] > 6


def test_a_full_document_without_forms_has_none(tmp_path):
    path = write_document(tmp_path / "no_forms.pdf", [], pages_before=4, pages_after=0)
    result = parse_file(path)
    assert result.forms == [] and result.warnings == ["未在文件中找到项目支出绩效目标申报表"]
