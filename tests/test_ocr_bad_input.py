"""Scans that are not what the OCR hopes for (issue #15, bad input), as a user meets them: through
the sandbox with the app's own limits, and through `flask forms parse`. Each ends in forms, or
in forms: [] with a Chinese warning, or in one clear Chinese line — never a traceback, never a
killed parser child that explains nothing.

The scans are made here (tests/scangen.py). Runs only where the OCR engine is (importers/ocr*.py);
without it every scan is refused as having no text layer, which tests/test_scangen.py covers.
"""
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importers import ParseResult, UnreadableFile
from importers.limits import limits_from_config
from importers.sandbox import parse_untrusted
from scan_accuracy import compare
from scangen import write_not_a_form, write_scan
from settings import DEFAULTS

pytestmark = pytest.mark.skipif(importlib.util.find_spec("importers.ocr") is None,
                                reason="no OCR engine (importers/ocr.py) on this branch")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED_PDF = FIXTURES / "seed_forms.pdf"
EXPECTED = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))["forms"]
APP_LIMITS = limits_from_config(DEFAULTS)
CJK = re.compile(r"[\u4e00-\u9fff]")
# What a parser child that died says when nothing better was known, and the old refusal of every
# scan: not a clear answer to a scan.
UNEXPLAINED = ("异常终止", "意外退出", "内部错误", "Traceback", "Error", "error",
               "没有文字层")                      # the refusal of scans from before the OCR


def clear_line(message: str) -> bool:
    return "\n" not in message.strip() and bool(CJK.search(message)) and \
        not any(word in message for word in UNEXPLAINED)


def flask_parse(path, tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", "forms", "parse", str(path)],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)


def test_a_scanned_page_of_prose_gives_no_forms_and_a_chinese_warning(tmp_path):
    scan = write_scan(write_not_a_form(tmp_path / "prose.pdf", "prose"), tmp_path / "prose-scan.pdf").path
    result = parse_untrusted(scan, APP_LIMITS)
    assert result.forms == []
    assert result.warnings and all(CJK.search(w) for w in result.warnings)


def test_a_scanned_budget_table_is_not_taken_for_a_form_by_flask_forms_parse(tmp_path):
    """项目支出预算表: ruled, and its header says 项目名称 — but it is no 申报表."""
    scan = write_scan(write_not_a_form(tmp_path / "table.pdf", "table"), tmp_path / "table-scan.pdf").path
    out = flask_parse(scan, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    data = json.loads(out.stdout)
    assert data["forms"] == []
    assert data["warnings"] and all(CJK.search(w) for w in data["warnings"])


@pytest.mark.timeout(1200)                 # the sandbox's own clocks are what this tests
def test_a_600_dpi_scan_of_30_pages_stays_within_the_sandbox_limits(tmp_path):
    # the two shorter seed forms over and over: each page a whole form, like 30 stamped 申报表
    scan = write_scan(SEED_PDF, tmp_path / "big.pdf", dpi=600, page_count=30, pages=[1, 2])
    assert scan.path.stat().st_size < APP_LIMITS.max_bytes          # the size check does not decide it
    started = time.monotonic()
    try:
        result = parse_untrusted(scan.path, APP_LIMITS)
    except UnreadableFile as e:
        assert clear_line(str(e)), str(e)
    else:
        assert isinstance(result, ParseResult)
        names = {f["project_name"] for f in result.forms}
        assert names <= {f["project_name"] for f in EXPECTED} and names, result.warnings
    # Each scanned page has its own clock, the pages share at least two children, then one
    # child assembles the forms: the parent's clocks bound the whole file.
    pages_per_child = math.ceil(30 / max(2, DEFAULTS["PARSE_WORKERS"]))
    assert time.monotonic() - started < pages_per_child * APP_LIMITS.ocr_page_seconds + APP_LIMITS.wall_seconds


@pytest.mark.parametrize("turn", [90, 270])
def test_a_page_on_its_side_is_read_upright_and_said_so_or_refused_clearly(tmp_path, turn):
    scan = write_scan(SEED_PDF, tmp_path / "turned.pdf", turn=turn, pages=[2], seed=4).path
    try:
        result = parse_untrusted(scan, APP_LIMITS)
    except UnreadableFile as e:
        assert clear_line(str(e)) and re.search("旋转|方向|横", str(e)), str(e)
        return
    # Read the right way up: about as well as an upright scan (not the nothing, or the
    # nonsense, that reading it sideways gives), and the user is told it was turned.
    score = compare(EXPECTED[2:], result.forms, fold_width=True)
    assert score.share >= 0.9, score.summary()
    assert any(re.search("旋转", w) for w in result.warnings), result.warnings


def test_a_100_dpi_scan_is_refused_as_too_coarse_unless_read_perfectly(tmp_path):
    scan = write_scan(SEED_PDF, tmp_path / "coarse.pdf", dpi=100, pages=[2], seed=6).path
    out = flask_parse(scan, tmp_path)
    assert "Traceback" not in out.stderr
    if out.returncode == 0:
        score = compare(EXPECTED[2:], json.loads(out.stdout)["forms"])
        assert score.share == 1.0, score.summary()
    else:
        [line] = out.stderr.strip().splitlines()
        assert line.startswith(f"{scan}: 分辨率过低"), line
