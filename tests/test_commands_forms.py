"""`flask forms parse` and `flask forms import` as a user runs them."""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from models import ImportBatch, Indicator, Project, ProjectYear, TargetChange
from models.db import engine as app_engine
from models.db import get_session, transaction
from services.importing import apply_import
from xlsxgen import write_xlsx

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def run_flask(*args, db, cwd=ROOT):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    return subprocess.run([*FLASK, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


def count(app, model, *where):
    with app.app_context(), Session(app_engine()) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def test_parse_prints_exactly_the_expected_json(tmp_path):
    for source, expected in (("seed_forms.pdf", "seed_forms.expected.json"),
                             ("seed_2023_shanxi_tzcjj.txt", "seed_text.expected.json")):
        out = run_flask("forms", "parse", str(FIXTURES / source), db=tmp_path / "x.db")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == json.loads((FIXTURES / expected).read_text(encoding="utf-8"))
    assert not (tmp_path / "x.db").exists() or count_rows(tmp_path / "x.db") == 0


def count_rows(db):
    import sqlite3
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return sum(conn.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)


def test_parse_of_several_files_reports_a_bad_one_and_still_parses_the_others(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n garbage")
    out = run_flask("forms", "parse", str(FIXTURES / "seed_forms.pdf"), str(bad),
                    str(FIXTURES / "seed_2023_shanxi_tzcjj.txt"), db=tmp_path / "x.db")
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{bad}:") and "损坏" in lines[0]
    data = json.loads(out.stdout)
    assert [f["source"]["file"] for f in data["forms"]] == [str(FIXTURES / "seed_forms.pdf")] * 3 + \
        [str(FIXTURES / "seed_2023_shanxi_tzcjj.txt")] * 3
    assert data["forms"][1]["source"]["pages"] == [2]


def test_parse_of_a_file_without_forms_prints_an_empty_list_with_a_warning(tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("部门收支总表\t合计\n", encoding="utf-8")
    out = run_flask("forms", "parse", str(other), db=tmp_path / "x.db")
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"forms": [], "warnings": ["未在文件中找到项目支出绩效目标申报表"]}


def test_import_twice_changes_nothing_the_second_time(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["forms", "import", str(FIXTURES / "seed_forms.pdf")])
    assert first.exit_code == 0, first.output
    assert "新增 3" in first.output
    second = runner.invoke(args=["forms", "import", str(FIXTURES / "seed_forms.pdf")])
    assert "新增 0，变更 0，未变 3" in second.output
    assert count(app, ImportBatch) == 1
    assert count(app, Project) == 3 and count(app, Indicator) == 27


def test_a_changed_form_updates_targets_and_keeps_the_old_ones(app, tmp_path):
    forms = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))["forms"]
    runner = app.test_cli_runner()
    runner.invoke(args=["forms", "import", str(write_xlsx(tmp_path / "v1.xlsx", forms))])
    forms[0]["indicators"][0]["annual"]["target"].update(raw="≥80家", value=80)
    removed = forms[1]["indicators"].pop()   # the last indicator of the second form is dropped
    result = runner.invoke(args=["forms", "import", str(write_xlsx(tmp_path / "v2.xlsx", forms))])
    assert "新增 0，变更 2，未变 1" in result.output, result.output
    with app.app_context(), Session(app_engine()) as s:
        change = s.exec(select(TargetChange)).one()
        assert (change.scope, change.old_raw, change.new_raw) == ("annual", "≥70家", "≥80家")
        ind = s.get(Indicator, change.indicator_id)
        assert (ind.annual_raw, ind.annual_value) == ("≥80家", 80)
        retired = s.exec(select(Indicator).where(Indicator.retired_at.is_not(None))).one()
        assert retired.annual_level3 == removed["annual"]["level3"]
    assert count(app, ProjectYear) == 3


def test_next_years_form_adds_a_year_to_the_same_project(app, tmp_path):
    forms = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))["forms"]
    runner = app.test_cli_runner()
    runner.invoke(args=["forms", "import", str(write_xlsx(tmp_path / "y2023.xlsx", forms[:1]))])
    runner.invoke(args=["forms", "import", str(write_xlsx(tmp_path / "y2024.xlsx", [{**forms[0], "year": 2024}]))])
    assert count(app, Project) == 1 and count(app, ProjectYear) == 2


def test_import_of_a_folder_shows_a_summary_and_reports_bad_files(app, tmp_path):
    folder = tmp_path / "disclosures"
    folder.mkdir()
    (folder / "a.pdf").write_bytes((FIXTURES / "seed_forms.pdf").read_bytes())
    (folder / "b.txt").write_bytes((FIXTURES / "seed_2023_shanxi_tzcjj.txt").read_bytes())
    (folder / "c.pdf").write_bytes(b"not a pdf at all")
    result = app.test_cli_runner().invoke(args=["forms", "import", str(folder)])
    assert result.exit_code == 1
    assert "文件 2 个，申报表 6 张" in result.output
    assert "c.pdf: 不是有效的 PDF" in result.output
    assert count(app, ImportBatch) == 2


def test_a_file_that_fails_while_storing_leaves_nothing_behind(app):
    forms = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))["forms"]
    forms[2]["project_name"] = None   # the third form cannot be stored: 项目名称 is required
    with app.app_context():
        session = get_session()
        with pytest.raises(IntegrityError):
            with transaction(session):
                apply_import(session, forms, file_name="bad.pdf", file_sha256="x" * 64, who="测试",
                             now=datetime.now(timezone.utc), reorganise=True)
    assert count(app, Project) == 0 and count(app, ImportBatch) == 0 and count(app, Indicator) == 0


def test_parse_prints_ocr_and_confidence_of_a_form_read_by_ocr(tmp_path, monkeypatch):
    """A form read by OCR (importers/form_checks.py) prints `ocr` and `confidence` as the schema
    says, after its other keys; the rest of the form as any other."""
    from click.testing import CliRunner
    from commands import forms as command
    from importers import ParseResult
    form = json.loads((FIXTURES / "seed_forms.expected.json").read_text(encoding="utf-8"))["forms"][0]
    read = {**form, "_pages": [1], "ocr": True, "confidence": {"funds.annual.total": 0.55}}
    monkeypatch.setattr(command, "parse_many_untrusted", lambda paths, limits, workers: [ParseResult([read], [])])
    scan = tmp_path / "签章版.pdf"
    scan.write_bytes(b"%PDF-1.4")
    out = CliRunner().invoke(command.forms, ["parse", str(scan)])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.output)["forms"][0]
    assert list(printed)[-2:] == ["ocr", "confidence"]
    assert printed == {**form, "ocr": True, "confidence": {"funds.annual.total": 0.55}}
