"""The importers end to end: the reference fixtures, xlsx, and what each source shares."""
import json
from pathlib import Path

import pytest

from importers import UnreadableFile, parse_file
from xlsxgen import write_xlsx

FIXTURES = Path(__file__).parent / "fixtures"
EXPECTED_PDF = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))
EXPECTED_TEXT = json.loads((FIXTURES / "seed_text.expected.json").read_text(encoding="utf-8"))


def public(result):
    return [{k: v for k, v in f.items() if not k.startswith("_")} for f in result.forms]


def test_seed_text_parses_to_the_expected_forms():
    result = parse_file(FIXTURES / "seed_2023_shanxi_tzcjj.txt")
    assert public(result) == EXPECTED_TEXT["forms"]
    assert result.warnings == []


def test_seed_pdf_parses_to_the_expected_forms():
    result = parse_file(FIXTURES / "seed_forms.pdf")
    assert public(result) == EXPECTED_PDF["forms"]
    assert [f["_pages"] for f in result.forms] == [[1], [2], [3]]


@pytest.mark.parametrize("options", [{}, {"merge_levels": False}, {"one_sheet": True}],
                         ids=["merged", "blank-same-as-above", "one-sheet"])
def test_the_same_forms_from_xlsx(tmp_path, options):
    path = write_xlsx(tmp_path / "forms.xlsx", EXPECTED_PDF["forms"], **options)
    assert public(parse_file(path)) == EXPECTED_PDF["forms"]


def test_text_in_gb18030_is_read(tmp_path):
    path = tmp_path / "gbk.txt"
    path.write_bytes((FIXTURES / "seed_2023_shanxi_tzcjj.txt").read_text(encoding="utf-8").encode("gb18030"))
    assert public(parse_file(path)) == EXPECTED_TEXT["forms"]


def test_a_text_file_without_forms_gives_a_warning_not_an_error(tmp_path):
    path = tmp_path / "other.txt"
    path.write_text("一、部门职责\n\t收入总表\t合计\n", encoding="utf-8")
    result = parse_file(path)
    assert result.forms == [] and result.warnings == ["未在文件中找到项目支出绩效目标申报表"]


@pytest.mark.parametrize("name,content,message", [
    ("empty.txt", b"", "文件为空"),
    ("fake.pdf", b"hello, not a pdf", "不是有效的 PDF"),
    ("fake.xlsx", b"PK\x03\x04broken zip", "Excel 文件已损坏"),
    ("binary.txt", b"\x00\x01\x02\x03" * 100, "不是文本文件"),
    ("table.docx", b"something", "不支持的文件类型"),
])
def test_unreadable_files_raise_a_clear_chinese_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        parse_file(path)
