"""`models.db.rows` reads a prepared select straight through the driver (the hot reads: an API
call's token, a year's entries, spending and adjustments, the target history, the shown actuals,
the project list). It must read exactly what SQLAlchemy's own execution of the same statement
reads — the same values of the same types (Decimal, datetime, date, JSON lists, None), on SQLite
and on PostgreSQL — and behave like it: flush what the session holds, show the statement to
`before_cursor_execute` listeners, raise SQLAlchemy's DBAPIError, and refuse a locking read."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Numeric, bindparam, column, event, select, table
from sqlalchemy.exc import DBAPIError

from conftest import PROJECT_A
from models.actual import Actual
from test_api import year_of, token_for


def _typed(found) -> list[list[tuple[type, object]]]:
    """Rows as (type, value) pairs: Decimal("2.5") == 2.5 in Python, and must not pass."""
    return [[(type(value), value) for value in row] for row in found]


@pytest.fixture
def stored(seeded, personas):
    """Project A's year with actuals (偏差原因 as JSON, decimals, notes), spending, a budget
    adjustment and a changed target, written as rows; and a 填报人's token."""
    from models.actual import Actual, Spending
    from models.adjustment import BudgetAdjustment
    from models.db import get_session, transaction
    from models.indicator import TargetChange
    token = token_for(seeded, personas.manager_a)
    py, indicators = year_of(seeded, PROJECT_A)
    ids = sorted(indicators.values())
    when = datetime(2023, 7, 10, 9, 30, tzinfo=timezone.utc)
    with seeded.test_request_context():
        session = get_session()
        with transaction(session):
            for n, indicator_id in enumerate(ids[:3]):
                for month in (3, 6):
                    session.add(Actual(indicator_id=indicator_id, month=month, value=Decimal("12.5") + n,
                                       unit="万元", deviation_reasons=["其他", "进度滞后"] if n else [],
                                       note="第一季度 “说明”" if n == 1 else None, completion=Decimal("0.8125"),
                                       light="yellow", version=2, updated_by="manager_a", updated_at=when))
            session.add(Spending(project_year_id=py, month=6, amount_yuan=Decimal("1234567.89"), note="追加预算待批复",
                                 execution_rate=Decimal("0.5"), light="green", version=1, updated_by="manager_a",
                                 updated_at=when))
            session.add(BudgetAdjustment(project_year_id=py, effective_on=date(2023, 6, 30), amount_yuan=Decimal("-7000000"),
                                         doc_no="晋财预〔2023〕12号", reason="调减", created_by="admin", created_at=when))
            session.add(TargetChange(indicator_id=ids[0], scope="annual", old_raw="≥70家", new_raw="≥80家",
                                     changed_at=when))
    return py, ids, token


def _statements(seeded, personas, py: int, ids: list[int], token: str):
    from models.user import User, _digest, _token_user
    from reads.api_answers import _list_statement
    from reads.indicator_facts import _history
    from reads.project_year import _actuals_select, _spending_select
    from reads.scope import scoped_params
    from reads.tracking import _actuals_through, _spending_changes
    from services.inputs import _adjustments_select, _entries_of, _spending_of
    from models.db import get_session
    manager = get_session().get(User, personas.manager_a.id)
    shape, params = scoped_params(manager, year=2023, month=6)
    return [(_entries_of(), {"ids": ids, "through": 12}), (_entries_of(), {"ids": ids[:1], "through": 3}),
            (_spending_of(), {"py_id": py}), (_adjustments_select(), {"ids": [py]}), (_history(), {"py_id": py}),
            (_spending_select(), {"py_id": py}), (_actuals_select(), {"ids": ids, "months": [3, 6]}),
            (_token_user(), {"digest": _digest(token)}), (_list_statement(shape, ""), params),
            (_list_statement(shape, "early_"), params), (_list_statement(shape, None), params),
            (_actuals_through(), {"ids": ids, "month": 6}), (_spending_changes(), {"py_id": py})]


def test_rows_reads_what_sqlalchemy_reads(seeded, personas, stored):
    from models.db import get_session, rows
    py, ids, token = stored
    with seeded.test_request_context():
        session = get_session()
        statements = _statements(seeded, personas, py, ids, token)
        read = [_typed(rows(session, statement, params)) for statement, params in statements]
        expected = [_typed(session.execute(statement, params).all()) for statement, params in statements]
    assert read == expected
    assert all(read[:8]), "every statement but the list's variants found the rows written"
    entries = read[0]
    assert (Decimal, Decimal("12.5")) in [row[2] for row in entries]
    assert (list, ["其他", "进度滞后"]) in [row[8] for row in read[6]]       # Actual.deviation_reasons, JSON


_SINCE = select(Actual.id, Actual.month).where(Actual.updated_at >= bindparam("since", type_=Actual.updated_at.type),
                                               Actual.value >= bindparam("at_least", type_=Numeric(24, 6)),
                                               Actual.month.in_(bindparam("months", expanding=True))).order_by(Actual.id)


@pytest.mark.parametrize("since, at_least, found", [
    (datetime(2023, 7, 10, 9, 30, tzinfo=timezone.utc), Decimal("13.5"), 4),    # the stored moment itself
    (datetime(2023, 7, 10, 9, 30, 1, tzinfo=timezone.utc), Decimal("0"), 0),     # a second later
    (datetime(2023, 1, 1, tzinfo=timezone.utc), Decimal("12.5"), 6)])
def test_bound_values_are_processed_as_sqlalchemy_processes_them(seeded, stored, since, at_least, found):
    """A date or a Decimal bound beside an IN list reaches the database as SQLAlchemy's execution
    sends it (SQLite stores a moment as text in its own format, and takes no Decimal)."""
    from models.db import get_session, rows
    with seeded.test_request_context():
        session = get_session()
        params = {"since": since, "at_least": at_least, "months": [3, 6]}
        read = rows(session, _SINCE, params)
        assert [tuple(row) for row in read] == [tuple(row) for row in session.execute(_SINCE, params).all()]
    assert len(read) == found


def test_rows_are_named_like_the_columns(seeded, personas, stored):
    from models.db import get_session, rows
    from reads.project_year import _spending_select
    py, _ids, _token = stored
    with seeded.test_request_context():
        [report] = rows(get_session(), _spending_select(), {"py_id": py})
    assert (report.month, report.amount_yuan, report.note) == (6, Decimal("1234567.89"), "追加预算待批复")
    assert report.updated_at.replace(tzinfo=None) == datetime(2023, 7, 10, 9, 30)


def test_rows_flushes_what_the_session_holds_and_shows_listeners_the_statement(seeded, stored):
    from models.actual import Spending
    from models.db import get_session, rows, transaction
    from reads.project_year import _spending_select
    py, _ids, _token = stored
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))
    engine = seeded.extensions["engine"]
    event.listen(engine, "before_cursor_execute", note)
    try:
        with seeded.test_request_context():
            session = get_session()
            with transaction(session):
                session.add(Spending(project_year_id=py, month=9, amount_yuan=Decimal("2000000"), version=1,
                                     light="green", updated_by="manager_a", updated_at=datetime.now(timezone.utc)))
                seen.clear()
                months = [report.month for report in rows(session, _spending_select(), {"py_id": py})]
                with session.no_autoflush:
                    session.add(Spending(project_year_id=py, month=12, amount_yuan=Decimal("3000000"), version=1,
                                         light="green", updated_by="manager_a", updated_at=datetime.now(timezone.utc)))
                    held_back = [report.month for report in rows(session, _spending_select(), {"py_id": py})]
                session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert sorted(months) == [6, 9] and sorted(held_back) == [6, 9]
    assert seen[0].startswith("INSERT INTO spending")
    assert any(s.startswith("SELECT spending.id, spending.project_year_id") for s in seen[1:])


def test_rows_raises_sqlalchemys_error_and_refuses_a_locking_read(seeded):
    from models.db import get_session, rows
    from models.project import ProjectYear
    with seeded.test_request_context():
        session = get_session()
        with pytest.raises(DBAPIError):
            rows(session, select(column("x")).select_from(table("no_such_table")))
        session.rollback()
        with pytest.raises(TypeError):
            rows(session, select(ProjectYear.id).with_for_update())
        # the connection's cursor serves the next read after the error
        assert rows(session, select(ProjectYear.id).where(ProjectYear.id > 0)), "the seeded years are read"


@pytest.mark.parametrize("on", [date(2023, 1, 20), date(2023, 7, 10), date(2023, 7, 31), date(2024, 1, 10)])
def test_the_overviews_reads_are_what_sqlalchemy_reads(seeded, personas, stored, on):
    """The overview's prepared reads (by scope, moment and filters) through `rows`."""
    from models.db import get_session, rows
    from models.user import User
    from reads.overview import _lines, _red, _shape, _unit_sums
    from reads.report_filters import AsOf, ReportFilters
    py, _ids, _token = stored
    with seeded.test_request_context():
        session = get_session()
        moment = AsOf.of(2023, on, seeded.config)
        admin, manager = (session.get(User, person.id) for person in (personas.admin, personas.manager_a))
        cases = []
        for user, filters in ((admin, ReportFilters()), (manager, ReportFilters()),
                              (admin, ReportFilters(light="yellow")), (admin, ReportFilters(level1="产出指标"))):
            shape, params = _shape(user, filters, moment)
            cases += [(_unit_sums(shape), params), (_lines(shape), params), (_red(shape), params | {"limit": 10}),
                      (_lines(shape, by_id=True), params | {"ids": [py]})]
        read = [_typed(rows(session, statement, params)) for statement, params in cases]
        expected = [_typed(session.execute(statement, params).all()) for statement, params in cases]
    assert read == expected
    assert read[0] and read[1], "the admin's overview has its 实施单位 and project years"


# --------------------------------------------------------------------------- IN lists laid out once

def _dialects():
    from sqlalchemy.dialects import postgresql, sqlite
    return [sqlite.dialect(), postgresql.psycopg.dialect()]


@pytest.mark.parametrize("dialect", _dialects(), ids=lambda d: d.name)
def test_in_lists_of_known_lengths_are_laid_out_as_sqlalchemy_expands_them(dialect):
    """`rows()` lets SQLAlchemy expand an IN list once per set of list lengths and lays later
    values of the same lengths out under the expanded names itself. For any sequence of calls —
    lengths repeated or new, empty lists, constants bound in the statement, a scalar beside the
    lists — the SQL, its parameter order and the values must be what SQLAlchemy's own expansion
    gives for that call."""
    from hypothesis import given, settings, strategies as st
    from sqlalchemy import bindparam
    from models.actual import Actual
    from models.db import _Lean
    from reads.project_year import _actuals_select
    from services.inputs import _entries_of
    mixed = select(Actual.id).where(Actual.light == "red", Actual.month.in_(bindparam("months", expanding=True)),
                                    Actual.version > bindparam("version"), Actual.indicator_id.in_(bindparam("ids", expanding=True)))
    lean_actuals, lean_entries, lean_mixed = (_Lean(s, dialect) for s in (_actuals_select(), _entries_of(), mixed))
    ids, months = st.lists(st.integers(1, 10**6), max_size=6), st.lists(st.integers(1, 12), max_size=4)
    call = st.one_of(st.tuples(st.just(lean_actuals), st.fixed_dictionaries({"ids": ids, "months": months})),
                     st.tuples(st.just(lean_entries), st.fixed_dictionaries({"ids": ids, "through": st.integers(0, 12)})),
                     st.tuples(st.just(lean_mixed), st.fixed_dictionaries({"ids": ids, "months": months,
                                                                           "version": st.integers(0, 9)})))

    @settings(max_examples=60, deadline=None)
    @given(st.lists(call, min_size=1, max_size=12))
    def check(calls):
        for lean, params in calls:
            sql, order, processors, values = lean._expanded(dict(params))
            state = lean.compiled.construct_expanded_state(dict(params))
            assert (sql, order, values) == (state.statement, state.positiontup, state.parameters)
            assert processors.keys() == {**lean.compiled._bind_processors, **state.processors}.keys()
    check()
    assert lean_actuals.shapes and lean_entries.shapes and lean_mixed.shapes, "lengths seen again: laid out here"
    assert len(lean_actuals.shapes) <= 7 * 5, "one kept form per pair of lengths"


# --------------------------------------------------------------------------- detached objects

def test_objects_read_from_plain_rows_are_what_the_session_loads(seeded, personas, stored):
    """`indicator_to_read`, `project_year_to_read`, `project_years_to_read` and
    `active_indicators_to_read` build detached objects from one plain row each: the same class,
    column values of the same types and identity as the session's own load, in no session."""
    from sqlalchemy import inspect
    from models.db import get_session
    from models.indicator import active_indicators, active_indicators_to_read
    from models.project import Project, ProjectYear
    from models.user import User
    from reads.scope import (indicator_to_read, indicator_visible, project_year_to_read, project_year_visible,
                             project_years_to_read)
    py, ids, _token = stored

    def values(obj):
        return [(type(obj), column.key, type(getattr(obj, column.key)), getattr(obj, column.key))
                for column in type(obj).__table__.columns]

    with seeded.test_request_context():
        session = get_session()
        admin, manager = (session.get(User, person.id) for person in (personas.admin, personas.manager_a))
        cases = [(indicator_to_read(session, manager, ids[0]), indicator_visible(session, manager, ids[0])),
                 (project_year_to_read(session, admin, py), project_year_visible(session, admin, py)),
                 (active_indicators_to_read(session, py), active_indicators(session, py))]
        project, year, years = project_years_to_read(session, manager, py)
        cases.append(((project, year, *years), (session.get(Project, project.id), session.get(ProjectYear, py),
                                                *(session.get(ProjectYear, y.id) for y in years))))
        for lean, loaded in cases:
            assert [values(obj) for obj in lean] == [values(obj) for obj in loaded]
            for obj, same in zip(lean, loaded):
                assert inspect(obj).detached and inspect(obj).key == inspect(same).key
        assert len(cases[2][0]) > 3 and years and year.id == py
        other = next(u for u in session.scalars(select(User)) if u.role == "manager" and u.unit_id != manager.unit_id)
        assert indicator_to_read(session, other, ids[0]) is None, "outside the scope reads as missing"
        assert project_years_to_read(session, other, py) is None
