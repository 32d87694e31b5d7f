"""Socket Mode (`opsloop run`) end to end: the real Bolt app behind slack-bolt's
SocketModeHandler (bot/slack/socket_mode.py, slack-sdk's built-in client) connected to
a local WebSocket stand-in of Slack (tests/support/socket_mode.py), which the Web API
stand-in's `apps.connections.open` points at.

Slack pushes envelopes shaped as it documents them; each must be acked within 3 s with its
envelope id (a command's receipt rides in the ack), what was acked must be stored, what
it caused must reach the Web API through the outbox, and a refresh or a dropped
connection must end in a new connection that keeps working. One test runs `opsloop run`
itself and stops it with SIGTERM while connected.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.escalations import service as escalations
from bot.escalations.render import ACKNOWLEDGE
from bot.feedback.service import list_feedback_records
from bot.org import service as directory
from bot.org import team_settings
from bot.slack.executor import TrackingExecutor
from bot.slack.sender import OutboxSender
from bot.slack.socket_mode import SocketModeConnection
from bot.wiring import build_app
from storage.db import SessionFactory, make_engine, make_session_factory
from tests.support.escalations import OWNER, new_values, value_of
from tests.support.slack import SlackStandin, payloads
from tests.support.socket_mode import (
    ACK_DEADLINE_SECONDS,
    Ack,
    SocketModeStandin,
    events_api_envelope,
    interactive_envelope,
    slash_command_envelope,
)

APP_TOKEN = "xapp-1-A0OPSLOOP-test"
TEAM = "T0001"
USER = "U0001"
CHANNEL = "C0001"


@pytest.fixture
def socket_standin(standin: SlackStandin) -> Iterator[SocketModeStandin]:
    with SocketModeStandin() as running:
        standin.socket_mode_url = running.issue_url
        yield running


@dataclass
class Bot:
    """The in-process bot: Bolt app + SocketModeHandler, and the stand-ins it talks to."""

    socket: SocketModeStandin
    web: SlackStandin
    sender: OutboxSender
    listeners: TrackingExecutor
    handler: SocketModeConnection

    def exchange(self, envelope: dict[str, Any]) -> Ack:
        """Push one envelope, wait for its ack (checked against Slack's deadline), then let
        the listener finish and the outbox sender deliver what it caused."""
        envelope_id = self.socket.push(envelope)
        ack = self.socket.wait_ack(envelope_id)
        assert ack.envelope_id == envelope_id
        assert ack.latency < ACK_DEADLINE_SECONDS, f"{envelope['type']} acked late: {ack}"
        # An event is acked on receipt and handled after; everything else was stored first.
        self.listeners.wait_idle()
        assert self.sender.drain(30)
        return ack

    def command(self, command: str, text: str, *, user: str = USER) -> Ack:
        body = payloads.slash_command(
            command,
            text,
            team_id=TEAM,
            user_id=user,
            channel_id=CHANNEL,
            response_url=self.web.response_url("socket"),
            trigger_id="trigger-socket",
        )
        return self.exchange(slash_command_envelope(body))


@pytest.fixture
def bot(
    deps: Deps,
    standin: SlackStandin,
    socket_standin: SocketModeStandin,
    executor: TrackingExecutor,
    sender: OutboxSender,
) -> Iterator[Bot]:
    app = build_app(deps, executor=executor, stopping=threading.Event())
    # As `opsloop run` builds it; connect() starts the client's own threads (start() would
    # only add a wait forever on this thread).
    handler = SocketModeConnection(app, APP_TOKEN)
    handler.connect()
    socket_standin.wait_connected(1)
    try:
        yield Bot(socket_standin, standin, sender, executor, handler)
    finally:
        handler.close()


def _feedback_texts(sessions: SessionFactory) -> list[str]:
    return [r.text for r in list_feedback_records(sessions, team_id=TEAM, since=None)]


def test_connects_through_apps_connections_open_and_gets_hello(
    bot: Bot, standin: SlackStandin, socket_standin: SocketModeStandin
) -> None:
    assert len(standin.calls("apps.connections.open")) == 1
    assert socket_standin.urls_issued == 1
    assert socket_standin.connections() == 1
    assert socket_standin.refused == []  # the bot used the URL it was given, once
    assert socket_standin.unexpected == []  # a hello is not answered


def test_a_slash_command_is_stored_then_acked_with_its_receipt(
    bot: Bot, sessions: SessionFactory, standin: SlackStandin
) -> None:
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.FEEDBACK_CHANNEL, value="C0FB"
    )
    ack = bot.command("/feedback", "Acme: CSV export times out #reporting nps:3")
    # The receipt is the ack's payload: Slack shows it to the user, no response_url call.
    assert ack.payload is not None
    assert ack.payload["response_type"] == "ephemeral"
    assert "Logged feedback" in ack.payload["text"]
    assert "CSV export times out" in ack.payload["text"]
    assert not standin.calls("response_url")
    [record] = list_feedback_records(sessions, team_id=TEAM, since=None)
    assert (record.text, record.customer, record.nps_score) == ("CSV export times out", "Acme", 3)
    assert f"#{record.id}" in ack.payload["text"]
    # A detractor: the alert went to the feedback channel through the outbox.
    [alert] = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == "C0FB"]
    assert "CSV export times out" in json.dumps(alert.params)


def test_a_command_that_says_payload_is_a_command_over_a_socket(
    bot: Bot, sessions: SessionFactory
) -> None:
    """HTTP mode needs a workaround for Bolt's form parser (bot/slack/requests.py); a
    Socket Mode payload is JSON already and must reach the same listener."""
    ack = bot.command("/feedback", "Acme: show payload errors")
    assert ack.payload is not None and "Logged feedback" in ack.payload["text"]
    assert _feedback_texts(sessions) == ["show payload errors"]


def test_modal_submission_and_button_click_through_interactive_envelopes(
    bot: Bot, sessions: SessionFactory, standin: SlackStandin, clock: FixedClock
) -> None:
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    # /escalate opens the modal with its trigger (the one Web API call a listener makes).
    opened = bot.command("/escalate", "Checkout fails")
    assert opened.payload is None  # an empty ack: the modal is the answer
    [view_open] = standin.calls("views.open")
    assert view_open.params["trigger_id"] == "trigger-socket"
    metadata = view_open.params["view"]["private_metadata"]

    submitted = bot.exchange(
        interactive_envelope(
            payloads.view_submission(
                callback_id=view_open.params["view"]["callback_id"],
                values=new_values(title="Checkout fails", severity="sev2"),
                team_id=TEAM,
                user_id=USER,
                private_metadata=metadata,
                view_id="V0SOCKET1",
            )
        )
    )
    assert not (submitted.payload or {}).get("response_action")  # the modal closes
    [e] = escalations.list_escalations(
        sessions, team_id=TEAM, scope="all", user_id=USER, now=clock()
    )
    assert (e.title, e.status, e.severity, e.owner_id) == ("Checkout fails", "open", "sev2", OWNER)
    posts = {c.params["channel"]: c for c in standin.calls("chat.postMessage")}
    assert {"C0ESC", OWNER} <= set(posts)
    assert e.message_ts == posts["C0ESC"].response["ts"]

    clicked = bot.exchange(
        interactive_envelope(
            payloads.block_actions(
                [
                    {
                        "action_id": ACKNOWLEDGE,
                        "block_id": "b",
                        "type": "button",
                        "value": value_of(e.id),
                        "action_ts": "1.0",
                    }
                ],
                team_id=TEAM,
                user_id=OWNER,
                channel_id="C0ESC",
                response_url=standin.response_url("click"),
                message={"type": "message", "ts": e.message_ts, "text": "escalation"},
            )
        )
    )
    assert clicked.payload is None
    [after] = escalations.list_escalations(
        sessions, team_id=TEAM, scope="all", user_id=USER, now=clock()
    )
    assert after.status == "acknowledged"
    updates = [c for c in standin.calls("chat.update") if c.params["ts"] == e.message_ts]
    assert updates and "Acknowledged" in json.dumps(updates[-1].params)


def test_an_event_is_handled_once_even_when_slack_redelivers_it(
    bot: Bot, standin: SlackStandin
) -> None:
    event = {"type": "app_home_opened", "user": USER, "tab": "home", "event_ts": "1.0"}
    delivery = payloads.event_callback(event, team_id=TEAM, event_id="Ev0SOCKET1")
    first = bot.exchange(events_api_envelope(delivery))
    assert first.payload is None
    [published] = standin.calls("views.publish")
    assert published.params["user_id"] == USER
    # Slack thought the first ack was late: the same event again, marked as a retry.
    again = bot.exchange(events_api_envelope(delivery, retry_attempt=1, retry_reason="timeout"))
    assert again.envelope_id != first.envelope_id
    assert len(standin.calls("views.publish")) == 1


def test_refresh_requested_reconnects_through_a_new_url_and_keeps_working(
    bot: Bot, sessions: SessionFactory, standin: SlackStandin, socket_standin: SocketModeStandin
) -> None:
    bot.command("/feedback", "Acme: before the refresh")
    asked = socket_standin.request_refresh()
    fresh = socket_standin.wait_connected(2)
    socket_standin.wait_closed(asked)  # the bot hangs up the old one itself
    assert len(standin.calls("apps.connections.open")) == 2
    assert socket_standin.refused == []
    ack = bot.command("/feedback", "Acme: after the refresh")
    assert ack.connection == fresh
    assert _feedback_texts(sessions) == ["before the refresh", "after the refresh"]


def test_an_envelope_sent_while_the_bot_switches_connections_is_acked_once(
    bot: Bot, sessions: SessionFactory, socket_standin: SocketModeStandin
) -> None:
    """Slack may use the new connection as soon as it is open. slack-sdk's built-in client
    starts reading it only once it has closed the old one, which waits for the old reader's
    socket timeout (3 s), so this ack can come close to Slack's deadline: it is checked for
    arriving once and being stored, not for its latency."""
    socket_standin.request_refresh()
    fresh = socket_standin.wait_connected(2)
    body = payloads.slash_command(
        "/feedback",
        "Acme: during the switch",
        team_id=TEAM,
        user_id=USER,
        channel_id=CHANNEL,
        response_url=bot.web.response_url("switch"),
    )
    envelope_id = socket_standin.push(slash_command_envelope(body), link=fresh)
    ack = socket_standin.wait_ack(envelope_id)
    assert ack.payload is not None and "Logged feedback" in ack.payload["text"]
    assert _feedback_texts(sessions) == ["during the switch"]
    assert socket_standin.unexpected == []  # no second ack


def test_a_dropped_connection_is_replaced_and_the_bot_keeps_working(
    bot: Bot, sessions: SessionFactory, standin: SlackStandin, socket_standin: SocketModeStandin
) -> None:
    """The connection is reset without a close frame; the client's monitor (every 10 s,
    Bolt's ping interval) sees it is gone and connects through a new URL. (A peer that
    closes with a FIN and no close frame takes slack-sdk's built-in client about 50 s to
    notice, five failed pings, with its reader spinning meanwhile: not run here.)"""
    bot.command("/feedback", "Acme: before the drop")
    socket_standin.drop()
    fresh = socket_standin.wait_connected(2, timeout=60)
    assert len(standin.calls("apps.connections.open")) == 2
    ack = bot.command("/feedback", "Acme: after the drop")
    assert ack.connection == fresh
    assert _feedback_texts(sessions) == ["before the drop", "after the drop"]


class _PauseOnceReceivingStarts(logging.Filter):
    """Holds slack-sdk's session runner thread at its "Starting to receive messages" log
    line, which it writes after checking the connection is open and before resetting the
    session's `terminated` flag, until `release` is set: the window a close can land in."""

    def __init__(self) -> None:
        super().__init__()
        self.in_window = threading.Event()
        self.release = threading.Event()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Starting to receive") and not self.in_window.is_set():
            self.in_window.set()
            self.release.wait(60)
        return True


def test_close_landing_as_the_client_starts_reading_a_connection_returns(
    deps: Deps,
    socket_standin: SocketModeStandin,
    executor: TrackingExecutor,
) -> None:
    """A SIGTERM just after a (re)connect: slack-sdk's close() marks the session terminated
    and hangs up; its runner thread, already past its check that the socket is open, then
    marks it not terminated again and loops forever on the closed socket, and close() joins
    that thread with no timeout, so `opsloop run` never exits (seen once in CI as a test
    teardown stuck for 10 minutes). Here the runner is held in that window while close()
    runs, and close() must still return."""
    app = build_app(deps, executor=executor, stopping=threading.Event())
    handler = SocketModeConnection(app, APP_TOKEN)
    pause = _PauseOnceReceivingStarts()
    logger = handler.client.logger
    level = logger.level
    logger.setLevel(logging.INFO)  # a logger's filters see only the records it lets through
    logger.addFilter(pause)
    hang_up = handler.client.disconnect

    def hang_up_then_let_the_runner_go_on() -> None:
        hang_up()
        pause.release.set()

    handler.client.disconnect = hang_up_then_let_the_runner_go_on  # type: ignore[method-assign]
    try:
        handler.connect()
        assert pause.in_window.wait(30)
        closing = threading.Thread(target=handler.close, daemon=True)
        closing.start()
        closing.join(60)  # a hang, not a speed limit: close() takes well under a second
        assert not closing.is_alive(), "close() is stuck joining the session runner"
        assert not handler.client.current_session_runner.is_alive()
    finally:
        pause.release.set()
        logger.removeFilter(pause)
        logger.setLevel(level)


# -- `opsloop run` itself --------------------------------------------------------------------
def test_opsloop_run_serves_socket_mode_and_stops_cleanly_on_sigterm(
    tmp_path: Path, standin: SlackStandin, socket_standin: SocketModeStandin
) -> None:
    """The real command against the stand-ins: commands acked with their receipts and
    stored; SIGTERM while connected (and while commands keep coming) exits 0 after closing
    the connection, and every acked command is stored, once."""
    database_url = f"sqlite:///{tmp_path / 'run.db'}"
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": standin.base_url,
        "DATABASE_URL": database_url,
        "OPSLOOP_LOG_LEVEL": "INFO",
        # A stop that hangs is killed with SIGABRT below: the output then shows every thread.
        "PYTHONFAULTHANDLER": "1",
    }
    env.pop("SLACK_SIGNING_SECRET", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--no-scheduler"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        link = socket_standin.wait_connected(1, timeout=60)

        def command(text: str) -> str:
            body = payloads.slash_command(
                "/feedback",
                text,
                team_id=TEAM,
                user_id=USER,
                channel_id=CHANNEL,
                response_url=standin.response_url("run"),
            )
            return socket_standin.push(slash_command_envelope(body))

        first = socket_standin.wait_ack(command("Acme: first over the socket"), timeout=30)
        assert first.latency < ACK_DEADLINE_SECONDS
        assert first.payload is not None and "Logged feedback" in first.payload["text"]

        # Commands keep arriving while the stop happens.
        sent = {command(f"Acme: burst {i:02d}"): f"burst {i:02d}" for i in range(10)}
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=30)
            output = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"`opsloop run` did not stop on SIGTERM:\n{output}") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    output = process.stdout.read().decode() if process.stdout else ""
    assert status == 0, output
    assert "Traceback" not in output, output
    socket_standin.wait_closed(link, timeout=10)

    engine = make_engine(database_url)
    try:
        stored = _feedback_texts(make_session_factory(engine))
    finally:
        engine.dispose()
    acks = socket_standin.acks()
    acked = [text for envelope_id, text in sent.items() if envelope_id in acks]
    for envelope_id in sent:
        if envelope_id in acks:
            assert acks[envelope_id].latency < ACK_DEADLINE_SECONDS
    assert "first over the socket" in stored
    assert set(acked) <= set(stored)  # nothing acked is lost
    assert len(stored) == len(set(stored))  # and nothing is stored twice
