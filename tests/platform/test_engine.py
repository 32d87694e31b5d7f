"""The engines of storage/db.py: an ended PostgreSQL connection is told from a live one by
its socket, and SQLite's own BEGIN fails the way every other statement would."""

from __future__ import annotations

import os
import resource
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from storage.db import (
    _has_unread_input,
    make_engine,
    make_session_factory,
    open_pool,
    transaction,
)
from storage.errors import DatabaseUnavailableError
from tests.conftest import UNREACHABLE_DATABASES


def test_an_idle_socket_has_nothing_to_read_and_an_ended_one_has() -> None:
    ours, theirs = socket.socketpair()
    try:
        assert not _has_unread_input(ours.fileno())
        theirs.close()  # the server went away
        assert _has_unread_input(ours.fileno())
    finally:
        ours.close()


def test_a_connection_numbered_above_1023_is_checked_too() -> None:
    # A busy process (many sockets, files) hands the pool descriptors past select()'s
    # limit; the check must not fail every checkout there.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    high = 2000
    if hard != resource.RLIM_INFINITY and hard <= high:
        pytest.skip(f"this machine allows {hard} descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, high + 1), hard))
    ours, theirs = socket.socketpair()
    try:
        os.dup2(ours.fileno(), high)
        assert not _has_unread_input(high)
        theirs.close()
        assert _has_unread_input(high)
    finally:
        os.close(high)
        ours.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_sqlite_database_that_cannot_begin_a_write_is_unavailable_not_a_crash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "opsloop.db"
    writable = make_engine(f"sqlite:///{path}")
    with writable.begin() as connection:
        connection.execute(text("CREATE TABLE t (a INTEGER)"))
    writable.dispose()
    read_only = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        with (
            pytest.raises(DatabaseUnavailableError, match="readonly"),
            transaction(make_session_factory(read_only)) as session,
        ):
            session.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        read_only.dispose()


def test_a_served_process_opens_its_listeners_connections_before_the_first_request(
    db_url: str, engine: object
) -> None:
    """`opsloop serve` / `run` open one connection per listener thread at start: a burst as
    large as the threads then opens none (each would be a new server process on
    PostgreSQL, in some request's ack)."""
    threads = 6
    served = make_engine(db_url, pool_size=threads + 2)
    opened: list[int] = []
    event.listen(served, "connect", lambda *_: opened.append(1))
    try:
        open_pool(served, threads)
        assert len(opened) == threads
        # On PostgreSQL all six hold a connection at once; SQLite hands its connections
        # out one at a time (storage/db.py), so there they take turns.
        together = Barrier(threads if db_url.startswith("postgresql") else 1)

        def request(_: int) -> None:
            with served.connect() as connection:
                together.wait(timeout=30)
                connection.execute(text("SELECT 1"))

        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(request, range(threads)))
        assert len(opened) == threads  # the burst opened no connection of its own
    finally:
        served.dispose()


def _keepalive_options(url: str) -> tuple[int, int, int, int]:
    served = make_engine(url)
    try:
        raw = served.raw_connection()
        try:
            fd = raw.driver_connection.fileno()  # type: ignore[union-attr]
            sock = socket.socket(fileno=os.dup(fd))
            try:
                return (
                    sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                    sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                )
            finally:
                sock.close()
        finally:
            raw.close()
    finally:
        served.dispose()


def test_postgresql_connections_carry_tcp_keepalives(db_url: str, engine: object) -> None:
    """A connection a NAT or load balancer dropped without a word is found by TCP
    keepalives (the socket check at checkout only sees one the server ended); a setting
    in DATABASE_URL itself is kept."""
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    if "host=/" in db_url or "@/" in db_url:
        pytest.skip("a Unix socket has no TCP keepalives")
    assert _keepalive_options(db_url) == (1, 30, 10, 6)
    assert _keepalive_options(f"{db_url}&keepalives_idle=45") == (1, 45, 10, 6)


def test_a_start_goes_on_when_the_server_refuses_some_of_its_connections(
    db_url: str, engine: object, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    served = make_engine(db_url, pool_size=6)
    real = served.raw_connection
    calls: list[int] = []

    def refuse_the_third() -> object:
        calls.append(1)
        if len(calls) == 3:
            raise OperationalError("connect", {}, Exception("too many clients already"))
        return real()

    monkeypatch.setattr(served, "raw_connection", refuse_the_third)
    try:
        open_pool(served, 5)  # no exception: the start goes on
        assert served.pool.checkedin() == 2  # the two it got wait in the pool
        assert "opened 2 of 5 database connections" in caplog.text
        assert "too many clients already" in caplog.text
    finally:
        served.dispose()


@UNREACHABLE_DATABASES
def test_a_start_goes_on_when_no_connection_can_be_opened_yet(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver's own error (a refused port, a path that cannot be opened), not only
    SQLAlchemy's: the pool's raw connections are not translated by SQLAlchemy, so before
    this a server that refused connections at start stopped `opsloop serve` with a
    traceback."""
    served = make_engine(url.format(tmp=tmp_path))
    try:
        open_pool(served, 3)  # no exception
        assert "opened 0 of 3 database connections" in caplog.text
    finally:
        served.dispose()


def test_the_connection_given_back_last_is_handed_out_next(db_url: str, engine: object) -> None:
    """The few requests running at once reuse the same warm connections (on PostgreSQL a
    backend process each) instead of cycling through the whole pool."""
    served = make_engine(db_url, pool_size=4)
    try:
        open_pool(served, 4)
        first, second = served.raw_connection(), served.raw_connection()
        first_id, second_id = id(first.dbapi_connection), id(second.dbapi_connection)
        second.close()
        first.close()  # given back last
        again = served.raw_connection()
        try:
            assert id(again.dbapi_connection) == first_id != second_id
        finally:
            again.close()
    finally:
        served.dispose()
