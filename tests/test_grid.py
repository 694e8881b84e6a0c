"""The table handling shared by every source: rows of cells → forms."""
from importers.grid import Row, _align, _header_positions, _parse_date, _parse_department, find_forms

HEADER = ["绩效指标", "一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"]


def form_rows(indicator_rows, *, title="山西省省级预算部门（单位）项目支出绩效目标申报表", year="（2024年度）",
              funds_label="项目资金（元）", header=True, footer=None):
    rows = [Row([title], "line"), Row([year], "line"),
            Row(["项目名称", None, "测试项目"]),
            Row(["主管部门及代码", None, "301-河北省教育厅", None, "实施单位", "河北省某中学"]),
            Row(["项目属性", None, "一次性项目", None, "项目期", "1年"]),
            Row([funds_label, None, "实施期资金总额：", "5, 256. 96", "年度资金总额：", None, "1,000.5"]),
            Row([None, None, "其中：中央财政资金", "0", "其中：中央财政资金", None, ""]),
            Row([None, None, "其他资金", "", "其他资金", None, ""])]
    if header:
        rows.append(Row(HEADER))
    rows += [Row(r) for r in indicator_rows]
    rows.append(Row(footer or ["负责人：", None, "张三", "经办人：李四", "联系电话：", "0311-1234567", "填报日期：",
                               "20230105093000"]))
    return rows


def only_form(rows):
    forms, warnings = find_forms(rows)
    assert len(forms) == 1, warnings
    return forms[0], warnings


def names(form):
    return [(i["level1"], (i["period"] or {}).get("level2"), (i["annual"] or {}).get("level2"),
             (i["annual"] or i["period"])["level3"]) for i in form["indicators"]]


def test_header_fields_funds_and_footer():
    form, warnings = only_form(form_rows([[None, "产出指标", "数量指标", "学生人数", "≥100人", "数量指标", "学生人数", "≥100人"]]))
    assert form["year"] == 2024
    assert (form["department_code"], form["department_name"]) == ("301", "河北省教育厅")
    assert form["implementing_unit"] == "河北省某中学"
    assert form["funds"]["period"]["total"] == 5256.96     # spaces inside the number
    assert form["funds"]["annual"]["total"] == 1000.5
    assert form["funds"]["period"]["central"] == 0
    assert form["funds"]["annual"]["central"] is None      # an empty cell is unknown, not 0
    assert form["funds"]["period"]["other"] is None
    assert (form["owner"], form["clerk"], form["phone"]) == ("张三", "李四", "0311-1234567")
    assert form["filled_on"] == "2023-01-05"
    assert warnings == []


def test_funds_in_wan_yuan_are_converted_to_yuan():
    form, _ = only_form(form_rows([[None, "产出指标", "数量指标", "人数", "≥1人", "数量指标", "人数", "≥1人"]],
                                  funds_label="项目资金（万元）"))
    assert form["funds"]["annual"]["total"] == 10005000


def test_blank_cells_mean_same_as_above_only_within_one_level1_group():
    form, _ = only_form(form_rows([
        [None, "产出指标", "数量指标", "甲", "≥1个", "数量指标", "甲", "≥1个"],
        [None, None, None, "乙", "≥2个", None, "乙", "≥2个"],
        [None, "效益指标", "社会效益指标", "丙", "积极", "社会效益指标", "丙", "积极"],
        [None, None, None, "丁", "≥90%", None, "丁", "≥90%"],
    ]))
    assert names(form) == [("产出指标", "数量指标", "数量指标", "甲"), ("产出指标", "数量指标", "数量指标", "乙"),
                           ("效益指标", "社会效益指标", "社会效益指标", "丙"), ("效益指标", "社会效益指标", "社会效益指标", "丁")]


def test_blank_annual_level2_at_start_of_group_takes_the_period_level2():
    form, _ = only_form(form_rows([
        [None, "产出指标", "数量指标", "甲", "≥1个", None, "甲", "≥1个"],
        [None, None, "质量指标", "乙", "≥95%", None, "乙", "≥95%"],
    ]))
    assert [(i["annual"]["level2"]) for i in form["indicators"]] == ["数量指标", "质量指标"]


def test_missing_level1_is_inferred_from_level2_and_nonstandard_level2_kept_as_written():
    form, _ = only_form(form_rows([
        [None, None, "数量指标", "甲", "≥1个", "数量指标", "甲", "≥1个"],
        [None, None, "经济收益指标", "乙", "≥10万元", "经济收益指标", "乙", "≥10万元"],
        [None, None, "服务对象满意度", "丙", "≥90%", "服务对象满意度", "丙", "≥90%"],
    ]))
    assert names(form) == [("产出指标", "数量指标", "数量指标", "甲"), ("效益指标", "经济收益指标", "经济收益指标", "乙"),
                           ("满意度指标", "服务对象满意度", "服务对象满意度", "丙")]


def test_placeholder_rows_are_not_indicators():
    form, _ = only_form(form_rows([
        [None, "效益指标", "社会效益指标", "甲", "积极", "社会效益指标", "甲", "积极"],
        [None, None, "生态效益指标", None, None, "生态效益指标", None, None],
        [None, None, "可持续影响指标", "", "", "可持续影响指标", "", ""],
    ]))
    assert names(form) == [("效益指标", "社会效益指标", "社会效益指标", "甲")]


def test_rows_shifted_left_or_right_are_aligned_by_content():
    # as the seed's text export has them: the 一级 column missing, or the label column missing
    form, _ = only_form(form_rows([
        [None, "产出指标", "数量指标", "甲", "≥1个", "数量指标", "甲", "≥1个"],
        [None, "社会效益指标", "对我省招商引资的作用", "积极", None, "对我省招商引资的作用", "积极"],
        ["满意度指标", "服务对象满意度指标", "服务对象满意度", "≥90%", "服务对象满意度指标", "服务对象满意度", "≥90%"],
    ]))
    assert names(form) == [("产出指标", "数量指标", "数量指标", "甲"),
                           ("效益指标", "社会效益指标", "社会效益指标", "对我省招商引资的作用"),
                           ("满意度指标", "服务对象满意度指标", "服务对象满意度指标", "服务对象满意度")]
    assert form["indicators"][1]["annual"]["target"]["raw"] == "积极"


def test_a_level3_named_like_a_level2_stays_in_its_column():
    slots = _align(["", "", "成本指标", "成本指标", "≤231.33万元", "成本指标", "成本指标", "≤77.11万元"],
                   _header_positions(Row(HEADER)))
    assert (slots["P2"], slots["P3"], slots["PV"], slots["AV"]) == ("成本指标", "成本指标", "≤231.33万元", "≤77.11万元")


def test_table_running_on_to_next_page_with_repeated_header_and_page_number_between():
    rows = form_rows([
        [None, "产出指标", "数量指标", "甲", "≥1个", "数量指标", "甲", "≥1个"],
    ])
    footer = rows.pop()
    rows += [Row(["- 12 -"], "line"), Row(HEADER),
             Row([None, None, None, "乙", "≥2个", None, "乙", "≥2个"]),
             Row([None, None, None, "服务对象满意", "≥90%", None, "服务对象满意", "≥90%"]),
             Row([None, None, None, "度", None, None, "度", None]),  # the rest of a row cut by the page break
             footer]
    form, _ = only_form(rows)
    assert [i["annual"]["level3"] for i in form["indicators"]] == ["甲", "乙", "服务对象满意度"]


def test_no_target_rows_are_kept_with_a_warning():
    form, warnings = only_form(form_rows([[None, "产出指标", "数量指标", "甲", "/", "数量指标", "甲", "*"]]))
    assert form["indicators"][0]["annual"]["target"]["kind"] == "qualitative"
    assert form["indicators"][0]["annual"]["target"]["raw"] == "*"
    assert any("无目标" in w for w in warnings)


def test_other_tables_with_a_project_name_column_are_not_forms():
    rows = [Row(["项目名称", "合计", "2023年财政拨款", "财政专户管理资金"]),
            Row(["招商引资专项经费", "3700", "3700", ""])]
    forms, warnings = find_forms(rows)
    assert forms == [] and warnings == ["未在文件中找到项目支出绩效目标申报表"]


def test_several_forms_each_get_their_own_year_and_rows():
    rows = form_rows([[None, "产出指标", "数量指标", "甲", "≥1个", "数量指标", "甲", "≥1个"]])
    rows += form_rows([[None, "产出指标", "数量指标", "乙", "≥2个", "数量指标", "乙", "≥2个"]], year="(2025年度)")
    forms, _ = find_forms(rows)
    assert [(f["year"], f["indicators"][0]["annual"]["level3"]) for f in forms] == [(2024, "甲"), (2025, "乙")]


def test_department_and_date_spellings():
    assert _parse_department("216-山西省商务厅") == ("216", "山西省商务厅")
    assert _parse_department("[216]山西省商务厅") == ("216", "山西省商务厅")
    assert _parse_department("山西省商务厅（216）") == ("216", "山西省商务厅")
    assert _parse_department("山西省商务厅") == (None, "山西省商务厅")
    assert _parse_date("20210730170012") == "2021-07-30"
    assert _parse_date("2021年7月5日") == "2021-07-05"
    assert _parse_date("2021-07-05 11:34:42") == "2021-07-05"
    assert _parse_date("不详") is None
