"""Pooled PostgreSQL connections (models/db.py): one the server has closed (a restart, an
administrator, an idle timeout) is replaced before a request uses it, once it has sat in the
pool for a while; and requests keep their connection's prepared statements. Both are about a
PostgreSQL server: these run in CI's second pass, on the server .ci/run starts."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from dbs import server_url
from test_api import Api

pytestmark = pytest.mark.skipif(not server_url(), reason="needs a PostgreSQL server (TEST_DATABASE_URL)")


def backends_of(app) -> list[int]:
    """The server processes serving the app's database (its pooled connections)."""
    database = app.extensions["engine"].url.database
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        pids = [r[0] for r in conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"),
                                           {"d": database})]
    admin.dispose()
    return pids


def terminate(pids: list[int]) -> None:
    admin = create_engine(server_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    admin.dispose()


def test_a_connection_the_server_closed_while_idle_is_replaced_unseen(seeded, personas, monkeypatch):
    import models.db
    api = Api(seeded, personas.manager_a)
    assert api.get("/projects").status_code == 200
    pids = backends_of(seeded)
    assert pids
    terminate(pids)
    monkeypatch.setattr(models.db, "IDLE_PING_SECONDS", 0)      # as if it had sat idle for a while
    response = api.get("/projects")
    assert response.status_code == 200 and len(response.get_json()["projects"]) == 3
    assert set(backends_of(seeded)).isdisjoint(pids)


def test_requests_keep_the_prepared_statements_of_their_connection(seeded, personas):
    """psycopg prepares a statement run five times on a connection, and forgets them all on a
    ROLLBACK; requests end their reads with COMMIT, so the hot statements stay prepared and
    PostgreSQL stops parsing and planning them on every request."""
    api = Api(seeded, personas.manager_a)
    project = api.get("/projects").get_json()["projects"][0]["id"]
    for _ in range(8):
        assert api.get(f"/projects/{project}", as_of="2023-07-31").status_code == 200
    with seeded.extensions["engine"].connect() as conn:
        prepared = [r[0] for r in conn.execute(text("SELECT statement FROM pg_prepared_statements"))]
    assert any("FROM api_token" in statement for statement in prepared)
    assert any("FROM indicator" in statement for statement in prepared)
