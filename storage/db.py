"""Engines, session factories and the unit of work.

SQLite gets WAL, a busy timeout and foreign keys on every connection, and every transaction
starts with BEGIN IMMEDIATE: a read-then-write transaction that started deferred would fail
at once with "database is locked" when another writer got there first, whereas IMMEDIATE
waits (up to busy_timeout) for the write lock.

PostgreSQL connections the server closed (a restart, a failover, `pg_terminate_backend`, a
proxy's idle timeout) are replaced when they leave the pool, without a round trip: the
server says goodbye before it closes, so an idle connection with something to read on its
socket is one the server ended. SQLAlchemy's `pool_pre_ping` would ask with a `SELECT 1`
instead, one more round trip on every request's ack path (measured: about 7 % of the CPU
of a `/feedback` and a fifth of its round trips).

Inside one process, SQLite connections are handed out one at a time (a lock taken when a
connection leaves the pool and given back when it returns, after its COMMIT or ROLLBACK).
SQLite has one writer anyway; what the lock changes is how the others wait. Left to
SQLite, a thread that finds the write lock taken sleeps in its busy handler (1, 2, 5, 10 …
up to 100 ms a turn) and may sleep past the moment the lock came free, so 16 listener
threads and the outbox sender turn a 2 ms write into a 300 ms to 2 s tail. Queued on a
Python lock, the next thread starts the moment the previous one committed. Other
processes (a CLI job beside `opsloop serve`) still meet SQLite's busy timeout.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Dialect, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000

SessionFactory = sessionmaker[Session]


def make_engine(url: str, *, pool_size: int = 10, **kwargs: Any) -> Engine:
    """Create an engine for `url` with the per-backend settings described above."""
    if url.startswith("sqlite"):
        if ":memory:" not in url and "poolclass" not in kwargs:
            # Threads take a connection from the pool before they queue for their turn
            # (below): a pool smaller than the threads would open and close a connection,
            # with its PRAGMAs, for every request beyond it.
            kwargs.setdefault("pool_size", pool_size)
            kwargs.setdefault("max_overflow", pool_size)
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", pool_size)
    # The connection given back last is handed out first: the few requests running at once
    # keep reusing the same server processes, warm, instead of cycling through all of the
    # pool's (each a PostgreSQL backend with its own caches).
    kwargs.setdefault("pool_use_lifo", True)
    # The socket check below sees a connection the server ended; one that vanished without
    # a word (a NAT or load balancer dropping idle flows) it cannot. TCP keepalives find
    # those within about a minute and a half of silence, on idle and busy connections alike.
    # (A keepalive setting in the URL's query stays the operator's: connect_args would win.)
    given = make_url(url).query
    ours = {name: value for name, value in PG_KEEPALIVES.items() if name not in given}
    kwargs["connect_args"] = {**ours, **kwargs.get("connect_args", {})}
    engine = create_engine(url, **kwargs)
    event.listen(engine, "checkout", _refuse_ended_connection)
    return engine


# libpq's keepalive settings: probe after 30 s of silence, every 10 s, give up after 6.
PG_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 6,
}


def _refuse_ended_connection(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled PostgreSQL connection the server has ended is not handed out: raising
    DisconnectionError makes the pool discard it and connect anew (SQLAlchemy's own
    recipe for pessimistic disconnect handling, without its round trip)."""
    if dbapi_connection.closed or _has_unread_input(dbapi_connection.fileno()):
        raise DisconnectionError("the server closed this connection while it was idle")


def _has_unread_input(fd: int) -> bool:
    # Between transactions the server sends nothing unasked (Opsloop does not LISTEN), so
    # anything readable is its termination notice or the end of the stream. poll, not
    # select: select refuses descriptors above 1023.
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Straight to the driver: BEGIN returns nothing, and going through
        # exec_driver_sql costs an execution context and its events on every transaction.
        # (A driver error here is still wrapped as OperationalError: SQLAlchemy runs the
        # begin event inside its own error handling; tests/platform/test_engine.py.)
        _begin_immediate(connection.connection.driver_connection)

    one_at_a_time = _OneAtATime()

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if not one_at_a_time.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise DatabaseUnavailableError("the SQLite database stayed busy")
        record.info[_HOLDS_TURN] = True

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi: Any, record: Any) -> None:
        if record.info.pop(_HOLDS_TURN, False):
            one_at_a_time.release()


_HOLDS_TURN = "opsloop_holds_turn"


class _OneAtATime:
    """A turn that one thread holds at a time. The holder may take it again (a second
    connection in the same thread: the schema check inside a transaction); the turn may be
    given back from any thread (a session closed where it was collected)."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._holder: int | None = None
        self._depth = 0

    def acquire(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._free:
            if self._holder == me:
                self._depth += 1
                return True
            if not self._free.wait_for(lambda: self._holder is None, timeout):
                return False
            self._holder, self._depth = me, 1
            return True

    def release(self) -> None:
        with self._free:
            self._depth -= 1
            if self._depth <= 0:
                self._holder, self._depth = None, 0
                self._free.notify()


def open_pool(engine: Engine, connections: int) -> None:
    """Open `connections` pooled connections now and leave them idle in the pool, so the
    first commands after a start or a deploy do not each wait for a new one (on PostgreSQL
    a new connection is a server process: 4-10 ms here, before its first query loads the
    catalog) and a burst is not slowed by the pool growing under it. A server that refuses
    some (too many clients during a deploy, say) only leaves them to be opened when needed."""
    opened: list[Any] = []
    try:
        for _ in range(connections):
            opened.append(_checkout(engine))
    except (DBAPIError, DatabaseUnavailableError) as exc:
        log.warning(
            "opened %d of %d database connections at start; the rest open when needed (%s)",
            len(opened),
            connections,
            getattr(exc, "orig", None) or exc,
        )
    finally:
        for connection in opened:
            connection.close()  # back to the pool, still open


def make_session_factory(engine: Engine) -> SessionFactory:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error.

    A lost or unreachable database surfaces as `DatabaseUnavailableError`, so callers can
    tell the user nothing was saved instead of showing a driver traceback.
    """
    with _unavailable_as_error(), sessions.begin() as session:
        yield session


@contextmanager
def driver_write(sessions: SessionFactory) -> Iterator[DriverWrite]:
    """One short write on an ack path, straight to a pooled driver connection: on SQLite one
    transaction (BEGIN IMMEDIATE … COMMIT, rolled back on error), on PostgreSQL one
    statement in autocommit (no BEGIN and no COMMIT, each a round trip the ack would wait
    for), so what is written there must be atomic by itself. Errors are those of
    `transaction`.

    This is the ack path of every `/feedback <text>`, so no SQLAlchemy `Connection`,
    execution context or result is built around its statements, and SQLAlchemy's
    isolation-level bookkeeping (set and reset on every checkout) is skipped. What SQLAlchemy
    does that matters is kept: statements are compiled by it (once each) and their values
    pass its bind processors (a UTC datetime's, an array's); the pool's checkout events run
    (a PostgreSQL connection the server ended is replaced, SQLite's one-at-a-time turn is
    taken); a driver error, connecting included, is translated as SQLAlchemy would, and a
    lost connection invalidated;
    and the connection goes back to the pool in transactions again, or not at all. Measured
    in one thread, six alternated rounds of 2,000 feedback writes: PostgreSQL 0.19-0.22 ms
    of CPU a write against 0.34-0.42 through a Core connection in AUTOCOMMIT, SQLite
    0.09-0.15 against 0.22-0.29 through a Core transaction — a tenth of a request's CPU.
    """
    engine: Engine = sessions.kw["bind"]
    dialect = engine.dialect
    if dialect.name not in ("postgresql", "sqlite"):
        raise ValueError(f"driver_write knows PostgreSQL and SQLite, not {dialect.name}")
    autocommit = dialect.name == "postgresql"
    dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
    with _unavailable_as_error():
        pooled: Any = _checkout(engine)  # the pool's proxy of the driver connection
        writer: DriverWrite | None = None
        try:
            if autocommit:
                pooled.driver_connection.autocommit = True
            else:
                _begin_immediate(pooled.driver_connection)
            writer = DriverWrite(dialect, pooled.cursor(), one_statement=autocommit)
            yield writer
            if not autocommit:
                pooled.commit()
        except dbapi_error as exc:
            lost = dialect.is_disconnect(exc, pooled.dbapi_connection, None)  # type: ignore[arg-type]
            if lost and pooled.is_valid:
                # This connection only: SQLAlchemy would recycle the whole pool, but the
                # checkout check (above) already refuses each connection the server ended.
                pooled.invalidate(exc)
            else:
                _abandon(pooled, autocommit, dbapi_error)
            raise _translated(exc, dialect, writer.last_sql if writer else None, lost) from exc
        except BaseException:
            _abandon(pooled, autocommit, dbapi_error)
            raise
        finally:
            # (a cursor of a connection already invalidated has nothing to close)
            if writer is not None:
                with suppress(dbapi_error):
                    writer.close()
            if autocommit:
                _leave_autocommit(pooled, dbapi_error)
            pooled.close()  # back to the pool (or discarded, when invalidated)


def _checkout(engine: Engine) -> Any:
    """A connection from the pool, a driver error while connecting translated as
    `Engine.connect` would (the pool's own `raw_connection` leaves it raw): a database that
    cannot be reached is `DatabaseUnavailableError`, not a traceback."""
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as exc:
        lost = engine.dialect.is_disconnect(exc, None, None)
        raise _translated(exc, engine.dialect, None, lost) from exc


def _translated(exc: Exception, dialect: Dialect, sql: str | None, lost: bool) -> StatementError:
    """A driver error as SQLAlchemy's own exception for it (OperationalError, …). No
    parameters in it: they are what people typed, and errors are logged."""
    return DBAPIError.instance(
        sql, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    )


class DriverWrite:
    """The statements of one `driver_write`, run on its driver cursor."""

    def __init__(self, dialect: Dialect, cursor: Any, *, one_statement: bool) -> None:
        self._dialect = dialect
        self._cursor = cursor
        self._one_statement = one_statement
        self._statements = 0
        self.last_sql: str | None = None

    @property
    def dialect_name(self) -> str:
        return self._dialect.name

    def first_row(
        self, statement: ClauseElement, values: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        """Run `statement` with `values`; its first row, None for none."""
        compiled = self._next(statement)
        self._cursor.execute(compiled.sql, compiled.bind(values))
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def run_many(self, statement: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run `statement` once for each of `rows` (one executemany)."""
        compiled = self._next(statement)
        self._cursor.executemany(compiled.sql, [compiled.bind(row) for row in rows])

    def close(self) -> None:
        self._cursor.close()

    def _next(self, statement: ClauseElement) -> _DriverStatement:
        self._statements += 1
        if self._one_statement and self._statements > 1:
            # In autocommit each statement commits by itself: a second would not be atomic
            # with the first.
            raise RuntimeError("a PostgreSQL driver_write runs one statement")
        compiled = _driver_statement(statement, self._dialect)
        self.last_sql = compiled.sql
        return compiled


@dataclass(frozen=True)
class _DriverStatement:
    """A statement as SQL text for the driver: its parameters by name (PostgreSQL's
    pyformat) or in order (SQLite's qmark), with the bind processors they need."""

    sql: str
    names: frozenset[str]
    order: tuple[str, ...] | None
    processors: Mapping[str, Callable[[Any], Any]]

    def bind(self, values: Mapping[str, Any]) -> dict[str, Any] | list[Any]:
        missing = self.names - values.keys()
        if missing:
            raise KeyError(f"no values for {sorted(missing)}")
        bound = dict(values)
        for name, process in self.processors.items():
            if name in bound:
                bound[name] = process(bound[name])
        if self.order is None:
            return bound
        return [bound[name] for name in self.order]


@cache
def _driver_statement(statement: ClauseElement, dialect: Dialect) -> _DriverStatement:
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler):
        raise TypeError("a driver statement is a SQL statement")
    # Only what `bind` reproduces: every value given by name, nothing SQLAlchemy's
    # execution would add (a column's Python-side default, a literal or callable bound
    # value, an expanding IN list, a renamed bind).
    added = (
        compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
        or compiled.escaped_bind_names
        or any(b.value is not None or b.callable is not None for b in compiled.binds.values())
    )
    if added:
        raise ValueError(
            "a driver statement takes its values by name only; this one needs SQLAlchemy's "
            "execution (a column default, a literal value, an expanding parameter)"
        )
    processors = {
        name: process
        for name, bind in compiled.binds.items()
        if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
    }
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return _DriverStatement(str(compiled), frozenset(compiled.binds), order, processors)


def _begin_immediate(dbapi_connection: Any) -> None:
    dbapi_connection.execute("BEGIN IMMEDIATE")


def _abandon(pooled: Any, autocommit: bool, dbapi_error: type[Exception]) -> None:
    """A failed write's transaction is rolled back (SQLite), or its connection discarded
    when even that fails. In autocommit there is nothing to roll back."""
    if autocommit or not pooled.is_valid:
        return
    try:
        pooled.rollback()
    except dbapi_error as exc:
        pooled.invalidate(exc)


def _leave_autocommit(pooled: Any, dbapi_error: type[Exception]) -> None:
    """The connection goes back to the pool in transactions again, or not at all: one
    left in autocommit would run the next session's statements each on its own."""
    if not pooled.is_valid:
        return
    try:
        pooled.driver_connection.autocommit = False
    except dbapi_error as exc:
        pooled.invalidate(exc)


@contextmanager
def _unavailable_as_error() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if "locked" in str(exc.orig).lower():
            raise
        raise DatabaseUnavailableError(str(exc.orig)) from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailableError(str(exc.orig)) from exc
        raise


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except (OperationalError, DBAPIError):
        return False
