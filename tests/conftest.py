"""Shared fixtures: a fresh app and SQLite database per test, the seed sample, helpers that
act the way a user's browser does (the CSRF token comes from the page, not from a switch)."""
from __future__ import annotations

import copy
import json
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app import create_app
from models.migrate import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
SEED_PDF = FIXTURES / "seed_forms.pdf"
SEED_EXPECTED = FIXTURES / "seed_forms.expected.json"
SEED_NAMES = ("招商引资专项经费", "招商引资业务经费", "网络运行维护费")
SEED_ANNUAL_COUNTS = {"招商引资专项经费": 14, "招商引资业务经费": 7, "网络运行维护费": 6}
NOW = datetime(2023, 8, 6, 1, 0, tzinfo=timezone.utc)   # 09:00 in Asia/Shanghai


def make_app(tmp_path: Path, **overrides):
    config = {"DATABASE_URL": f"sqlite:///{tmp_path / 'test.db'}", "TESTING": True,
              "UPLOAD_DIR": str(tmp_path / "uploads"), "SECRET_KEY": "test-secret"}
    config.update(overrides)
    app = create_app(config)
    upgrade(app.extensions["engine"])
    return app


def join_import_threads(timeout: float = 60) -> None:
    """Background parsers must finish before their database file disappears."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("import-job-"):
            thread.join(max(0.1, deadline - time.monotonic()))


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    join_import_threads()
    app.extensions["engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def seed_forms() -> list[dict]:
    """The three forms of the seed sample, exactly as the importer reads them (a fresh copy)."""
    return copy.deepcopy(json.loads(SEED_EXPECTED.read_text(encoding="utf-8"))["forms"])


def store_forms(app, forms: list[dict], *, file_name: str = "seed_forms.pdf", who: str = "演示数据",
                now: datetime = NOW, warnings: list[str] | None = None, sha: str | None = None):
    """Put forms into the database the way `flask forms import` does."""
    from models.db import get_session, transaction
    from models.importing import apply_import
    with app.app_context():
        session = get_session()
        with transaction(session):
            return apply_import(session, forms, file_name=file_name, file_sha256=sha or "0" * 64, who=who,
                                now=now, warnings=warnings)


@pytest.fixture
def seeded(app):
    """The database after importing the seed sample: three projects of 2023."""
    store_forms(app, seed_forms())
    return app


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str = "/imports/new") -> str:
    """The token as a browser has it: read from a page's form."""
    page = client.get(url).get_data(as_text=True)
    match = _TOKEN.search(page)
    assert match, f"no CSRF token in {url}"
    return match.group(1)


def upload(client, files: list[tuple[str, bytes]], *, htmx: bool = False):
    """POST /imports with these (name, content) files, the token from the upload page."""
    from io import BytesIO
    data = {"csrf_token": csrf_token(client), "files": [(BytesIO(content), name) for name, content in files]}
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post("/imports", data=data, headers=headers, content_type="multipart/form-data")


def job_id_of(response) -> str:
    location = response.headers.get("HX-Redirect") or response.headers["Location"]
    match = re.search(r"/imports/([0-9a-f]{32})$", location)
    assert match, location
    return match.group(1)


def wait_for_job(app, job_id: str, timeout: float = 60):
    """Poll the job row until parsing is over, as the progress fragment does."""
    from sqlmodel import Session
    from models.job import ImportJob
    deadline = time.monotonic() + timeout
    while True:
        with Session(app.extensions["engine"]) as session:
            job = session.get(ImportJob, job_id)
            if job.state not in ("queued", "parsing"):
                return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.state} after {timeout}s")
        time.sleep(0.1)


def text_of(html: str) -> str:
    """The page's text with tags dropped and whitespace collapsed, to assert what a user reads."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def form_like(index: int = 0, *, name: str | None = None, unit: str | None = None, department: str | None = None,
              code: str | None = None, year: int | None = None) -> dict:
    """A seed form moved elsewhere: another project, unit, 主管部门 or year (Chinese defaults)."""
    form = seed_forms()[index]
    for key, value in (("project_name", name), ("implementing_unit", unit), ("department_name", department),
                       ("department_code", code), ("year", year)):
        if value is not None:
            form[key] = value
    return form


def set_annual_target(form: dict, level3: str, raw: str, value, unit: str | None = None) -> dict:
    """Change one 年度 target of a form, as a corrected 申报表 would."""
    for item in form["indicators"]:
        if item["annual"] and item["annual"]["level3"] == level3:
            target = item["annual"]["target"]
            target.update(raw=raw, value=value, unit=unit if unit is not None else target["unit"])
            return form
    raise AssertionError(f"no indicator {level3}")


def seed_text(*replacements: tuple[str, str]) -> bytes:
    """The seed 预算公开 text file with cells replaced (each once), e.g. a changed target."""
    text = (FIXTURES / "seed_2023_shanxi_tzcjj.txt").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.encode("utf-8")
