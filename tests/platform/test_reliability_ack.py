"""A listener that acks and then fails answers Slack 200 at once, and tells the user once.

slack-bolt 1.30 alone answers such requests 404 after its 3 s ack timeout (or 500), so
Slack shows `dispatch_failed` next to our message; `handlers.errors.guarded` prevents that,
and every listener Opsloop registers is guarded.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.errors import UserError
from bot.slack.errors import guarded
from storage.errors import DatabaseUnavailableError
from tests.support.slack import SlackDriver

ROUNDS = 15


def _fails_after_ack(error: Exception) -> Any:
    def listener(ack: Ack) -> None:
        ack()
        raise error

    return guarded(listener)


def test_every_opsloop_listener_is_guarded(slack: SlackDriver) -> None:
    listeners = slack.app._listeners  # private, but the only way to list them
    assert len(listeners) >= 10
    unguarded = [
        getattr(listener.ack_function, "__name__", repr(listener))
        for listener in listeners
        if not getattr(listener.ack_function, "opsloop_guarded", False)
    ]
    assert unguarded == []


def test_command_failing_after_ack_is_answered_200_and_told_once(slack: SlackDriver) -> None:
    slack.app.command("/failing")(_fails_after_ack(UserError("That was wrong.", example="/x")))
    results = [slack.command("/failing", "x") for _ in range(ROUNDS)]
    assert [r.status for r in results] == [200] * ROUNDS
    for result in results:
        reply = result.answer
        assert reply.params["text"] == "That was wrong.\nExample: `/x`"


def test_lost_database_after_ack_is_answered_200(slack: SlackDriver) -> None:
    slack.app.command("/nodb")(_fails_after_ack(DatabaseUnavailableError("gone")))
    results = [slack.command("/nodb") for _ in range(ROUNDS)]
    assert [r.status for r in results] == [200] * ROUNDS
    assert all("could not reach its database" in r.reply_text for r in results)


def test_modal_submission_failing_after_ack_is_told_by_dm(slack: SlackDriver) -> None:
    slack.app.view("failing_modal")(_fails_after_ack(UserError("Could not save.")))
    results = [slack.submit("failing_modal", {}) for _ in range(5)]
    assert [r.status for r in results] == [200] * 5
    for result in results:
        [dm] = result.of("chat.postMessage")
        assert dm.params["channel"] == slack.user_id
        assert dm.params["text"] == "Could not save."


def test_command_failing_before_ack_is_acked_and_explained(slack: SlackDriver) -> None:
    def before_ack(ack: Ack) -> None:
        raise RuntimeError("boom")

    slack.app.command("/early")(guarded(before_ack))
    result = slack.command("/early")
    assert result.status == 200
    assert "Something went wrong" in result.reply_text
    assert "boom" not in result.reply_text


def test_modal_failing_before_ack_stays_open_with_the_reason(slack: SlackDriver) -> None:
    """The modal (and what the user typed) stays open, the reason under its first field."""

    def before_ack(ack: Ack) -> None:
        raise DatabaseUnavailableError("connection refused")

    slack.app.view("early_modal")(guarded(before_ack))
    field = {"v": {"type": "plain_text_input", "value": "typed"}}
    result = slack.submit("early_modal", {"title": field, "notes": field})
    assert result.status == 200
    assert result.body["response_action"] == "errors"
    assert list(result.body["errors"]) == ["title"]
    assert "could not reach its database" in result.body["errors"]["title"]
    assert result.of("chat.postMessage") == []  # said in the modal, not again by DM


def test_modal_without_fields_failing_before_ack_stays_open(slack: SlackDriver) -> None:
    """No field to show the reason under: Bolt's 500 keeps it open; the reason comes by DM."""

    def before_ack(ack: Ack) -> None:
        raise UserError("The database is read-only right now.")

    slack.app.view("early_modal")(guarded(before_ack))
    result = slack.submit("early_modal", {})
    assert result.status == 500  # Slack keeps the modal open and shows its own error
    [dm] = result.of("chat.postMessage")
    assert dm.params["text"] == "The database is read-only right now."
