"""The scanned renders are what they claim to be: image-only pages at the declared dpi, turned a
little, with a red seal where it was put; and the field-by-field yardstick counts right."""
import copy
import json
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from importers import parse_file
from scan_accuracy import compare
from scangen import declared_dpi, page_text, write_not_a_form, write_scan

FIXTURES = Path(__file__).parent / "fixtures"
SEED_PDF = FIXTURES / "seed_forms.pdf"


def page_image(path, index=0, dpi=200):
    pdf = pdfium.PdfDocument(str(path))
    try:
        return np.asarray(pdf[index].render(scale=dpi / 72).to_pil().convert("RGB")).astype(int)
    finally:
        pdf.close()


def test_a_scan_has_no_text_layer_and_declares_its_dpi(tmp_path):
    info = write_scan(SEED_PDF, tmp_path / "scan.pdf", dpi=200, seed=3)
    assert page_text(info.path) == ["", "", ""]
    assert [round(declared_dpi(info.path, i), 1) for i in range(3)] == [200.0] * 3
    pdf = pdfium.PdfDocument(str(info.path))
    assert [tuple(round(x) for x in page.get_size()) for page in pdf] == [(792, 612)] * 3   # the source's size
    pdf.close()
    assert all(abs(a) <= 1.0 for a in info.angles) and any(abs(a) > 0.05 for a in info.angles)


def test_the_low_dpi_option_declares_100_dpi(tmp_path):
    info = write_scan(SEED_PDF, tmp_path / "low.pdf", dpi=100, pages=[0])
    assert round(declared_dpi(info.path), 1) == 100.0
    assert info.page_px == [(1100, 850)]


def test_the_seal_is_red_where_it_was_put_and_only_on_the_first_page(tmp_path):
    info = write_scan(SEED_PDF, tmp_path / "scan.pdf", dpi=200, seed=5, pages=[0, 1])
    left, top, right, bottom = info.seal_box
    page = page_image(info.path)
    r, g, b = page[..., 0], page[..., 1], page[..., 2]
    red = (r > 150) & (r - g > 70) & (r - b > 70)
    inside = red[top:bottom, left:right]
    assert inside.mean() > 0.08                      # ring, star and text are red ink
    outside = red.copy()
    outside[top:bottom, left:right] = False
    assert outside.sum() < 50                        # nothing red anywhere else
    # over part of the header: the seal reaches into the title / first rows of the form
    assert top < page.shape[0] * 0.2 < bottom
    second = page_image(info.path, 1)
    assert ((second[..., 0] - second[..., 1] > 70) & (second[..., 0] > 150)).sum() < 50


def test_the_paper_is_grey_and_noisy_not_white(tmp_path):
    info = write_scan(SEED_PDF, tmp_path / "scan.pdf", pages=[0], seal=False)
    corner = page_image(info.path)[20:220, 20:220]   # empty margin
    assert 200 < corner.mean() < 245
    assert corner.std() > 2


def test_a_turned_scan_lies_on_its_side(tmp_path):
    info = write_scan(SEED_PDF, tmp_path / "turned.pdf", turn=90, pages=[0])
    pdf = pdfium.PdfDocument(str(info.path))
    assert tuple(round(x) for x in pdf[0].get_size()) == (612, 792)     # portrait now
    pdf.close()
    assert round(declared_dpi(info.path), 1) == 200.0


def test_a_long_scan_repeats_pages_without_growing_with_them(tmp_path):
    info = write_scan(SEED_PDF, tmp_path / "long.pdf", dpi=100, page_count=12, pages=[0, 1])
    pdf = pdfium.PdfDocument(str(info.path))
    assert len(pdf) == 12
    pdf.close()
    assert page_text(info.path) == [""] * 12
    assert round(declared_dpi(info.path, 11), 1) == 100.0
    assert (page_image(info.path, 0, 100) == page_image(info.path, 2, 100)).all()   # page 1 again
    two = write_scan(SEED_PDF, tmp_path / "two.pdf", dpi=100, page_count=2, pages=[0, 1])
    assert info.path.stat().st_size < two.path.stat().st_size * 1.1


@pytest.mark.parametrize("kind", ["prose", "table"])
def test_not_a_form_pages_have_no_form_in_their_text(tmp_path, kind):
    path = write_not_a_form(tmp_path / f"{kind}.pdf", kind)
    [text] = page_text(path)
    assert "绩效目标申报表" not in text and "三级指标" not in text
    assert ("项目名称" in text) == (kind == "table")
    assert parse_file(path).as_dict() == {"forms": [], "warnings": ["未在文件中找到项目支出绩效目标申报表"]}


def test_the_yardstick_counts_every_leaf_and_each_error():
    expected = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))["forms"]
    assert compare(expected, copy.deepcopy(expected)).share == 1.0
    total = compare(expected, expected).total
    got = copy.deepcopy(expected)
    got[0]["project_name"] = "招商引资专项经"
    got[0]["funds"]["annual"]["total"] = 37000000.0           # the same number
    got[2]["indicators"][1]["annual"]["target"]["value"] = 9
    got[1]["indicators"].append(copy.deepcopy(got[1]["indicators"][0]))     # a row read twice
    got[2]["ocr"] = True
    got[2]["confidence"] = {"project_name": 0.5}
    score = compare(expected, got)
    extra = 1 + 2 * (2 + 5)               # level1; on each side level2, level3 and the 5 keys of target
    assert score.total == total + extra
    assert score.right == total - 2
    assert [m.path for m in score.wrong[:2]] == ["forms[0].project_name", "forms[1].indicators[7].level1"]
    assert score.wrong[-1].path == "forms[2].indicators[1].annual.target.value"
    missing = compare(expected, expected[:2])
    third = compare(expected[2:], expected[2:]).total
    commas = copy.deepcopy(expected)
    commas[2]["basis"] = commas[2]["basis"].replace(",", "，")      # the seed writes an ASCII comma
    assert commas[2]["basis"] != expected[2]["basis"]
    assert [m.path for m in compare(expected, commas).wrong] == ["forms[2].basis"]
    assert compare(expected, commas, fold_width=True).wrong == []
    assert (missing.total, missing.right) == (total, total - third)     # a form not found: all of it wrong
