"""The engines of storage/db.py: an ended PostgreSQL connection is told from a live one by
its socket, and SQLite's own BEGIN fails the way every other statement would."""

from __future__ import annotations

import os
import resource
import socket
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import _has_unread_input, make_engine, make_session_factory, transaction
from storage.errors import DatabaseUnavailableError


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
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from sqlalchemy import event

    from storage.db import open_pool

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


def test_postgresql_connections_carry_tcp_keepalives(db_url: str, engine: object) -> None:
    """A connection a NAT or load balancer dropped without a word is found by TCP
    keepalives (the socket check at checkout only sees one the server ended)."""
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    served = make_engine(db_url)
    try:
        raw = served.raw_connection()
        try:
            fd = raw.driver_connection.fileno()  # type: ignore[union-attr]
            sock = socket.socket(fileno=os.dup(fd))
            try:
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 10
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 6
            finally:
                sock.close()
        finally:
            raw.close()
    finally:
        served.dispose()
