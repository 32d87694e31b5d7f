"""The stand-in's chat.postMessage limits: per channel, and the optional workspace cap."""

from __future__ import annotations

import pytest

from tests.support.slack import SlackStandin
from tests.support.slack import standin as standin_module


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(standin_module.time, "monotonic", fake)
    return fake


def post(standin: SlackStandin, channel: str) -> tuple[int, dict[str, str]]:
    status, headers, _ = standin.answer("chat.postMessage", {"channel": channel, "text": "hi"})
    return status, headers


def test_workspace_cap_is_off_by_default(ticks: FakeMonotonic) -> None:
    standin = SlackStandin()
    try:
        standin.channel_rate_per_second = 1
        assert [post(standin, f"D{i}")[0] for i in range(50)] == [200] * 50
    finally:
        standin._server.server_close()


def test_workspace_cap_answers_429_beyond_the_rolling_second(ticks: FakeMonotonic) -> None:
    standin = SlackStandin()
    try:
        standin.workspace_rate_per_second = 3
        statuses = [post(standin, f"D{i}") for i in range(4)]
        assert [s for s, _ in statuses] == [200, 200, 200, 429]
        assert statuses[3][1] == {"Retry-After": "1"}
        ticks.now += 0.5
        assert post(standin, "D9")[0] == 429  # still within the second of the first three
        ticks.now += 0.6
        assert [post(standin, f"E{i}")[0] for i in range(4)] == [200, 200, 200, 429]
        assert len(standin.calls("chat.postMessage")) == 6
        assert len(standin.calls("chat.postMessage", ok_only=False)) == 9
    finally:
        standin._server.server_close()


def test_per_channel_limit_still_applies_under_the_workspace_cap(ticks: FakeMonotonic) -> None:
    standin = SlackStandin()
    try:
        standin.channel_rate_per_second = 1
        standin.workspace_rate_per_second = 100
        assert post(standin, "D1")[0] == 200
        assert post(standin, "D1")[0] == 429
        assert post(standin, "D2")[0] == 200
        ticks.now += 1.0
        assert post(standin, "D1")[0] == 200
    finally:
        standin._server.server_close()
