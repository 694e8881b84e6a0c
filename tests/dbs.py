"""A fresh database for each test: a temporary SQLite file, or — when TEST_DATABASE_URL names a
PostgreSQL server — a new database cloned from a migrated template (CREATE DATABASE … TEMPLATE
is fast, so every test still starts from an empty, fully migrated schema).

    TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:55432/postgres make test
"""
from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

_template_lock = threading.Lock()
_template: str | None = None


def server_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def _admin_engine():
    return create_engine(server_url(), isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _template_name() -> str:
    """One migrated template per test process (xdist worker), made on first use."""
    global _template
    with _template_lock:
        if _template is None:
            from models.migrate import upgrade
            name = f"tmpl_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
            admin = _admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            engine = create_engine(_url_for(name))
            upgrade(engine)
            engine.dispose()
            _template = name
        return _template


def _url_for(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def new_database_url(tmp_path: Path) -> str:
    if not server_url():
        return f"sqlite:///{tmp_path / 'test.db'}"
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template_name()}"'))
    admin.dispose()
    return _url_for(name)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    name = make_url(url).database
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
