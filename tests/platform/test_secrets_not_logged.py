"""Tokens never reach the logs, even at DEBUG."""

from __future__ import annotations

import logging

import pytest

from bot.deps import Deps
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.support.slack import SlackDriver


def test_tokens_absent_from_debug_logs(
    slack: SlackDriver, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack.command("/ops", "help")
    deps.client.chat_postMessage(channel="C1", text="hello")
    assert caplog.records, "debug logging produced nothing to check"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert BOT_TOKEN not in logged
    assert SIGNING_SECRET not in logged
