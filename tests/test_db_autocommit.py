"""A request's reads on PostgreSQL run without BEGIN and COMMIT (models/db.py), and its writes
keep their transaction: all-or-nothing, and a write outside `transaction()` is refused before
it reaches the server. Autocommit is a PostgreSQL matter: these run in CI's second pass."""
from __future__ import annotations

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import text

from dbs import server_url

pytestmark = pytest.mark.skipif(not server_url(), reason="needs a PostgreSQL server (TEST_DATABASE_URL)")

RENAME = text("UPDATE app_user SET display_name = :name WHERE username = :username")
NAME = text("SELECT display_name FROM app_user WHERE username = :username")


def status(session) -> TransactionStatus:
    return session.connection().connection.dbapi_connection.info.transaction_status


def test_a_requests_read_leaves_no_transaction_open(seeded, personas):
    from models.db import get_session
    with seeded.test_request_context():
        session = get_session()
        assert session.execute(NAME, {"username": "tianbao"}).scalar_one() == "填报人甲"
        assert status(session) == TransactionStatus.IDLE       # no BEGIN was sent before it


def test_a_write_in_transaction_is_all_or_nothing(seeded, personas):
    from models.db import get_session, transaction
    with seeded.test_request_context():
        session = get_session()
        with transaction(session):
            session.execute(RENAME, {"name": "改名一", "username": "tianbao"})
            assert status(session) == TransactionStatus.INTRANS
        assert session.execute(NAME, {"username": "tianbao"}).scalar_one() == "改名一"
        with pytest.raises(ValueError), transaction(session):
            session.execute(RENAME, {"name": "改名二", "username": "tianbao"})
            raise ValueError("the second half fails")
        assert session.execute(NAME, {"username": "tianbao"}).scalar_one() == "改名一"


def test_a_write_outside_transaction_is_refused_and_nothing_is_stored(seeded, personas):
    from models.db import WriteOutsideTransaction, get_session
    with seeded.test_request_context():
        session = get_session()
        session.execute(NAME, {"username": "tianbao"})
        with pytest.raises(WriteOutsideTransaction):
            session.execute(RENAME, {"name": "偷偷改名", "username": "tianbao"})
    with seeded.extensions["engine"].connect() as conn:
        assert conn.execute(NAME, {"username": "tianbao"}).scalar_one() == "填报人甲"


def test_a_connection_a_request_read_with_is_transactional_again_for_others(seeded, personas):
    """The pool hands the request's connection to a command or the scheduler next: theirs is
    a real transaction again, so a write they roll back leaves nothing."""
    from models.db import get_session
    with seeded.test_request_context():
        get_session().execute(NAME, {"username": "tianbao"})
    engine = seeded.extensions["engine"]
    with engine.connect() as conn:
        conn.execute(RENAME, {"name": "回滚", "username": "tianbao"})
        assert conn.connection.dbapi_connection.info.transaction_status == TransactionStatus.INTRANS
        conn.rollback()
        assert conn.execute(NAME, {"username": "tianbao"}).scalar_one() == "填报人甲"
