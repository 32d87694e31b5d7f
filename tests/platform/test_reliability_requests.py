"""Forged, replayed and oversized requests through the WSGI app `opsloop serve` runs:
each is refused with a clean 401 or 413, and no listener runs."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from bot.deps import Deps
from bot.slack.http import MAX_BODY_BYTES, QueueDepthReport, SlackWsgiApp
from tests.conftest import SIGNING_SECRET
from tests.support.slack import SlackDriver, payloads

REPLAY_AFTER_S = 301


class _At(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


class _Input(io.BytesIO):
    """wsgi.input that remembers how much the app read."""


def _call(
    wsgi: SlackWsgiApp, body: bytes, headers: dict[str, str], content_length: str | None = None
) -> tuple[int, bytes, _Input]:
    stream = _Input(body)
    environ: dict[str, Any] = {
        "PATH_INFO": "/slack/events",
        "REQUEST_METHOD": "POST",
        "QUERY_STRING": "",
        "wsgi.input": stream,
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
    }
    for name, value in headers.items():
        if name.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    statuses: list[str] = []
    answer = b"".join(wsgi(environ, lambda status, _headers: statuses.append(status)))  # type: ignore[arg-type]
    return int(statuses[0].split()[0]), answer, stream


@pytest.fixture
def wsgi(slack: SlackDriver, deps: Deps) -> SlackWsgiApp:
    return SlackWsgiApp(slack.app, deps)


def _body(slack: SlackDriver, text: str = "help") -> str:
    return payloads.slash_command(
        "/ops",
        text,
        team_id="T0001",
        user_id="U0001",
        channel_id="C0001",
        response_url=slack.standin.response_url("replay"),
    )


def _no_listener_ran(slack: SlackDriver) -> bool:
    slack.executor.wait_idle()
    return slack.standin.calls(ok_only=False) == []


def test_correctly_signed_request_through_wsgi_is_answered(
    wsgi: SlackWsgiApp, slack: SlackDriver
) -> None:
    body = _body(slack)
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
    status, answer, _ = _call(wsgi, body.encode(), headers)
    assert status == 200
    # the command is answered in the HTTP response itself, not with a response_url post
    reply = json.loads(answer)
    assert reply["response_type"] == "ephemeral"
    assert "Opsloop commands" in reply["text"]
    slack.executor.wait_idle()
    assert slack.standin.calls("response_url") == []


def test_captured_request_replayed_after_301_seconds_is_rejected(
    wsgi: SlackWsgiApp, slack: SlackDriver
) -> None:
    captured_at = time.time() - REPLAY_AFTER_S
    body = _body(slack)
    headers = payloads.signed_headers(
        SIGNING_SECRET, body, content_type=payloads.FORM, timestamp=captured_at
    )
    # The captured request was genuine: Slack's verifier accepted it when it was sent.
    verifier = SignatureVerifier(SIGNING_SECRET, clock=_At(int(captured_at) + 1))
    assert verifier.is_valid_request(body, headers)

    status, answer, _ = _call(wsgi, body.encode(), headers)
    assert status == 401
    assert b"invalid request" in answer
    assert _no_listener_ran(slack)


def test_request_from_the_future_is_rejected(wsgi: SlackWsgiApp, slack: SlackDriver) -> None:
    body = _body(slack)
    headers = payloads.signed_headers(
        SIGNING_SECRET, body, content_type=payloads.FORM, timestamp=time.time() + REPLAY_AFTER_S
    )
    status, _, _ = _call(wsgi, body.encode(), headers)
    assert status == 401
    assert _no_listener_ran(slack)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda h: {**h, "x-slack-signature": "v0=" + "0" * 64}, id="zero-signature"),
        pytest.param(lambda h: {**h, "x-slack-signature": "garbage"}, id="garbage-signature"),
        pytest.param(lambda h: {**h, "x-slack-request-timestamp": "soon"}, id="timestamp-word"),
        pytest.param(lambda h: {**h, "x-slack-request-timestamp": ""}, id="timestamp-empty"),
        pytest.param(lambda h: {**h, "x-slack-request-timestamp": "1e9"}, id="timestamp-float"),
        pytest.param(
            lambda h: {k: v for k, v in h.items() if k != "x-slack-signature"}, id="no-signature"
        ),
        pytest.param(
            lambda h: {k: v for k, v in h.items() if k != "x-slack-request-timestamp"},
            id="no-timestamp",
        ),
    ],
)
def test_forged_headers_are_rejected_cleanly(
    wsgi: SlackWsgiApp, slack: SlackDriver, forge: Any
) -> None:
    body = _body(slack)
    headers = forge(payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM))
    status, _, _ = _call(wsgi, body.encode(), headers)
    calls_ok = _no_listener_ran(slack)
    assert (status, calls_ok) == (401, True), slack.standin.calls(ok_only=False)


def test_one_megabyte_body_is_refused_unread(wsgi: SlackWsgiApp, slack: SlackDriver) -> None:
    filler = "x" * (1024 * 1024)
    body = _body(slack, text=filler)
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
    status, answer, stream = _call(wsgi, body.encode(), headers)
    assert status == 413
    assert b"too large" in answer
    assert stream.tell() == 0  # not even read
    assert _no_listener_ran(slack)


def test_body_just_over_the_limit_is_refused(wsgi: SlackWsgiApp, slack: SlackDriver) -> None:
    body = b"a" * (MAX_BODY_BYTES + 1)
    status, _, _ = _call(wsgi, body, {"content-type": payloads.FORM})
    assert status == 413
    assert _no_listener_ran(slack)


@pytest.mark.parametrize("content_length", ["", "-5", "lots", "10"])
def test_missing_or_lying_content_length_is_rejected(
    wsgi: SlackWsgiApp, slack: SlackDriver, content_length: str
) -> None:
    body = _body(slack)
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
    status, _, _ = _call(wsgi, body.encode(), headers, content_length=content_length)
    assert status == 401  # only part (or none) of the signed body was read
    assert _no_listener_ran(slack)


def test_body_that_is_not_utf8_is_rejected(wsgi: SlackWsgiApp, slack: SlackDriver) -> None:
    raw = _body(slack).encode() + b"&x=\xff\xfe"
    timestamp = str(int(time.time()))
    import hashlib
    import hmac

    signature = (
        "v0="
        + hmac.new(
            SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + raw, hashlib.sha256
        ).hexdigest()
    )
    headers = {
        "content-type": payloads.FORM,
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
    }
    status, _, _ = _call(wsgi, raw, headers)
    assert status in (400, 401)
    assert _no_listener_ran(slack)


def test_serve_admits_more_than_waitress_default_connections_and_drops_idle_ones(
    slack: SlackDriver, deps: Deps
) -> None:
    """waitress admits 100 connections by default; 200 concurrent Slack requests then wait
    unaccepted past Slack's 3 s (bench: p95 15 s). `opsloop serve` admits them, and closes
    a connection idle for 10 s (waitress's default of 120 s let ~1,000 idle unauthenticated
    connections lock everyone else out)."""
    from bot.slack import http

    server = http.make_server(slack.app, deps, host="127.0.0.1", port=0, threads=16)
    try:
        assert server.adj.connection_limit >= 500
        assert server.adj.max_request_body_size == MAX_BODY_BYTES
        assert server.adj.channel_timeout <= 10
        assert server.adj.cleanup_interval <= 5
    finally:
        server.close()
        server.task_dispatcher.shutdown()


def _signed_headers(body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _interaction(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


_TEAM = {"id": "T0001", "domain": "acme"}
_USER = {"id": "U0001", "team_id": "T0001"}
# Shapes Slack never sends whose parts Bolt's matchers and middleware index into: each
# answered 500 with a traceback before (found by driving `opsloop serve` from outside).
MISSHAPEN_SLACK_PAYLOADS = [
    _interaction({"type": "block_actions", "team": _TEAM, "user": _USER, "actions": "x"}),
    _interaction({"type": "block_actions", "team": _TEAM, "user": _USER, "actions": ["x"]}),
    _interaction(
        {"type": "block_actions", "team": _TEAM, "user": _USER, "actions": [{"value": "1"}]}
    ),
    _interaction(
        {"type": "block_actions", "team": _TEAM, "user": _USER, "actions": [{"action_id": 7}]}
    ),
    _interaction(
        {"type": "block_actions", "team": _TEAM, "user": _USER, "actions": [{"action_id": ["a"]}]}
    ),
    _interaction({"type": "view_submission", "team": _TEAM, "user": _USER, "view": {"id": "V1"}}),
    _interaction({"type": "view_submission", "team": _TEAM, "user": _USER, "view": "V1"}),
    _interaction(
        {
            "type": "message_action",
            "team": _TEAM,
            "user": _USER,
            "channel": "C1",
            "callback_id": "log_feedback",
            "message": {"ts": "1.2", "text": "hi"},
        }
    ),
    _interaction({"type": "shortcut", "team": "T0001", "user": _USER, "callback_id": "x"}),
    json.dumps({"type": "event_callback", "team_id": "T0001", "event": "app_home_opened"}).encode(),
    json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "event": {"type": "x"},
            "authorizations": "T0001",
        }
    ).encode(),
]


NOT_SLACK_PAYLOADS = [
    *MISSHAPEN_SLACK_PAYLOADS,
    b"payload=notjson",
    b"payload=%5B1%5D",  # payload=[1]
    b"payload=null",
    b"payload=" + b"%5B" * 3000 + b"%5D" * 3000,  # nested deeper than the JSON parser goes
    b'{"type":',
    b"[1]",
    b"null",
]


@pytest.mark.parametrize("body", NOT_SLACK_PAYLOADS, ids=lambda b: b[:60].decode())
def test_unsigned_bodies_are_refused_before_anything_parses_them(
    wsgi: SlackWsgiApp, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: Bolt parsed each of these before checking the signature (HTTP 500, traceback)."""
    status, answer, _ = _call(wsgi, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, answer) == (401, b'{"error": "invalid request"}')
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize("body", NOT_SLACK_PAYLOADS, ids=lambda b: b[:60].decode())
def test_signed_bodies_that_are_not_slack_payloads_get_400(
    wsgi: SlackWsgiApp, slack: SlackDriver, body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    status, answer, _ = _call(wsgi, body, _signed_headers(body))
    assert (status, answer) == (400, b'{"error": "malformed request"}')
    assert not [r for r in caplog.records if r.exc_info]
    assert slack.standin.calls() == []


class _BlockingTask:
    """A stand-in for one request's task that holds its server thread until released."""

    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def service(self) -> None:
        self.release.wait(10)

    def cancel(self) -> None:
        self.release.set()


def test_a_burst_that_finds_every_server_thread_busy_is_logged_once_not_per_request(
    slack: SlackDriver, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    """waitress warns "Task queue depth is N" for every request queued behind busy
    threads: one WARNING line per request in a burst (and 8 % of the CPU). The server's
    dispatcher reports the burst once, with how many waited and the deepest queue."""
    from bot.slack import http

    server = http.make_server(slack.app, deps, host="127.0.0.1", port=0, threads=1)
    release = threading.Event()
    caplog.set_level(logging.WARNING)
    try:
        for _ in range(20):
            server.task_dispatcher.add_task(_BlockingTask(release))
    finally:
        release.set()
        server.close()
        server.task_dispatcher.shutdown()
    assert "Task queue depth" not in caplog.text
    reports = [r.getMessage() for r in caplog.records if "waiting for a free server" in r.msg]
    assert len(reports) == 1, reports
    assert "1 since the last report" in reports[0]


def _report_on_a_fake_clock(now: list[float], caplog: pytest.LogCaptureFixture) -> QueueDepthReport:
    """A report of one line a minute whose clock reads `now[0]`, its lines in `caplog`."""
    caplog.set_level(logging.WARNING, logger="test.queue")
    return QueueDepthReport(logging.getLogger("test.queue"), interval=60, clock=lambda: now[0])


def test_the_queue_report_says_how_many_waited_since_the_last_line_and_the_deepest_queue(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    report = _report_on_a_fake_clock(now, caplog)
    for depth in (1, 7, 3):
        report.warning("Task queue depth is %d", depth)
    now[0] += 59
    report.warning("Task queue depth is %d", 2)
    assert [r.getMessage() for r in caplog.records] == [
        "requests are waiting for a free server thread: 1 since the last report, at most 1 queued"
    ]
    now[0] += 1
    report.warning("Task queue depth is %d", 4)
    assert caplog.records[-1].getMessage() == (
        "requests are waiting for a free server thread: 4 since the last report, at most 7 queued"
    )
    assert len(caplog.records) == 2


def test_the_end_of_a_burst_is_reported_when_nothing_queues_after_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The server's main loop asks every turn: a burst's tail is written once the minute is
    # up, not left until the next burst (which may never come).
    now = [100.0]
    report = _report_on_a_fake_clock(now, caplog)
    for depth in (1, 9, 5):
        report.warning("Task queue depth is %d", depth)
    report.report_if_due()
    assert len(caplog.records) == 1  # the burst's first request, at once
    now[0] += 60
    report.report_if_due()
    assert caplog.records[-1].getMessage() == (
        "requests are waiting for a free server thread: 2 since the last report, at most 9 queued"
    )
    now[0] += 600
    report.report_if_due()  # nothing waited since: nothing to say
    assert len(caplog.records) == 2
