"""The generated PDFs are what they claim to be, as pdfplumber (the importer's reader) sees them."""

import json
import re
from pathlib import Path

import pdfplumber
import pytest

try:
    from tests import pdfgen
except ImportError:  # run from inside tests/ with plain `pytest`
    import pdfgen

TITLE = "山西省级预算部门（单位）项目支出绩效目标申报表"
FIXTURES = Path(__file__).parent / "fixtures"


def tables(path):
    with pdfplumber.open(path) as pdf:
        return [page.extract_tables() for page in pdf.pages]


def texts(path):
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() for page in pdf.pages]


def flat(cell):
    return None if cell is None else cell.replace("\n", "")


def indicator_rows(table):
    """Rows after the 一级指标 header and before the footer, cells with wraps removed."""
    start = next(i for i, row in enumerate(table) if row[1] == "一级指标") + 1
    rows = [[flat(c) for c in row] for row in table[start:]]
    return [row for row in rows if row[0] != "负责人："]


def test_form_page_is_one_ruled_table_of_eight_columns(tmp_path):
    form = pdfgen.make_form()
    path = pdfgen.write_pdf(tmp_path / "form.pdf", [form])

    [[table]] = tables(path)

    assert all(len(row) == 8 for row in table)
    assert table[0][:3] == ["项目名称", None, "招商引资专项经费"]
    assert table[1] == ["主管部门及代码", None, "216-山西省商务厅", None, "实施单位", "山西省投资促进局", None, None]
    assert table[3][2:7] == ["实施期资金总额：", "111,000,000", "年度资金总额：", None, "37,000,000"]
    assert table[8][2:7] == ["其他资金", "", "其他资金", None, ""]
    header = next(row for row in table if row[0] == "绩效指标")
    assert header[1:] == ["一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"]
    assert table[-1] == ["负责人：", None, "杨晋权", "经办人：朱照亮", "联系电话：", "0351-4189135",
                         "填报日期：", table[-1][7]]
    assert re.fullmatch(r"20210730\d{6}", table[-1][7])


def test_every_indicator_cell_extracts_as_the_form_says(tmp_path):
    form = pdfgen.make_form()
    path = pdfgen.write_pdf(tmp_path / "form.pdf", [form])

    [[table]] = tables(path)
    rows = indicator_rows(table)

    assert len(rows) == len(form["indicators"])
    for row, ind in zip(rows, form["indicators"]):
        period, annual = ind["period"], ind["annual"]
        assert row[3:5] == [period["level3"], period["target"]["raw"]]
        assert row[6:8] == [annual["level3"], annual["target"]["raw"]]
    # merged cells: the 一级/二级 names once, None below
    assert [row[1] for row in rows[:3]] == ["产出指标", None, None]
    assert [row[2] for row in rows[:3]] == ["数量指标", None, None]
    assert rows[1][6] == "官方网站更新消息数量" and rows[1][3] == "官方网站更新消息数"


def test_chinese_text_and_wrapped_cells_extract_correctly(tmp_path):
    form = pdfgen.make_form()
    path = pdfgen.write_pdf(tmp_path / "form.pdf", [form])

    [text] = texts(path)
    [[table]] = tables(path)
    cells = {flat(c) for row in table for c in row if c}

    assert text.splitlines()[:2] == [TITLE, "（2023年度）"]
    for key in ("project_name", "implementing_unit", "overview", "basis", "necessity", "measures",
                "plan", "goal_period", "goal_annual"):
        assert form[key] in cells, key
    long_name = "宣传山西营商环境建设,提升招商引资形象和对外开放水平"
    assert any(c and "\n" in c and flat(c) == long_name for row in table for c in row)
    assert "≤3700万元" in cells and "≥10万人次" in cells and "2023年12月底前" in cells


def test_split_puts_indicator_rows_on_two_pages_with_the_footer_on_the_second(tmp_path):
    info = {}
    path = pdfgen.write_pdf(tmp_path / "split.pdf", [pdfgen.make_form()], info=info,
                            split_after_rows=5, repeat_header=False)

    first, second = tables(path)

    assert info["form_pages"] == [[1, 2]]
    assert len(indicator_rows(first[0])) == 5
    assert not any(row[0] == "负责人：" for row in first[0])
    # no header row; the 产出指标 cell goes on as an empty spanning cell
    assert second[0][0][1:5] == ["", "时效指标", "项目按时完成", "按时"]
    assert [row[1] for row in second[0][:4]] == ["", None, None, "效益指标"]
    assert second[0][-1][0] == "负责人："
    assert TITLE not in texts(path)[1]


def test_split_with_repeated_header(tmp_path):
    path = pdfgen.write_pdf(tmp_path / "split.pdf", [pdfgen.make_form()], split_after_rows=5,
                            repeat_header=True)

    _, second = tables(path)

    assert second[0][0][1:] == ["一级指标", "二级指标", "三级指标", "指标值", "二级指标", "三级指标", "指标值"]
    assert len(indicator_rows(second[0])) == len(pdfgen.make_form()["indicators"]) - 5


def test_unmerged_levels_are_blank_cells_below_the_first_row(tmp_path):
    path = pdfgen.write_pdf(tmp_path / "flat.pdf", [pdfgen.make_form()], merge_levels=False)

    [[table]] = tables(path)
    rows = indicator_rows(table)

    assert [row[1] for row in rows[:3]] == ["产出指标", "", ""]
    assert [row[2] for row in rows[:3]] == ["数量指标", "", ""]
    assert [row[5] for row in rows[:3]] == ["数量指标", "", ""]


def test_placeholders_missing_level1_narrow_columns_and_spaced_amounts(tmp_path):
    satisfaction = pdfgen.indicator("满意度指标", "服务对象满意度", "投资者满意度", "≥95%")
    form = pdfgen.make_form(funds={"period": pdfgen.funds(15770.88), "annual": pdfgen.funds(5256.96)},
                            indicators=pdfgen.default_indicators()[:-2] + [satisfaction])
    path = pdfgen.write_pdf(tmp_path / "odd.pdf", [form], placeholders=True, missing_level1=True,
                            narrow_columns=True, amount_spaces=True, merge_levels=False)

    [[table]] = tables(path)
    raw_cells = {c for row in table for c in row if c}
    rows = indicator_rows(table)
    benefit = [row for row in rows if row[2] in ("经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标")]

    assert "5, 256. 96" in raw_cells and "15, 770. 88" in raw_cells
    assert "服务对象满意\n度" in raw_cells
    assert [row[1:] for row in rows if row[2] == "生态效益指标"] == [
        ["", "生态效益指标", "", "", "生态效益指标", "", ""]]
    assert rows[-2][2] == "可持续影响指标"
    assert all(row[1] == "" for row in benefit)  # the 效益指标 group has no 一级 name
    assert rows[0][1] == "产出指标"


def test_several_forms_each_start_a_page(tmp_path):
    forms = [pdfgen.make_form(), pdfgen.random_form(1), pdfgen.random_form(2)]
    info = {}
    path = pdfgen.write_pdf(tmp_path / "three.pdf", forms, info=info, title_style="full",
                            period_funds_label="申报期资金总额")

    page_texts = texts(path)

    assert info["form_pages"] == [[1], [2], [3]]
    for text, form in zip(page_texts, forms):
        assert text.startswith("山西省省级预算部门（单位）项目支出绩效目标申报表")
        assert form["project_name"] in text and "申报期资金总额：" in text


def test_full_document_has_other_tables_before_and_after_and_page_numbers(tmp_path):
    forms = [pdfgen.make_form(), pdfgen.random_form(3)]
    info = {}
    path = pdfgen.write_document(tmp_path / "doc.pdf", forms, pages_before=8, pages_after=5, info=info,
                                 form_layouts=[{"split_after_rows": 4}, {}])

    page_texts, page_tables = texts(path), tables(path)
    form_pages = [n for pages in info["form_pages"] for n in pages]

    assert len(page_texts) == 8 + 3 + 5 == info["page_count"]
    assert form_pages == [9, 10, 11]
    for number, text in enumerate(page_texts, 1):
        assert (TITLE in text) == (number in (9, 11))
        if number > 1:
            assert text.splitlines()[-1] == f"- {number} -"
    before = [n for n in range(1, 9) if page_tables[n - 1]]
    after = [n for n in range(12, 17) if page_tables[n - 1]]
    assert before and after
    assert "2023年预算收支总表" in page_texts[before[0] - 1]
    other_cells = {c for n in before + after for table in page_tables[n - 1] for row in table for c in row}
    assert "绩效指标" not in other_cells and "合计" in other_cells


@pytest.mark.parametrize("before", [0, 1, 5, 20])
def test_requested_page_count_holds(tmp_path, before):
    info = {}
    path = pdfgen.write_document(tmp_path / "ten.pdf", [pdfgen.make_form()], pages_before=before,
                                 pages_after=None, total_pages=before + 4, info=info)

    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) == before + 4
    assert info["form_pages"] == [[before + 1]] and info["pages_after"] == 3


def test_make_form_has_indicators_of_every_kind():
    targets = [ind["annual"]["target"] for ind in pdfgen.make_form()["indicators"]]
    units = {t["unit"] for t in targets}

    assert {"家", "%", "万元", "亿元", "万人次", "条", "场"} <= units
    assert {t["op"] for t in targets} >= {">=", "<="}
    assert {t["raw"] for t in targets if t["kind"] == "qualitative"} >= {"保障", "按时", "积极", "2023年12月底前"}


@pytest.mark.parametrize("raw, expected", [
    ("≥70家", ("quantitative", ">=", 70, "家")),
    ("≤231.33万元", ("quantitative", "<=", 231.33, "万元")),
    ("不低于1, 500平方米", ("quantitative", ">=", 1500, "平方米")),
    ("９０%以上", ("quantitative", ">=", 90, "%")),
    ("3个工作日以内", ("quantitative", "<=", 3, "个工作日")),
    ("100", ("quantitative", "=", 100, None)),
    ("2024年8月底前", ("qualitative", None, None, None)),
    ("12月31日前完成", ("qualitative", None, None, None)),
    ("明显提升", ("qualitative", None, None, None)),
])
def test_target_follows_the_grammar(raw, expected):
    t = pdfgen.target(raw)

    assert t["raw"] == raw
    assert (t["kind"], t["op"], t["value"], t["unit"]) == expected


def test_the_seed_forms_come_out_cell_for_cell_like_the_real_sample(tmp_path):
    expected = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))
    real = [page[0] for page in tables(FIXTURES / "seed_forms.pdf")]
    layouts = [{"filled_on_text": table[-1][7], "period_funds_label": table[3][2].rstrip("：")}
               for table in real]

    path = pdfgen.write_pdf(tmp_path / "seed.pdf", expected["forms"], form_layouts=layouts)

    assert [page[0] for page in tables(path)] == real


def test_target_agrees_with_the_seed_parse():
    expected = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))
    targets = [ind[side]["target"] for form in expected["forms"] for ind in form["indicators"]
               for side in ("period", "annual")]

    assert [pdfgen.target(t["raw"]) for t in targets] == targets
