"""`/ops help` through the real app, and the error handler."""

from __future__ import annotations

import pytest

from bot.org import owners
from handlers.ops import COMMAND_HELP
from tests.support.slack import SlackDriver


def test_ops_help_lists_every_command(slack: SlackDriver) -> None:
    result = slack.command("/ops", "help")
    assert result.status == 200
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert len(COMMAND_HELP) == 7
    for entry in COMMAND_HELP:
        assert entry.command in reply.params["text"]


@pytest.mark.parametrize("text", ["", "frobnicate", "<!channel> please"])
def test_ops_unknown_or_empty_text_shows_help(slack: SlackDriver, text: str) -> None:
    result = slack.command("/ops", text)
    reply = result.answer
    assert "Opsloop commands" in reply.params["text"]
    if text:
        assert "I don't know" in reply.params["text"]
        # what the user typed is echoed escaped, so it cannot ping anyone
        assert "<!channel>" not in reply.params["text"]


def test_user_error_becomes_ephemeral(slack: SlackDriver) -> None:
    result = slack.command("/ops", "digest frobnicate")  # the subcommand raises a UserError
    assert result.status == 200  # slack-bolt 1.30 would answer 500 or a late 404
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert "Try `/ops digest preview`" in reply.params["text"]
    assert "Example: `/ops digest preview [2026-W47]`" in reply.params["text"]


def test_unexpected_error_shows_an_id_and_logs_it(
    slack: SlackDriver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    # a bug deep inside the use case that builds the answer (the people cache lookup)
    monkeypatch.setattr(owners, "get_people", crash)
    result = slack.command("/ops", "owners")
    assert result.status == 200
    reply = result.answer  # the one reply: the error, in the command's ack
    assert reply.method == "ack"
    assert "error id" in reply.params["text"]
    error_id = reply.params["text"].split("`")[1]
    assert any(error_id in r.getMessage() for r in caplog.records)
    assert "kaboom" not in reply.params["text"]
