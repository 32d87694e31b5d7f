"""Shared fixtures: a real database (SQLite file, and PostgreSQL when it answers), the Slack
stand-in, an injected clock and the real Bolt app driven with signed payloads.

PostgreSQL: OPSLOOP_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Each test gets its own schema, so parallel runs and other sessions never collide. When the
server does not answer, only the PostgreSQL variants are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine

from bot.clock import FixedClock
from bot.deps import Deps
from bot.settings import Settings, load_settings
from bot.slack.client import make_web_client
from bot.slack.executor import TrackingExecutor
from bot.slack.pacing import Pacer
from bot.slack.sender import OutboxSender
from bot.wiring import build_app, deps_from_parts, make_sender
from storage import schema
from storage.db import SessionFactory, make_engine, make_session_factory
from tests.support.slack import SlackDriver, SlackStandin

# Under CI the property tests draw the same examples every run (Hypothesis' `derandomize`),
# so whether main is green does not depend on the draw; run locally, they keep exploring
# new examples and a failure prints the example to fix.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

PG_URL = os.environ.get(
    "OPSLOOP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
# Databases nothing can connect to, by kind (`{tmp}`: a test's tmp_path): a SQLite file in
# a directory that does not exist, a PostgreSQL port nothing listens on.
UNREACHABLE_DATABASES = pytest.mark.parametrize(
    "url",
    ["sqlite:///{tmp}/no/such/directory/opsloop.db", "postgresql+psycopg://postgres@127.0.0.1:1/x"],
    ids=["sqlite", "postgres"],
)
# A Wednesday, mid-morning UTC.
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

_pg_available: bool | None = None


def postgres_available() -> bool:
    global _pg_available
    if _pg_available is None:
        try:
            with psycopg.connect(_libpq(PG_URL), connect_timeout=2):
                _pg_available = True
        except psycopg.Error:
            _pg_available = False
    return _pg_available


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# A hang guard, not a speed limit: a test connection that waits this long for a lock (a
# row, a table, CREATE INDEX CONCURRENTLY waiting for older transactions) fails with the
# lock named instead of stalling the whole run.
LOCK_WAIT_AT_MOST = "60s"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'opsloop.db'}"
        return
    if not postgres_available():
        pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in PG_URL else "?"
    options = f"-csearch_path={name} -clock_timeout={LOCK_WAIT_AT_MOST}"
    try:
        yield f"{PG_URL}{sep}options={quote(options)}"
    finally:
        _drop_schema(name)


def with_lock_wait(db_url: str, wait: str) -> str:
    """`db_url` (a test's PostgreSQL schema) with connections that wait at most `wait` for a
    lock: a test that shows a wait happens (or not) fails fast instead of after a minute."""
    return db_url.replace(quote(f"lock_timeout={LOCK_WAIT_AT_MOST}"), quote(f"lock_timeout={wait}"))


def _drop_schema(name: str, wait: str = LOCK_WAIT_AT_MOST) -> None:
    """Drop a test's schema. A connection the test left inside a transaction on it (a thread
    still running, a session never closed) would make DROP wait for ever: it is ended, and
    the test errors naming what that connection was doing."""
    with psycopg.connect(_libpq(PG_URL), autocommit=True) as connection:
        connection.execute(f"SET lock_timeout = '{wait}'")
        try:
            connection.execute(f'DROP SCHEMA "{name}" CASCADE')
            return
        except psycopg.errors.LockNotAvailable:
            pass
        holders = connection.execute(
            "SELECT DISTINCT a.pid, a.state, a.query FROM pg_locks l "
            "JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE n.nspname = %s AND a.pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
        for pid, _state, _query in holders:
            connection.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        connection.execute(f'DROP SCHEMA "{name}" CASCADE')
    left = "; ".join(f"pid {pid} {state}: {query[:200]}" for pid, state, query in holders)
    raise AssertionError(
        f"the test left a connection holding locks on its schema: {left}"
        if holders
        else f"a connection held a lock on the test's schema for {wait}, then let go"
    )


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to the newest schema."""
    engine = make_engine(db_url)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def standin() -> Iterator[SlackStandin]:
    with SlackStandin() as running:
        yield running


@pytest.fixture
def settings(db_url: str, standin: SlackStandin) -> Settings:
    return load_settings(
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        database_url=db_url,
        slack_api_url=standin.base_url,
        opsloop_timezone="UTC",
        _env_file=None,
    )


@pytest.fixture
def deps(
    settings: Settings,
    engine: Engine,
    sessions: SessionFactory,
    clock: FixedClock,
    standin: SlackStandin,
) -> Deps:
    client = make_web_client(token=BOT_TOKEN, base_url=standin.base_url)
    deps = deps_from_parts(settings=settings, engine=engine, client=client, clock=clock)
    deps.sessions = sessions  # the same factory the test's own fixtures write through
    return deps


@pytest.fixture
def executor() -> Iterator[TrackingExecutor]:
    pool = TrackingExecutor(max_workers=8)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def sender(deps: Deps) -> Iterator[OutboxSender]:
    """The outbox sender of `deps`, run by hand (`drain`), never as a background thread.
    It does not pace itself: the stand-in only rate-limits when a test tells it to, and
    the pacing tests (tests/outbox) build their own sender."""
    running = make_sender(deps, pacer=Pacer.unlimited())
    yield running
    running.stop()


@pytest.fixture
def slack(
    deps: Deps, standin: SlackStandin, executor: TrackingExecutor, sender: OutboxSender
) -> SlackDriver:
    """The real Bolt app, driven with signed Slack payloads, talking to the stand-in; what a
    request puts in the outbox is delivered before its result is returned."""
    app = build_app(deps, executor=executor)
    return SlackDriver(app, standin, executor, signing_secret=SIGNING_SECRET, sender=sender)
