"""Slack's retries and rate limits: redelivered events run once; the outbox sender
reschedules 429s for Retry-After and retries server errors, never the listener client."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.outbox import models as outbox
from bot.outbox.models import OutboxEntry, Outgoing
from bot.outbox.service import enqueue_messages, get_entry
from bot.slack.sender import OutboxSender
from tests.support.slack import SlackDriver, SlackStandin

TEAM = "T0001"


def test_event_delivered_four_times_is_handled_once(slack: SlackDriver) -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def on_mention(event: dict[str, Any]) -> None:
        with lock:
            seen.append(event["text"])

    slack.app.event("app_mention")(on_mention)
    event = {"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1", "ts": "1.1"}
    results = [slack.event(event, event_id="Ev0DUPLICATE") for _ in range(4)]
    assert [r.status for r in results] == [200, 200, 200, 200]
    assert seen == ["hi"]
    slack.event(event, event_id="Ev0SOMETHINGNEW")
    assert seen == ["hi", "hi"]


def _queue(deps: Deps, message: Outgoing) -> None:
    assert enqueue_messages(deps.sessions, team_id=TEAM, messages=[message], now=deps.clock())


def _entry(deps: Deps, key: str) -> OutboxEntry:
    entry = get_entry(deps.sessions, team_id=TEAM, key=key)
    assert entry is not None
    return entry


def _utc(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_listener_client_does_not_wait_out_429(deps: Deps, standin: SlackStandin) -> None:
    """A listener thread never sleeps on Retry-After: the 429 is the caller's to handle."""
    standin.fail("chat.postMessage", status=429, retry_after=5)
    started = time.monotonic()
    with pytest.raises(SlackApiError) as info:
        deps.client.chat_postMessage(channel="C1", text="hello")
    assert time.monotonic() - started < 2
    assert info.value.response.status_code == 429
    assert [c.status for c in standin.calls("chat.postMessage", ok_only=False)] == [429]


def test_sender_reschedules_429_and_delivers_once(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.fail("chat.postMessage", status=429, retry_after=1, times=2)
    _queue(deps, outbox.post("test:hello", "C1", "hello"))
    started = time.monotonic()
    before = datetime.now(UTC)
    assert sender.run_once() == 1
    assert time.monotonic() - started < 1  # rescheduled, not slept on
    entry = _entry(deps, "test:hello")
    assert (entry.state, entry.error, entry.attempts) == ("pending", "ratelimited", 0)
    assert _utc(entry.next_attempt_at) >= before + timedelta(seconds=0.9)  # Retry-After
    assert sender.drain(30, horizon=3)
    attempts = standin.calls("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 429, 200]
    assert attempts[2].at - attempts[0].at >= 1.5  # Retry-After was honoured twice
    entry = _entry(deps, "test:hello")
    assert entry.state == "sent" and entry.posted_ts == attempts[2].response["ts"]
    assert entry.attempts == 1  # a 429 is not a failed attempt
    assert sender.drain(5, horizon=3)
    assert len(standin.calls("chat.postMessage")) == 1  # delivered once


def test_sender_retries_server_errors(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.fail("chat.update", status=503, error="service_unavailable", retry_after=None)
    _queue(deps, outbox.update("test:update", of=None, channel="C1", ts="1.1", text="x"))
    before = datetime.now(UTC)
    assert sender.run_once() == 1
    entry = _entry(deps, "test:update")
    assert (entry.state, entry.error, entry.attempts) == ("pending", "service_unavailable", 1)
    assert _utc(entry.next_attempt_at) > before + timedelta(seconds=1)  # backed off
    assert sender.drain(30, horizon=3)
    assert [c.status for c in standin.calls("chat.update", ok_only=False)] == [503, 200]
    assert _entry(deps, "test:update").state == "sent"


def test_slack_error_answers_are_not_retried(deps: Deps, standin: SlackStandin) -> None:
    standin.fail("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as info:
        deps.client.chat_postMessage(channel="C404", text="x")
    assert info.value.response["error"] == "channel_not_found"
    assert len(standin.calls("chat.postMessage", ok_only=False)) == 1
