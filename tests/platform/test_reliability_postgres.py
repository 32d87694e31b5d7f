"""PostgreSQL connections killed under load (pg_terminate_backend): every command is either
stored and confirmed, or the user is told it failed; the app recovers without a restart.

Only connections carrying this test's own application_name are killed: other sessions
share the server.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from slack_bolt import Ack, BoltContext
from slack_bolt.context.respond import Respond
from sqlalchemy import Engine, event, select

from bot.errors import StorageUnavailableError
from bot.org.service import set_team_setting
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.slack.context import deps_of
from bot.slack.errors import guarded
from bot.slack.executor import TrackingExecutor
from bot.wiring import build_app, deps_from_parts
from storage.db import make_engine, make_session_factory
from storage.models.org import TeamSetting
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.slack import SlackDriver, SlackStandin

STORE_COMMAND = "/storetest"
BURST = 60
FAILED_TEXT = StorageUnavailableError().user_text()


def handle_store(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    """Test-only listener: one write transaction per command, confirmed after commit."""
    ack()
    key = body["text"]
    set_team_setting(deps_of(context).sessions, team_id=body["team_id"], key=key, value="v")
    respond(text=f"stored {key}", response_type="ephemeral")


@dataclass
class Killable:
    app_name: str
    engine: Engine
    slack: SlackDriver

    def kill_all(self) -> int:
        """Terminate every backend of this test's app; how many were killed."""
        with psycopg.connect(_libpq(self.engine.url), autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = %s",
                (self.app_name,),
            ).fetchall()
        return len(rows)

    def stored_keys(self) -> set[str]:
        with make_session_factory(self.engine)() as session:
            return set(session.scalars(select(TeamSetting.key)))


def _libpq(url: Any) -> str:
    return (
        url.set(drivername="postgresql", query={})
        .render_as_string(hide_password=False)
        .replace("postgresql://", "postgresql://", 1)
    )


@pytest.fixture
def killable(
    db_url: str, engine: Engine, settings: Settings, standin: SlackStandin, clock: Any
) -> Iterator[Killable]:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    app_name = f"opsloop_kill_{uuid.uuid4().hex[:10]}"
    app_engine = make_engine(f"{db_url}&application_name={app_name}")
    deps = deps_from_parts(
        settings=settings,
        engine=app_engine,
        client=make_web_client(token=BOT_TOKEN, base_url=standin.base_url),
        clock=clock,
    )
    pool = TrackingExecutor(max_workers=8)
    app = build_app(deps, executor=pool)
    app.command(STORE_COMMAND)(guarded(handle_store))
    yield Killable(
        app_name, app_engine, SlackDriver(app, standin, pool, signing_secret=SIGNING_SECRET)
    )
    pool.shutdown(wait=True)
    app_engine.dispose()


def _replies(standin: SlackStandin) -> list[str]:
    return [str(c.params.get("text")) for c in standin.calls("response_url")]


@pytest.mark.postgres
def test_connections_killed_during_a_burst(killable: Killable, standin: SlackStandin) -> None:
    done = threading.Event()
    killed: list[int] = []

    def killer() -> None:
        while not done.is_set():
            killed.append(killable.kill_all())

    keys = [f"k{i:03d}" for i in range(BURST)]
    thread = threading.Thread(target=killer)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as senders:
            statuses = list(
                senders.map(lambda key: killable.slack.command(STORE_COMMAND, key).status, keys)
            )
    finally:
        done.set()
        thread.join(timeout=60)
    killable.slack.executor.wait_idle()

    assert sum(killed) > 0  # the fault really happened
    assert statuses == [200] * BURST  # every command was acknowledged
    replies = _replies(standin)
    assert len(replies) == BURST  # every user heard back exactly once
    confirmed = {r.removeprefix("stored ") for r in replies if r.startswith("stored ")}
    failures = [r for r in replies if not r.startswith("stored ")]
    assert failures == [FAILED_TEXT] * len(failures)  # the clear message, not a generic one
    stored = killable.stored_keys()
    assert confirmed <= stored  # never confirmed what was not stored
    assert len(stored - confirmed) <= len(failures)
    assert len(confirmed) + len(failures) == BURST

    # Recovery without restart: the next command is stored and confirmed.
    standin.clear()
    result = killable.slack.command(STORE_COMMAND, "after-the-storm")
    assert result.status == 200
    assert _replies(standin) == ["stored after-the-storm"]
    assert "after-the-storm" in killable.stored_keys()


@pytest.mark.postgres
def test_connection_killed_mid_transaction_keeps_nothing_and_says_so(
    killable: Killable, standin: SlackStandin
) -> None:
    armed = threading.Event()
    armed.set()

    @event.listens_for(killable.engine, "before_cursor_execute")
    def kill_before_update(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # After the INSERT of set_team_setting, before its UPDATE: mid-transaction.
        if armed.is_set() and statement.lstrip().upper().startswith("UPDATE"):
            armed.clear()
            assert killable.kill_all() >= 1

    result = killable.slack.command(STORE_COMMAND, "half-written")
    assert result.status == 200
    assert not armed.is_set()
    assert _replies(standin) == [FAILED_TEXT]
    assert "half-written" not in killable.stored_keys()  # the INSERT was rolled back

    standin.clear()
    killable.slack.command(STORE_COMMAND, "half-written")
    assert _replies(standin) == ["stored half-written"]
    assert "half-written" in killable.stored_keys()


@pytest.mark.postgres
def test_a_command_after_the_server_ended_every_idle_connection_is_stored(
    killable: Killable, standin: SlackStandin
) -> None:
    # Several connections in the pool, all idle, then all ended by the server (a restart
    # or a failover between two bursts): the next command takes a live one.
    with ThreadPoolExecutor(max_workers=6) as senders:
        list(senders.map(lambda key: killable.slack.command(STORE_COMMAND, key), ["a", "b", "c"]))
    killable.slack.executor.wait_idle()
    assert killable.kill_all() >= 1
    standin.clear()

    result = killable.slack.command(STORE_COMMAND, "after-the-restart")

    assert result.status == 200
    assert _replies(standin) == ["stored after-the-restart"]
    assert "after-the-restart" in killable.stored_keys()


@pytest.mark.postgres
def test_a_connection_lost_during_the_feedback_write_says_not_saved_and_the_next_is_stored(
    killable: Killable,
) -> None:
    """`/feedback <text>` is written through the driver in autocommit (storage.db): a
    connection the server ends after it left the pool is translated as SQLAlchemy would,
    invalidated, and the user told nothing was saved; the next command gets a new one."""
    feedback_rows = "SELECT count(*) FROM feedback WHERE text = 'export times out'"
    armed = threading.Event()

    def end_it_after_checkout(*_args: Any) -> None:
        # after the pool's own check of the connection (registered first): ended in use
        if armed.is_set():
            armed.clear()
            assert killable.kill_all() >= 1

    invalidated: list[BaseException | None] = []
    killable.slack.command("/feedback", "Warm-up: first request of the app")
    event.listen(killable.engine, "checkout", end_it_after_checkout)
    event.listen(killable.engine, "invalidate", lambda _c, _r, exc: invalidated.append(exc))
    armed.set()

    lost = killable.slack.command("/feedback", "Acme: export times out #billing")

    assert lost.status == 200 and not armed.is_set()
    # the write's own connection, found lost by the write (not by a later checkout)
    assert len(invalidated) == 1 and "terminat" in str(invalidated[0])
    assert lost.answer.params.get("text") == FAILED_TEXT
    with killable.engine.connect() as connection:
        assert connection.exec_driver_sql(feedback_rows).scalar() == 0

    stored = killable.slack.command("/feedback", "Acme: export times out #billing")

    assert "Logged" in str(stored.answer.params.get("text"))
    with killable.engine.connect() as connection:
        assert connection.exec_driver_sql(feedback_rows).scalar() == 1
