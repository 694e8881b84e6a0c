"""A write takes a project year's row lock once per transaction (services/summaries.lock): an
entry's summary refresh and its alerts share the lock the entry took, and the next transaction
takes it afresh — as does the rest of a transaction after rolling back to a savepoint, which
releases the locks taken since."""
from __future__ import annotations

from sqlalchemy import event, select

from models.project import ProjectYear


def _locks_sent(app):
    """The lock statements the app's engine sends, as a list that grows."""
    sent: list[str] = []

    def spy(_conn, _cursor, statement, *_args):
        if " ".join(statement.split()).startswith("SELECT project_year.id FROM project_year WHERE project_year.id IN"):
            sent.append(statement)
    event.listen(app.extensions["engine"], "before_cursor_execute", spy)
    return sent


def test_a_project_year_is_locked_once_a_transaction_and_again_in_the_next(seeded):
    from models.db import get_session, transaction
    from services import summaries
    sent = _locks_sent(seeded)
    with seeded.test_request_context():
        session = get_session()
        ids = list(session.scalars(select(ProjectYear.id).order_by(ProjectYear.id)))
        with transaction(session):
            summaries.lock(session, ids[:1])
            summaries.lock(session, ids[:1])
            assert len(sent) == 1
            summaries.lock(session, ids[:2])          # only the one not held yet
            assert len(sent) == 2
        with transaction(session):
            summaries.lock(session, ids[:1])
            assert len(sent) == 3
            savepoint = session.begin_nested()
            summaries.lock(session, ids[1:2])
            savepoint.rollback()
            summaries.lock(session, ids[1:2])         # released by the rollback: taken again
            assert len(sent) == 5
            session.flush()                           # a flush ends no transaction: still held
            summaries.lock(session, ids[1:2])
            assert len(sent) == 5


def test_a_spending_entry_locks_its_project_year_once(seeded, personas):
    """Its summary refresh and its alerts read under the lock the entry took."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from models.db import get_session, transaction
    from services.entry import Context, record_spending
    sent = _locks_sent(seeded)
    with seeded.test_request_context():
        session = get_session()
        py = session.scalars(select(ProjectYear).order_by(ProjectYear.id)).first()
        with transaction(session):
            record_spending(session, py, py.year, 3, Decimal("1000.00"), Context("tianbao", datetime.now(timezone.utc)))
        assert len(sent) == 1
