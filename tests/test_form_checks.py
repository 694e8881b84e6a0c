"""OCR rows: labels snapped, 指标值 and amounts repaired, names reconciled, amounts cross-checked,
and the form's `confidence` / `ocr` keys (importers/vocabulary.py, confidence.py, form_checks.py)."""
import json
from pathlib import Path

import pytest

import importers.pdf as pdf
from importers import form_checks, parse_file
from importers.confidence import CONFIDENCE_THRESHOLD
from importers.grid import Row, find_forms
from importers.grid import OCR_LABELS
from importers.vocabulary import edit_distance, snap, snap_cell
from pdfgen import write_pdf
from pdfgen_layouts import shanghai_form, stacked_form
from test_layouts import LAYOUTS
from xlsxgen import write_xlsx

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED_PDF = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))
EXPECTED_TEXT = json.loads((FIXTURES / "seed_text.expected.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the vocabulary


def test_edit_distance():
    assert edit_distance("主管部内及代码", "主管部门及代码") == 1
    assert edit_distance("数量指村", "数量指标") == 1
    assert edit_distance("官方网站更新消息数", "官方网站更新消息数量") == 1
    assert edit_distance("abc", "xyz", limit=1) == 2


@pytest.mark.parametrize("read, label", [
    ("主管部内及代码", "主管部门及代码"),
    ("数量指村", "数量指标"),
    ("年度资金总頟", "年度资金总额"),
    ("项目名杯", "项目名称"),
    ("三级指村", "三级指标"),
    ("服务对象满意度指杯", "服务对象满意度指标"),
    ("市县（区）财政资仝", "市县(区)财政资金"),
])
def test_a_misread_label_snaps_to_the_vocabulary(read, label):
    found = snap(read, OCR_LABELS.words)
    assert found is not None and found.label == label and not found.ambiguous


@pytest.mark.parametrize("text", [
    "主管部门及代码",          # a label already
    "经济收益指标",            # a non-standard 二级: kept as written
    "服务对象满意度",          # a 二级 the taxonomy knows (and a common 三级)
    "参展企业数量", "投资者满意度", "招商引资专项经费", "山西省投资促进局",   # values
    "≥95%", "0351-4189135", "项目", "",
])
def test_values_and_labels_are_left_alone(text):
    assert snap(text, OCR_LABELS.words) is None


def test_an_inline_label_is_snapped_and_its_value_kept():
    assert snap_cell("经办入：朱照亮", OCR_LABELS)[0] == "经办人：朱照亮"
    assert snap_cell("朱照亮", OCR_LABELS) is None


# ---------------------------------------------------------------- 指标值 and amounts


@pytest.mark.parametrize("read, other, fixed", [
    ("≥7O家", None, "≥70家"),          # O for 0 inside the number
    ("≥l00%", None, "≥100%"),          # l for 1
    ("＞=9O%", None, "≥90%"),
    ("》=95%", None, "≥95%"),          # ≥ misread
    ("295%", None, "≥95%"),            # a leading 2 for ≥: no percentage above 100
    ("2500平方米", "≥500平方米", "≥500平方米"),   # the other side reads ≥ and the same rest
    ("≥95,5%", None, "≥95.5%"),        # a comma that groups no thousands is a decimal point
])
def test_a_misread_target_is_repaired_by_the_grammar(read, other, fixed):
    assert form_checks.repair_target(read, other) == fixed


@pytest.mark.parametrize("raw", ["≥95%", "≥1，000万元", "2500平方米", "20家", "保障", "按时", "2024年8月底前",
                                 "≥5lux", "提高10%左右"])
def test_a_valid_target_is_not_touched(raw):
    assert form_checks.repair_target(raw) is None


@pytest.mark.parametrize("read, fixed", [("111,0O0,000", "111,000,000"), ("l2000", "12000"),
                                         ("5，256.96", None), ("37,000,000", None), ("杨晋权", None)])
def test_amounts_repaired(read, fixed):
    assert form_checks.repair_number(read) == fixed


# ---------------------------------------------------------------- whole forms from OCR rows


def pdf_rows(path):
    """A PDF's rows, as the text layer gives them to the grid reader."""
    captured = {}
    original = pdf.find_forms

    def grab(rows):
        captured["rows"] = rows
        return original(rows)
    pdf.find_forms = grab
    try:
        pdf.parse_pdf(path)
    finally:
        pdf.find_forms = original
    return captured["rows"]


@pytest.fixture(scope="module")
def seed_rows():
    return pdf_rows(FIXTURES / "seed_forms.pdf")


def ocr_rows(rows, conf=0.98, misreads=()):
    """The rows as OCR would give them: each cell with `conf`; `misreads`: (text as printed,
    as read, confidence, occurrence) — the occurrence-th cell holding that text (0: the first)."""
    out = [Row(list(r.cells), r.kind, r.page, [conf] * len(r.cells)) for r in rows]
    for printed, read, c, nth in misreads:
        hits = [(r, j) for r in out for j, cell in enumerate(r.cells) if cell == printed]
        r, j = hits[nth]
        r.cells[j], r.conf[j] = read, c
    return out


def public(forms):
    return [{k: v for k, v in f.items() if not k.startswith("_")} for f in forms]


def test_sure_ocr_rows_read_as_the_text_layer_with_the_ocr_key(seed_rows):
    forms, warnings = find_forms(ocr_rows(seed_rows))
    assert [f.pop("ocr") for f in forms] == [True, True, True]
    assert [f.pop("confidence") for f in forms] == [{}, {}, {}]
    assert public(forms) == EXPECTED_PDF["forms"]
    assert warnings == []


def test_misreads_are_corrected_and_the_doubtful_fields_listed(seed_rows):
    rows = ocr_rows(seed_rows, misreads=[
        ("主管部门及代码", "主管部内及代码", 0.7, 0),
        ("数量指标", "数量指村", 0.6, 0),
        ("≥70家", "≥7O家", 0.7, 0),
        ("111,000,000", "111,0O0,000", 0.8, 0),
        ("招商引资专项经费", "招商引资专项经费", 0.85, 0),
        ("≥95%", "≥95%", 0.72, 1),                   # 活动举办成功率, 年度
    ])
    forms, warnings = find_forms(rows)
    form = forms[0]
    expected = EXPECTED_PDF["forms"][0]
    assert form["department_name"] == "山西省商务厅" and form["department_code"] == "216"
    assert form["indicators"][0] == expected["indicators"][0]          # 数量指标 and ≥70家
    assert form["funds"] == expected["funds"]
    assert form["ocr"] is True
    assert form["confidence"] == {
        "project_name": 0.85,
        "funds.period.total": 0.6,                  # repaired: shown for checking
        "indicators[0].annual.target.raw": 0.6,
        "indicators[7].annual.target.raw": 0.72,    # read as written, but unsure
    }
    assert "招商引资专项经费：第1个指标（参展企业数量）的年度指标值识别为“≥7O家”，已按“≥70家”读取，请核对" in warnings
    assert all(v < CONFIDENCE_THRESHOLD for v in form["confidence"].values())


@pytest.mark.parametrize("read", ["≥5?条", "≥5O.0.3条"])
def test_a_target_that_still_does_not_parse_is_marked(seed_rows, read):
    forms, warnings = find_forms(ocr_rows(seed_rows, misreads=[("≥50条", read, 0.93, 0)]))
    form = forms[0]
    assert form["indicators"][4]["annual"]["target"]["raw"] == read
    assert form["confidence"] == {"indicators[4].annual.target.raw": 0.5}
    assert f"招商引资专项经费：第5个指标（公众号发布消息数量）的年度指标值“{read}”无法识别为数值，请核对" in warnings


def test_amounts_that_do_not_add_up_are_marked_with_a_warning(seed_rows):
    forms, warnings = find_forms(ocr_rows(seed_rows, misreads=[("37,000,000", "38,000,000", 0.95, 0)]))
    form = forms[0]
    assert form["funds"]["annual"]["total"] == 38000000
    assert form["confidence"] == {f"funds.annual.{k}": 0.5 for k in
                                  ("total", "central", "provincial", "local", "self_raised")}
    assert ("招商引资专项经费：年度资金总额38,000,000元与中央财政资金、省级财政资金、市县（区）财政资金、单位自筹之和"
            "37,000,000元不一致，请核对") in warnings


def test_a_period_total_below_the_annual_one_is_marked(seed_rows):
    forms, warnings = find_forms(ocr_rows(seed_rows, misreads=[
        ("111,000,000", "11,000,000", 0.97, 0), ("111,000,000", "11,000,000", 0.97, 0)]))
    assert forms[0]["confidence"]["funds.period.total"] == 0.5
    assert forms[0]["confidence"]["funds.annual.total"] == 0.5
    assert "招商引资专项经费：实施期资金总额11,000,000元小于年度资金总额37,000,000元，请核对" in warnings


def test_names_read_twice_are_reconciled_by_confidence(seed_rows):
    forms, warnings = find_forms(ocr_rows(seed_rows, misreads=[("发布宣传稿件数量", "发布宜传稿件数量", 0.55, 1)]))
    item = forms[0]["indicators"][6]
    assert item["period"]["level3"] == item["annual"]["level3"] == "发布宣传稿件数量"
    assert "indicators[6].annual.level3" not in forms[0]["confidence"]
    assert ("招商引资专项经费：第7个指标的年度三级指标识别为“发布宜传稿件数量”，与实施期“发布宣传稿件数量”仅差1字，"
            "已统一为“发布宣传稿件数量”") in warnings


def test_genuinely_different_names_are_kept(seed_rows):
    # 官方网站更新消息数 / 官方网站更新消息数量 differ in length: the author's wording
    forms, _ = find_forms(ocr_rows(seed_rows, misreads=[("官方网站更新消息数量", "官方网站更新消息数量", 0.6, 0)]))
    item = forms[0]["indicators"][5]
    assert (item["period"]["level3"], item["annual"]["level3"]) == ("官方网站更新消息数", "官方网站更新消息数量")
    assert forms[0]["confidence"] == {"indicators[5].annual.level3": 0.6}
    # both read surely: two wordings, whatever OCR would say
    forms, _ = find_forms(ocr_rows(seed_rows, misreads=[("参展面积", "参会面积", 0.95, 1)]))
    item = forms[0]["indicators"][1]
    assert (item["period"]["level3"], item["annual"]["level3"]) == ("参展面积", "参会面积")


# ---------------------------------------------------------------- other sources untouched


def test_text_layer_and_xlsx_parses_carry_no_ocr_keys(tmp_path):
    for result, expected in ((parse_file(FIXTURES / "seed_forms.pdf"), EXPECTED_PDF),
                             (parse_file(FIXTURES / "seed_2023_shanxi_tzcjj.txt"), EXPECTED_TEXT),
                             (parse_file(write_xlsx(tmp_path / "f.xlsx", EXPECTED_PDF["forms"])), EXPECTED_PDF)):
        assert all("ocr" not in f and "confidence" not in f for f in result.forms)
        assert public(result.forms) == expected["forms"]


def test_a_misread_label_in_a_text_layer_is_not_snapped():
    rows = [Row(["（2023年度）"], "line"), Row(["项目名称", "甲项目"]), Row(["主管部内及代码", "216-山西省商务厅"]),
            Row(["实施单位", "某单位"])]
    forms, _ = find_forms(rows)
    assert forms[0]["department_name"] == "" and "ocr" not in forms[0]
    ocr = [Row(r.cells, r.kind, r.page, [0.9] * len(r.cells)) for r in rows]
    forms, _ = find_forms(ocr)
    assert forms[0]["department_name"] == "山西省商务厅" and forms[0]["ocr"] is True


def test_a_short_word_read_surely_is_kept():
    """质量指数 may be a real 三级 and 经小人 a name: only an unsure reading is snapped to a short label."""
    rows = [Row(["负责入", "杨晋权"], conf=[0.99, 0.99]), Row(["负责入", "杨晋权"], conf=[0.7, 0.99])]
    assert form_checks.correct_rows(rows, OCR_LABELS)[0].cells[0] == "负责入"
    assert form_checks.correct_rows(rows, OCR_LABELS)[1].cells[0] == "负责人"
    rows = [Row(["质量指数"], conf=[0.97]), Row(["数量指村"], conf=[0.6]), Row(["主管部内及代码"], conf=[0.97])]
    assert [r.cells[0] for r in form_checks.correct_rows(rows, OCR_LABELS)] == ["质量指数", "数量指标", "主管部门及代码"]


def test_an_ambiguous_label_is_snapped_and_its_amount_marked(seed_rows):
    # 中级财政资金 is one character from both 中央财政资金 and 省级财政资金
    assert snap("中级财政资金", OCR_LABELS.words).ambiguous
    forms, _ = find_forms(ocr_rows(seed_rows, misreads=[("其中：中央财政资金", "其中：中级财政资金", 0.8, 1)]))
    form = forms[0]
    assert form["funds"] == EXPECTED_PDF["forms"][0]["funds"]
    # both sides of that row read 0: an amount is traced to every cell it could come from
    assert form["confidence"] == {"funds.annual.central": 0.5, "funds.period.central": 0.5}


def test_the_year_under_the_title_carries_its_confidence(seed_rows):
    forms, _ = find_forms(ocr_rows(seed_rows, misreads=[("（2023年度）", "（2023年度）", 0.64, 0)]))
    assert forms[0]["confidence"] == {"year": 0.64}
    assert "year" not in forms[1]["confidence"]


def test_amounts_of_a_form_with_fiscal_funds_may_leave_part_of_the_total_unnamed():
    """年度-only and 上海 forms: 其中：财政拨款 (and 其他资金) are of the total, which may also hold
    上年结转资金; they may only not exceed it."""
    def checked(fiscal, other, total):
        empty = dict.fromkeys(("total", "central", "provincial", "local", "self_raised", "other", "fiscal"))
        form = {"funds": {"period": dict(empty), "annual": {**empty, "total": total, "fiscal": fiscal, "other": other}}}
        conf, warnings = {}, []
        form_checks.check_amounts(form, conf, warnings)
        return conf, warnings
    assert checked(300000, 100000, 500000) == ({}, [])            # 100000 of 上年结转
    conf, warnings = checked(600000, None, 500000)
    assert conf == {"funds.annual.total": 0.5, "funds.annual.fiscal": 0.5}
    assert warnings == ["年度资金总额500,000元小于财政拨款600,000元，请核对"]


@pytest.mark.parametrize("make,layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_the_other_layouts_read_by_sure_ocr_are_read_alike(tmp_path, make, layout):
    form = make()
    forms, warnings = find_forms(ocr_rows(pdf_rows(write_pdf(tmp_path / "f.pdf", [form], **layout))))
    assert forms[0].pop("ocr") is True and forms[0].pop("confidence") == {}
    assert public(forms) == [form] and warnings == []


def test_each_side_of_stacked_blocks_is_traced_to_its_own_row(tmp_path):
    form = stacked_form()
    rows = pdf_rows(write_pdf(tmp_path / "f.pdf", [form], indicator_style="stacked"))
    first = form["indicators"][0]
    assert first["period"]["target"]["raw"] == "≥100家" and first["annual"]["target"]["raw"] == "≥70家"
    last = form["indicators"][-1]                      # an unpaired 长期 row, listed last
    read = ocr_rows(rows, misreads=[("≥70家", "≥70家", 0.61, 0), (last["period"]["level3"], last["period"]["level3"], 0.7, 0)])
    forms, _ = find_forms(read)
    n = len(form["indicators"]) - 1
    assert forms[0]["confidence"] == {"indicators[0].annual.target.raw": 0.61, f"indicators[{n}].period.level3": 0.7}


def test_the_shanghai_plan_dates_carry_their_confidence(tmp_path):
    form = shanghai_form()
    rows = pdf_rows(write_pdf(tmp_path / "f.pdf", [form], form_style="shanghai"))
    start = form["project_term"].split("至")[0]
    forms, _ = find_forms(ocr_rows(rows, misreads=[(start, start, 0.66, 0)]))
    assert forms[0]["confidence"] == {"project_term": 0.66}
