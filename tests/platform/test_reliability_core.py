"""Slack's retries and rate limits: redelivered events run once, 429s wait and retry."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from tests.support.slack import SlackDriver, SlackStandin


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


def test_web_client_waits_out_429_and_delivers_once(deps: Deps, standin: SlackStandin) -> None:
    standin.fail("chat.postMessage", status=429, retry_after=1, times=2)
    response = deps.client.chat_postMessage(channel="C1", text="hello")
    assert response["ok"]
    attempts = standin.calls("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 429, 200]
    assert attempts[2].at - attempts[0].at >= 1.5  # Retry-After was honoured twice


def test_web_client_retries_server_errors(deps: Deps, standin: SlackStandin) -> None:
    standin.fail("chat.update", status=503, error="service_unavailable", retry_after=None)
    assert deps.client.chat_update(channel="C1", ts="1.1", text="x")["ok"]
    assert [c.status for c in standin.calls("chat.update", ok_only=False)] == [503, 200]


def test_slack_error_answers_are_not_retried(deps: Deps, standin: SlackStandin) -> None:
    standin.fail("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as info:
        deps.client.chat_postMessage(channel="C404", text="x")
    assert info.value.response["error"] == "channel_not_found"
    assert len(standin.calls("chat.postMessage", ok_only=False)) == 1
