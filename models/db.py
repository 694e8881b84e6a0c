"""Engine and sessions. One engine per app, one session per request or command."""
from __future__ import annotations

import time
from collections import namedtuple
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, partial
from typing import Callable, TypeVar

from flask import current_app, g
from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.sql import Insert, Select, Update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, create_engine


IDLE_PING_SECONDS = 10

_Built = TypeVar("_Built", bound=Callable)


def prepared(build: _Built) -> _Built:
    """The one way statements are cached: `build(*shape)` makes a statement whose values are
    bound parameters (`bindparam("py_id")`), once per shape (a scope shape, a set of columns),
    and every later call returns the same construct; the values are passed on execution.

    The hot reads (an API call's project year in scope, an entry's last actual) are cheap
    indexed lookups, so building the construct and its cache key on every call costs as much
    as running the query. SQLAlchemy caches compiled SQL but not the construct; its own
    construct cache, `lambda_stmt`, still analyses the lambda's closure on every call and
    saves little: bench/statements.py measures the three ways."""
    return cache(build)   # type: ignore[return-value]


def rows(session: Session, statement: Select, params: dict | None = None) -> list[tuple]:
    """The rows of a prepared read (`prepared`: the same construct on every call), as named
    tuples (`row.month`, or unpacked), run on the session's connection straight through the
    driver.

    On a hot read SQLAlchemy's execution costs more than the query: an indexed lookup of a few
    rows is ~30 µs of the driver's time and ~125 µs through `Session.execute` (~75 µs through
    `Connection.execute`), and under load, with the worker's caches cold, SQLAlchemy was about
    half of a 填报人's request (bench/load.py). So the statement is compiled once per database
    kind, and each call does what SQLAlchemy's execution does for a plain select and no more:
    SQLAlchemy's own expansion of the parameters (`IN` lists) with their bind processors, the
    `before_cursor_execute` listeners, the driver's execute and fetch, the column types' result
    processors (SQLite's dates, decimals and JSON; none on PostgreSQL for these columns), and a
    driver error raised as SQLAlchemy's `DBAPIError`. Like `Session.execute`, it flushes what the
    session holds first (unless in `no_autoflush`). For plain reads only: a locking read is
    `locked_rows`, a write `write`."""
    return _lean(session, statement, "read").run(session.connection(), params or {})


def locked_rows(session: Session, statement: Select, params: dict | None = None) -> list[tuple]:
    """`rows` of a locking read (`with_for_update()`) inside a write transaction: the row an
    entry is about to change, read afresh under its lock."""
    return _lean(session, statement, "lock").run(session.connection(), params or {})


def write(session: Session, statement, params: dict | None = None):
    """A prepared INSERT or UPDATE (`prepared`, values as bound parameters) run like `rows`, in
    the caller's write transaction: the rows it returns (`RETURNING`), else how many rows it
    changed. An entry's own rows are written this way: the ORM's unit of work (tracking the
    objects, ordering the statements, reading the new key back) cost more than the two
    statements it sends. An object of the row that the session holds is told the new values
    (`written`); the driver's IntegrityError arrives as SQLAlchemy's."""
    return _lean(session, statement, "write").run(session.connection(), params or {})


def written(session: Session, model, key, values: dict) -> None:
    """Tell the session's object of the row `key` of `model`, if it holds one, the values just
    written to it by `write`, as stored (no change left to flush)."""
    held = session.identity_map.get(identity_key(model, key))
    if held is not None:
        for name, value in values.items():
            set_committed_value(held, name, value)


def _lean(session: Session, statement, kind: str) -> "_Lean":
    if session.autoflush:
        session.flush()             # a no-op when nothing is pending
    dialect = session.get_bind().dialect
    lean = _LEAN.get((id(statement), dialect.name))
    if lean is None:
        lean = _LEAN[(id(statement), dialect.name)] = _Lean(statement, dialect)
    if lean.kind != kind:
        raise TypeError(f"a {lean.kind} statement run as a {kind}")
    return lean


_SHAPES_KEPT = 256      # expanded forms kept per statement (one per set of IN-list lengths)


class _Lean:
    """A select compiled for one dialect, with what running it needs.

    What each call does besides the driver's work is kept small, since it is repeated on every
    read of every request:
    - An `IN` list is expanded by SQLAlchemy (its SQL rewritten for the list's length) once per
      set of lengths; later calls with lists of the same lengths reuse that SQL, and only their
      values are laid out under the expanded names (`_expanded`).
    - One cursor per driver connection serves every call on it (`_cursor`): a new psycopg
      cursor sets up its column loaders afresh.
    - Rows are made straight from the driver's tuples (`tuple.__new__`), not one Python call each."""

    def __init__(self, statement, dialect) -> None:
        if isinstance(statement, Select):
            self.kind = "read" if statement._for_update_arg is None else "lock"
            columns = statement.selected_columns
        elif isinstance(statement, (Insert, Update)):
            self.kind, columns = "write", statement.exported_columns     # its RETURNING columns
        else:
            raise TypeError("rows() and write() run selects, inserts and updates only")
        self.statement = statement          # kept alive, so its id stays its own
        self.dialect = dialect
        self.compiled = compiled = statement.compile(dialect=dialect)
        self.types = [column.type for column in columns]
        self.returns = bool(self.types)
        row = namedtuple("Row", list(columns.keys()), rename=True)
        self.row = partial(tuple.__new__, row)
        self.processors: list | None = None      # known after the first run (the driver's column types)
        expanding = [name for name, bind in compiled.binds.items() if bind in compiled.post_compile_params]
        self.expanding = tuple(expanding)
        # Laid out here only in the plain case: SQLAlchemy itself where values are rendered into
        # the SQL (literal_execute), names are escaped, or an IN list holds tuples.
        plain = not (compiled.literal_execute_params or compiled.escaped_bind_names
                     or any(compiled.binds[name].type._is_tuple_type for name in expanding))
        self.shapes: dict | None = {} if plain else None

    def _expanded(self, params: dict):
        """The SQL, its positional order, bind processors and values for these parameters."""
        shapes, expanding = self.shapes, self.expanding
        if shapes is None or not all(name in params for name in expanding):
            state = self.compiled.construct_expanded_state(params)
            return state.statement, state.positiontup, self._processors(state), state.parameters
        key = (frozenset(params), tuple(len(params[name]) for name in expanding))
        shape = shapes.get(key)
        if shape is None:
            state = self.compiled.construct_expanded_state(params)
            expansion = state.parameter_expansion
            given = set(params).union(*expansion.values())
            constants = {name: value for name, value in state.parameters.items() if name not in given}
            processors = self._processors(state)
            if len(shapes) < _SHAPES_KEPT:
                shapes[key] = (state.statement, state.positiontup, processors, expansion, constants)
            return state.statement, state.positiontup, processors, state.parameters
        statement, positiontup, processors, expansion, constants = shape
        values = {**constants, **params}
        for name, names in expansion.items():
            values.update(zip(names, values.pop(name)))
        return statement, positiontup, processors, values

    def _processors(self, state) -> dict:
        """Every bound value's processor (a date as SQLite stores it, a JSON list as text): the
        statement's own, and those of the names an IN list was expanded to (as SQLAlchemy's
        execution merges them)."""
        return {**self.compiled._bind_processors, **state.processors}

    def run(self, conn, params: dict) -> list[tuple]:
        sql, positiontup, processors, values = self._expanded(params)
        if processors:
            values = {key: processors[key](value) if key in processors and value is not None else value
                      for key, value in values.items()}
        args = values if positiontup is None else tuple(values[key] for key in positiontup)
        cursor = _cursor(conn)
        try:
            for listener in conn.dispatch.before_cursor_execute:
                sql, args = listener(conn, cursor, sql, args, None, False) or (sql, args)
            cursor.execute(sql, args)
            if not self.returns:
                return cursor.rowcount
            found = cursor.fetchall()
            if self.processors is None:
                self.processors = [kind.dialect_impl(self.dialect).result_processor(self.dialect, column[1])
                                   for kind, column in zip(self.types, cursor.description)]
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, args, exc, self.dialect.loaded_dbapi.Error) from exc
        make = self.row
        if any(self.processors):
            pairs = list(enumerate(self.processors))
            return [make([p(row[i]) if p is not None else row[i] for i, p in pairs]) for row in found]
        return list(map(make, found))


@prepared
def rewrite_by_key(model):
    """A stored row of `model` written back by its key: every other column bound as `v_<name>`,
    the key as `k_<name>` (`by_key`). One statement for the summaries' executemany and an
    entry's own row."""
    table = model.__table__
    return (update(table)
            .where(*(column == bindparam(f"k_{column.name}", type_=column.type) for column in table.primary_key))
            .values({column.name: bindparam(f"v_{column.name}", type_=column.type) for column in table.columns
                     if not column.primary_key}))


def by_key(key: tuple[str, ...], row: dict) -> dict:
    """`row`'s values named for `rewrite_by_key`: the names in `key` as `k_`, the others as `v_`."""
    return {(f"k_{name}" if name in key else f"v_{name}"): value for name, value in row.items()}


@prepared
def insert_returning_key(model):
    """A new row of `model`: every column but its key bound by name, returning the new key."""
    table = model.__table__
    return (insert(table).values({c: bindparam(c.key, type_=c.type) for c in table.columns if not c.primary_key})
            .returning(*table.primary_key.columns))


def columns_of(*models) -> list:
    """Every column of each table model, in order: a `select` whose rows `detached` reads back."""
    return [column for model in models for column in model.__table__.columns]


def detached(row, *models) -> tuple:
    """The table models' instances held in one plain row of `columns_of(*models)`, each as if
    loaded by a session and then expunged: the same class, values and identity, in no session.
    For what a call only reads (an entry's indicator and project year, an answer's indicators):
    an ORM load of a wide row costs about twice the row itself (models.db.rows). Never written
    through: an instance to change is loaded by the session that writes it."""
    made, at = [], 0
    for model in models:
        keys = _attribute_keys(model)
        instance = model.__mapper__.class_manager.new_instance()
        instance.__dict__.update(zip(keys, row[at:at + len(keys)]))
        make_transient_to_detached(instance)
        made.append(instance)
        at += len(keys)
    return tuple(made)


@cache
def _attribute_keys(model) -> tuple[str, ...]:
    mapper = model.__mapper__
    return tuple(mapper.get_property_by_column(column).key for column in model.__table__.columns)


_CURSOR = "lean_cursor"     # the pool entry's info: (driver connection, its cursor for rows())


def _cursor(conn):
    """The cursor `rows()` runs on for this driver connection, made on first use (the pool
    entry keeps it with the connection; a replaced connection gets a new one)."""
    dbapi = conn.connection.dbapi_connection
    info = conn.connection.info
    kept = info.get(_CURSOR)
    if kept is None or kept[0] is not dbapi:
        kept = info[_CURSOR] = (dbapi, dbapi.cursor())
    return kept[1]


_LEAN: dict[tuple[int, str], _Lean] = {}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    event.listen(engine, "begin", _pg_begin)
    event.listen(engine, "before_cursor_execute", _refuse_autocommitted_write)
    return engine


def _note_checkin(_dbapi_conn, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_conn, record, _proxy) -> None:
    """What `pool_pre_ping` does (a connection the server has closed, say after a restart, is
    replaced before a request uses it), but only for a connection that sat in the pool for
    IDLE_PING_SECONDS: one in steady use answered a moment ago, and a round trip on every
    request cost about 8 % of the server's time under load (bench/load.py)."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
        return
    try:
        with dbapi_conn.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi_conn.commit()        # not rollback(): that would drop psycopg's prepared statements
    except Exception as exc:
        raise DisconnectionError() from exc    # the pool connects afresh and tries again


# --------------------------------------------------------------------------- reads without BEGIN
# A request's reads on PostgreSQL run in autocommit: no BEGIN before them, no COMMIT after, two
# round trips fewer per read (about a fifth of a request's statements, bench/load.py). They see
# what they would have seen in a transaction: at READ COMMITTED, PostgreSQL's default and ours,
# every statement of a transaction takes a snapshot of its own anyway. Writes keep their
# transaction: `transaction()` begins one, and a write statement that finds its connection in
# autocommit is refused (`_refuse_autocommitted_write`) rather than committed statement by statement.

_READS_AUTOCOMMIT = "reads_autocommit"      # Session.info key: the request's session (get_session)


def _set_autocommit(conn, on: bool) -> None:
    """psycopg's autocommit on the connection, set only between transactions (nothing open) and
    only when it changes; SQLite's connections are left alone."""
    if conn.dialect.name == "postgresql" and conn.connection.dbapi_connection.autocommit != on:
        conn.connection.dbapi_connection.autocommit = on


def _pg_begin(conn) -> None:
    """Every transaction begins as a real one (raw connections, commands, the scheduler) …"""
    _set_autocommit(conn, False)


@event.listens_for(Session, "after_begin")
def _reads_in_autocommit(session, _transaction, conn) -> None:
    """… except a request session's reads (nothing has been sent yet)."""
    if session.info.get(_READS_AUTOCOMMIT) and not _WRITING.get():
        _set_autocommit(conn, True)


_HELD = "held_in_transaction"


def held(session: Session) -> dict:
    """What the session's current transaction holds and need not take again (the project years
    it has locked: services/summaries.lock): forgotten when any transaction of the session ends,
    a savepoint's too (rolling back to one releases the locks taken after it)."""
    return session.info.setdefault(_HELD, {})


@event.listens_for(Session, "after_transaction_end")
def _release_held(session, ended) -> None:
    if ended.parent is None or ended.nested:      # not a flush's inner bookkeeping transaction
        session.info.pop(_HELD, None)


class WriteOutsideTransaction(RuntimeError):
    """A write in a request session outside `transaction()`: a bug, refused before it is sent."""


_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "MERGE")


def _refuse_autocommitted_write(_conn, cursor, statement, _parameters, _context, _executemany) -> None:
    if cursor.connection.autocommit and (statement.lstrip()[:6].upper().startswith(_WRITE_WORDS)
                                         or "FOR UPDATE" in statement or "FOR NO KEY UPDATE" in statement):
        raise WriteOutsideTransaction(f"a write outside transaction(): {statement[:80]}")


def _sqlite_pragmas(dbapi_conn, _record):
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


_WRITING: ContextVar[bool] = ContextVar("writing", default=False)


def _sqlite_begin(conn) -> None:
    # A write transaction takes the write lock up front, so two writers queue on the busy
    # timeout instead of one failing half-way; reads stay deferred and never block.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITING.get() else "BEGIN")


def engine() -> Engine:
    return current_app.extensions["engine"]


def get_session() -> Session:
    """The request's (or command's) session, closed at teardown."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False, info={_READS_AUTOCOMMIT: True})
    return g.db_session


def close_session(exc=None) -> None:
    """End the request's session. A read ends with COMMIT rather than ROLLBACK (the same for a
    transaction that wrote nothing): psycopg forgets every prepared statement on a ROLLBACK,
    so rolling back each request's reads would make PostgreSQL parse and plan every query of
    every request afresh. Anything unexpected — an error, or changes left unflushed outside
    `transaction()` — is rolled back as before."""
    session = g.pop("db_session", None)
    if session is None:
        return
    try:
        if exc is None and session.in_transaction() and not (session.new or session.dirty or session.deleted):
            session.commit()
    finally:
        session.close()


@contextmanager
def transaction(session: Session):
    """A write transaction, all-or-nothing: commit on success, roll back on any error.

    Do file and network I/O before entering it, never inside."""
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            # what a read left pending (a rehashed password) is stored in a transaction of its own
            _set_autocommit(session.connection(), False)
        session.commit()  # end a read transaction so the write one begins with its lock
    token = _WRITING.set(True)
    try:
        session.connection()
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        _WRITING.reset(token)
