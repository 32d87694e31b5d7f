"""`opsloop serve` as a subprocess, stopped mid-burst: by SIGTERM (every deploy) and by
kill -9. Every command Slack was answered 200 for is stored, once; a graceful stop ends
with exit status 0 and hands over what is left in the outbox."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.slack.sender import OutboxSender
from storage.db import make_engine
from storage.models.feedback import Feedback
from tests.conftest import SIGNING_SECRET
from tests.support.slack import SlackStandin, payloads

BURST = 40
# Commands sent at once while Slack rate-limits ("dozens").
COUNT = 24


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str
    database_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(tmp_path: Path, standin: SlackStandin, **extra_env: str) -> Served:
    """`opsloop serve` on a free port against the stand-in, once /healthz answers."""
    port = _free_port()
    database_url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": standin.base_url,
        "DATABASE_URL": database_url,
        **extra_env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None:
                output = process.stdout.read().decode()  # type: ignore[union-attr]
                raise AssertionError(output) from None
            time.sleep(0.05)
    return Served(process, base, database_url)


def _stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.kill()
    served.process.wait(timeout=30)


@pytest.fixture
def served(tmp_path: Path, standin: SlackStandin) -> Iterator[Served]:
    running = _start(tmp_path, standin)
    try:
        yield running
    finally:
        _stop(running)


def _command(served: Served, text: str) -> tuple[int, str]:
    body = payloads.slash_command(
        "/feedback",
        text,
        team_id="T0001",
        user_id="U0001",
        channel_id="C0001",
        response_url="https://hooks.slack.test/never-called",
        trigger_id="t",
    )
    headers = payloads.signed_headers(
        SIGNING_SECRET, body, content_type="application/x-www-form-urlencoded"
    )
    request = urllib.request.Request(
        served.base + "/slack/events", data=body.encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (OSError, http.client.HTTPException):
        # The connection was refused or cut, or the answer cut off half-way (IncompleteRead
        # is not an OSError): Slack would show a failure.
        return 0, ""


def _burst(served: Served, stop: signal.Signals) -> tuple[list[str], list[str]]:
    """BURST commands from 8 threads; the signal is sent after a quarter was answered."""
    acked: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    answered = threading.Semaphore(0)

    def send(i: int) -> None:
        text = f"Acme: burst item {i:03d}"
        status, body = _command(served, text)
        with lock:
            if status == 200 and "Logged feedback" in body:
                acked.append(f"burst item {i:03d}")
            else:
                refused.append(f"burst item {i:03d}")
        answered.release()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(BURST)]
    for index, thread in enumerate(threads):
        thread.start()
        if index % 8 == 7:
            time.sleep(0.01)
    for _ in range(BURST // 4):
        answered.acquire(timeout=30)
    served.process.send_signal(stop)
    for thread in threads:
        thread.join(30)
    return acked, refused


def _stored(database_url: str) -> list[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            texts = connection.execute(select(Feedback.text)).scalars().all()
            total = connection.execute(select(func.count()).select_from(Feedback)).scalar()
    finally:
        engine.dispose()
    assert total == len(texts)
    return [str(t) for t in texts]


def test_sigterm_mid_burst_loses_no_acknowledged_command_and_exits_0(served: Served) -> None:
    acked, _ = _burst(served, signal.SIGTERM)
    status = served.process.wait(timeout=30)
    output = served.process.stdout.read().decode()  # type: ignore[union-attr]
    assert status == 0, output
    assert "stopping: no new connections" in output
    stored = _stored(served.database_url)
    assert acked, "the burst was stopped before anything was answered"
    assert set(acked) <= set(stored)  # every 200 with a receipt is stored
    assert len(stored) == len(set(stored))  # and stored once


def test_kill_9_mid_burst_loses_no_acknowledged_command(served: Served) -> None:
    acked, refused = _burst(served, signal.SIGKILL)
    served.process.wait(timeout=30)
    stored = _stored(served.database_url)
    assert acked
    assert set(acked) <= set(stored)
    assert len(stored) == len(set(stored))
    # what was cut off was not answered 200: Slack told those users it failed
    assert len(acked) + len(refused) == BURST


def test_commands_are_acknowledged_in_time_while_slack_rate_limits_every_post(
    served: Served, standin: SlackStandin
) -> None:
    """Dozens of detractor scores at once while chat.postMessage answers 429 for a while:
    every command is answered within Slack's 3 s with its receipt and stored; the alerts
    follow once Slack accepts again, one per record."""
    _feedback_channel(served)
    # Several seconds of 429s (each pauses the channel for Retry-After)
    standin.fail("chat.postMessage", status=429, retry_after=2, times=4)
    timings: list[float] = []
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send(i: int) -> None:
        started = time.monotonic()
        answer = _command(served, f"Acme: rate limited {i:02d} nps:2")
        with lock:
            timings.append(time.monotonic() - started)
            answers.append(answer)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(COUNT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [status for status, _ in answers] == [200] * COUNT
    assert all("Logged feedback" in body for _, body in answers)
    assert max(timings) < 3.0  # Slack's deadline for an answer, not a benchmark
    assert len(_stored(served.database_url)) == COUNT
    alerts = standin.wait_for("chat.postMessage", COUNT, timeout=120)
    time.sleep(1)  # nothing more arrives
    alerts = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == "C0FB"]
    assert sorted(c.params["text"] for c in alerts) == sorted(set(c.params["text"] for c in alerts))
    assert len(alerts) == COUNT


def test_a_stopping_app_refuses_new_requests_unacknowledged(
    deps: Deps, standin: SlackStandin, sender: OutboxSender
) -> None:
    """`opsloop run` sets this on SIGTERM: a request arriving then is not acknowledged
    (Socket Mode sends no ack for a non-200), stores nothing and claims no event."""
    from bot.feedback import service as feedback
    from bot.slack.executor import TrackingExecutor
    from bot.wiring import build_app
    from tests.support.slack import SlackDriver

    stopping = threading.Event()
    pool = TrackingExecutor(max_workers=2)
    app = build_app(deps, executor=pool, stopping=stopping)
    driver = SlackDriver(app, standin, pool, signing_secret=SIGNING_SECRET, sender=sender)
    assert driver.command("/feedback", "Acme: before the stop").status == 200
    stopping.set()
    refused = driver.command("/feedback", "Acme: during the stop")
    assert refused.status == 503
    texts = [
        r.text for r in feedback.list_feedback_records(deps.sessions, team_id="T0001", since=None)
    ]
    assert texts == ["before the stop"]
    event = {"type": "app_home_opened", "user": "U0001", "tab": "home", "event_ts": "1.0"}
    assert driver.event(event, event_id="Ev0STOP").status == 503
    stopping.clear()  # the next process gets Slack's retry of the same event and runs it
    assert driver.event(event, event_id="Ev0STOP").status == 200
    assert standin.calls("views.publish")
    pool.shutdown(wait=True)


def _feedback_channel(served: Served, channel: str = "C0FB") -> None:
    from bot.org import team_settings
    from storage import org
    from storage.db import make_session_factory, transaction

    engine = make_engine(served.database_url)
    with transaction(make_session_factory(engine)) as session:
        org.set_team_setting(
            session, team_id="T0001", key=team_settings.FEEDBACK_CHANNEL, value=channel
        )
    engine.dispose()


def _alerts(standin: SlackStandin) -> list[str]:
    return [
        str(c.params["text"])
        for c in standin.calls("chat.postMessage")
        if c.params.get("channel") == "C0FB"
    ]


def test_a_post_answered_after_the_timeout_is_delivered_once(
    tmp_path: Path, standin: SlackStandin
) -> None:
    """Slack posts the alert but answers after the sender's timeout: the sender looks the
    post up by its metadata key instead of posting a second alert."""
    served = _start(tmp_path, standin, OPSLOOP_SLACK_TIMEOUT="1")
    try:
        _feedback_channel(served)
        standin.stall("chat.postMessage", seconds=2.5)
        status, body = _command(served, "Acme: answered late nps:1")
        assert status == 200 and "Logged feedback" in body
        standin.wait_for("conversations.history", 1, timeout=60)
        time.sleep(1.5)  # time for a (wrong) second post to arrive
        assert len(_alerts(standin)) == 1
    finally:
        _stop(served)


def test_a_sender_killed_after_posting_is_not_posted_again_by_the_next_process(
    tmp_path: Path, standin: SlackStandin
) -> None:
    """kill -9 while Slack is posting the alert (the post lands, its answer is never
    recorded); the next `opsloop serve` takes the claim over, finds the post, posts nothing."""
    served = _start(tmp_path, standin, OPSLOOP_OUTBOX_CLAIM_SECONDS="2")
    _feedback_channel(served)
    standin.stall("chat.postMessage", seconds=3)
    status, body = _command(served, "Acme: killed mid-post nps:1")
    assert status == 200 and "Logged feedback" in body
    standin.wait_for("chat.postMessage", 1, timeout=30)  # Slack has it (and stalls)
    served.process.send_signal(signal.SIGKILL)
    served.process.wait(timeout=30)
    again = _start(tmp_path, standin, OPSLOOP_OUTBOX_CLAIM_SECONDS="2")
    try:
        standin.wait_for("conversations.history", 1, timeout=60)
        time.sleep(1.5)
        assert len(_alerts(standin)) == 1
        engine = make_engine(again.database_url)
        with engine.connect() as connection:
            state = connection.exec_driver_sql(
                "SELECT state FROM outbox WHERE key LIKE 'feedback:%:detractor:channel'"
            ).scalar()
        engine.dispose()
        assert state == "sent"
    finally:
        _stop(again)
