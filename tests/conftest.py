"""Shared fixtures: a fresh app and SQLite database per test, the seed sample, helpers that
act the way a user's browser does (the CSRF token comes from the page, not from a switch),
and the personas of the access rules: an admin; 填报人 and 审核人 of unit A (the seed's
山西省投资促进局 under 山西省商务厅); a 审核人 of everything; a 填报人 of unit B (another unit
under another 主管部门, with a project of its own).

`client` is a browser signed in as the admin: most view tests are about what a page does,
not who may see it; `anonymous` is one that is not signed in; `login(client, user)` signs in
as anyone. The app runs as in production (ENV unset: Secure cookie, the strong key check).
Passwords are hashed with the real Argon2id parameters; each persona's hash is computed once
per test process and reused, so no test-only weakening of the hasher is needed.
"""
from __future__ import annotations

import copy
import functools
import json
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from app import create_app
from dbs import drop_database, new_database_url
from models.migrate import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
SEED_PDF = FIXTURES / "seed_forms.pdf"
SEED_EXPECTED = FIXTURES / "seed_forms.expected.json"
SEED_NAMES = ("招商引资专项经费", "招商引资业务经费", "网络运行维护费")
SEED_ANNUAL_COUNTS = {"招商引资专项经费": 14, "招商引资业务经费": 7, "网络运行维护费": 6}
NOW = datetime(2023, 8, 6, 1, 0, tzinfo=timezone.utc)   # 09:00 in Asia/Shanghai
SECRET_KEY = "test-only-secret-key-0123456789-abcdefghij"
PASSWORD = "演示密码-correct-horse-battery"

UNIT_A, DEPARTMENT_A = "山西省投资促进局", "山西省商务厅"
UNIT_B, DEPARTMENT_B, DEPARTMENT_B_CODE = "山西省国际经济合作中心", "山西省发展和改革委员会", "217"
PROJECT_A, PROJECT_B = "招商引资专项经费", "外商投资企业服务经费"


def make_app(tmp_path: Path, **overrides):
    config = {"DATABASE_URL": new_database_url(tmp_path), "TESTING": True,
              "UPLOAD_DIR": str(tmp_path / "uploads"), "SECRET_KEY": SECRET_KEY}
    config.update(overrides)
    app = create_app(config)
    upgrade(app.extensions["engine"])
    return app


def join_import_threads(timeout: float = 60) -> None:
    """Background parsers and exports must finish before their database disappears."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith(("import-job-", "export-job-")):
            thread.join(max(0.1, deadline - time.monotonic()))


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    yield app
    join_import_threads()
    app.extensions["engine"].dispose()
    drop_database(app.config["DATABASE_URL"])


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def client(app):
    """A browser signed in as the admin."""
    return signed_in(app, add_user(app, "admin", "admin"))


# --------------------------------------------------------------------------- users and personas

@dataclass(frozen=True)
class Person:
    id: int
    username: str
    role: str
    password: str = PASSWORD


@functools.lru_cache(maxsize=None)
def _password_hash(password: str) -> str:
    from models.user import hash_password
    return hash_password(password)


def add_user(app, username: str, role: str, *, unit: str | None = None, department: str | None = None,
             password: str = PASSWORD, display_name: str | None = None) -> Person:
    """The user (created unless there), with the scope rules of models/accounts.py."""
    from sqlmodel import select
    from models.accounts import resolve_scope
    from models.db import get_session, transaction
    from models.user import User
    with app.app_context():
        session = get_session()
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            with transaction(session):
                unit_id, department_id = resolve_scope(session, role, unit, department)
                user = User(username=username, role=role, unit_id=unit_id, department_id=department_id,
                            display_name=display_name, password_hash=_password_hash(password), created_at=NOW)
                session.add(user)
        return Person(user.id, user.username, user.role, password)


_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(client, user: Person, password: str | None = None, **kwargs):
    """Sign in through the login page, as a person does; returns the answer to the POST."""
    return client.post("/login", data={"csrf_token": csrf_token(client, "/login"), "username": user.username,
                                       "password": password if password is not None else user.password},
                       **kwargs)


def signed_in(app, user: Person):
    client = app.test_client()
    response = login(client, user)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


@dataclass
class Personas:
    admin: Person
    manager_a: Person          # 填报人 of 山西省投资促进局 (the seed's unit)
    supervisor_a: Person       # 审核人 of 山西省商务厅 (the seed's 主管部门)
    supervisor_all: Person     # 审核人 without a 主管部门: reads everything
    manager_b: Person          # 填报人 of another unit under another 主管部门
    project_a: int             # 招商引资专项经费 of unit A
    project_b: int             # 外商投资企业服务经费 of unit B


def project_id(app, name: str) -> int:
    from sqlmodel import Session, select
    from models.project import Project
    with Session(app.extensions["engine"]) as session:
        return session.exec(select(Project.id).where(Project.name == name)).one()


def unit_b_form(index: int = 1, **changes) -> dict:
    return form_like(index, **({"name": PROJECT_B, "unit": UNIT_B, "department": DEPARTMENT_B,
                                "code": DEPARTMENT_B_CODE} | changes))


@pytest.fixture
def personas(seeded) -> Personas:
    store_forms(seeded, [unit_b_form()], file_name="发改委.pdf", sha="b" * 64)
    return Personas(
        admin=add_user(seeded, "admin", "admin"),
        manager_a=add_user(seeded, "tianbao", "manager", unit=UNIT_A, display_name="填报人甲"),
        supervisor_a=add_user(seeded, "shenhe", "supervisor", department=DEPARTMENT_A),
        supervisor_all=add_user(seeded, "shenhe_all", "supervisor"),
        manager_b=add_user(seeded, "tianbao_b", "manager", unit=UNIT_B),
        project_a=project_id(seeded, PROJECT_A),
        project_b=project_id(seeded, PROJECT_B),
    )


def seed_forms() -> list[dict]:
    """The three forms of the seed sample, exactly as the importer reads them (a fresh copy)."""
    return copy.deepcopy(json.loads(SEED_EXPECTED.read_text(encoding="utf-8"))["forms"])


def store_forms(app, forms: list[dict], *, file_name: str = "seed_forms.pdf", who: str = "演示数据",
                now: datetime = NOW, warnings: list[str] | None = None, sha: str | None = None):
    """Put forms into the database the way `flask forms import` does."""
    from models.db import get_session, transaction
    from services.importing import apply_import
    with app.app_context():
        session = get_session()
        with transaction(session):
            return apply_import(session, forms, file_name=file_name, file_sha256=sha or "0" * 64, who=who,
                                now=now, reorganise=True, warnings=warnings)


@pytest.fixture
def seeded(app):
    """The database after importing the seed sample: three projects of 2023."""
    store_forms(app, seed_forms())
    return app


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
