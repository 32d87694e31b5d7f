"""Slack answering 500 / 429 / late on posts and updates: nothing the user sent is lost,
the user is told what happened, and a retried send is never doubled."""

from __future__ import annotations

from typing import Any

import pytest

from bot.deps import Deps
from bot.feedback.service import list_feedback_records
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox.service import get_entry, list_entries
from bot.slack.sender import OutboxSender
from tests.support.checklists import (
    ONBOARDING,
    add_templates,
    click_item,
    current_message,
    ticked,
)
from tests.support.checklists import only_run as only_checklist
from tests.support.slack import SlackDriver, SlackStandin

FEED_CHANNEL = "C0FEED"
OWNER = "U0OWNER"
REPORTER = "U0001"
DETRACTOR = "Acme: the export keeps timing out nps:3"
CLIENT_TIMEOUT_S = 1
STALL_S = 2.5  # longer than the client waits: Slack did it, the bot never heard back
GENERIC_ERROR = "Something went wrong on our side"


@pytest.fixture
def alerting(deps: Deps, sender: OutboxSender) -> Deps:
    """Detractors are announced in a feedback channel and to the feedback process owner."""
    directory.set_team_setting(
        deps.sessions, team_id="T0001", key=team_settings.FEEDBACK_CHANNEL, value=FEED_CHANNEL
    )
    directory.set_process_owner(
        deps.sessions,
        team_id="T0001",
        process_key=directory.FEEDBACK_PROCESS,
        process_name="Feedback triage",
        owner_id=OWNER,
        actor_id="U0ADMIN",
        now=deps.clock(),
    )
    sender.client.timeout = CLIENT_TIMEOUT_S  # every post goes out through the sender
    return deps


def _stored(deps: Deps) -> list[str]:
    return [r.text for r in list_feedback_records(deps.sessions, team_id=None, since=None)]


def _posts(standin: SlackStandin, channel: str, *, ok_only: bool = True) -> list[Any]:
    return [
        c
        for c in standin.calls("chat.postMessage", ok_only=ok_only)
        if c.params.get("channel") == channel
    ]


@pytest.mark.parametrize(
    ("status", "retry_after"), [(500, None), (503, None), (429, 1)], ids=["500", "503", "429"]
)
def test_transient_post_failure_is_retried_once_and_not_doubled(
    slack: SlackDriver, alerting: Deps, standin: SlackStandin, status: int, retry_after: int | None
) -> None:
    standin.fail("chat.postMessage", status=status, error="oops", retry_after=retry_after)
    result = slack.command("/feedback", DETRACTOR)
    assert result.status == 200
    assert _stored(alerting) == ["the export keeps timing out"]
    assert len(_posts(standin, FEED_CHANNEL)) == 1
    assert len(_posts(standin, OWNER)) == 1
    assert [c.status for c in standin.calls("chat.postMessage", ok_only=False)][:2] == [status, 200]
    assert "Logged" in result.reply_text or "logged" in result.reply_text
    assert GENERIC_ERROR not in result.reply_text


def _refuse_posts_in(
    standin: SlackStandin, monkeypatch: pytest.MonkeyPatch, channel: str
) -> list[str]:
    """Slack answers 500 to every post in `channel` (and only there); the attempts made."""
    attempts: list[str] = []
    answer = standin.answer

    def refusing(method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if method == "chat.postMessage" and params.get("channel") == channel:
            attempts.append(str(params.get("text")))
            return 500, {}, {"ok": False, "error": "internal_error"}
        return answer(method, params)

    monkeypatch.setattr(standin, "answer", refusing)
    return attempts


def test_persistent_post_failure_keeps_the_record_and_says_so(
    slack: SlackDriver,
    alerting: Deps,
    standin: SlackStandin,
    sender: OutboxSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sender.max_attempts = 2  # give up after two tries (not eight, minutes of backoff apart)
    attempts = _refuse_posts_in(standin, monkeypatch, FEED_CHANNEL)
    result = slack.command("/feedback", DETRACTOR)
    assert result.status == 200
    assert _stored(alerting) == ["the export keeps timing out"]
    assert GENERIC_ERROR not in result.reply_text
    assert f"<#{FEED_CHANNEL}> is being told" in result.reply_text  # the receipt, stored first
    assert _posts(standin, FEED_CHANNEL) == []
    assert len(attempts) == 2  # retried after a backoff, then given up
    assert len(_posts(standin, OWNER)) == 1  # the owner still heard
    [entry] = [e for e in list_entries(alerting.sessions) if e.channel == FEED_CHANNEL]
    assert (entry.state, entry.error, entry.attempts) == ("failed", "internal_error", 2)
    # the reporter is told which alert could not be delivered, and how to resend it
    [notice] = _posts(standin, REPORTER)
    assert f"<#{FEED_CHANNEL}>" in notice.params["text"]
    assert f"opsloop outbox resend {entry.id}" in notice.params["text"]


def test_post_answered_too_late_is_not_repeated_and_the_record_kept(
    slack: SlackDriver, alerting: Deps, standin: SlackStandin
) -> None:
    standin.stall("chat.postMessage", seconds=STALL_S)
    result = slack.command("/feedback", DETRACTOR)
    assert result.status == 200
    assert _stored(alerting) == ["the export keeps timing out"]
    # Slack did post it; the bot timed out waiting, and did not post it a second time.
    assert len(_posts(standin, FEED_CHANNEL)) == 1
    assert len(_posts(standin, OWNER)) == 1
    # before sending again, the sender looked for the unanswered post in Slack and found it
    assert standin.calls("conversations.history") or standin.calls("conversations.replies")
    entries = list_entries(alerting.sessions)
    assert entries and all(e.state == "sent" for e in entries)
    assert GENERIC_ERROR not in result.reply_text  # "try again" would store it twice
    assert "the export keeps timing out" in result.reply_text


@pytest.fixture
def checklist(
    slack: SlackDriver, deps: Deps, standin: SlackStandin, sender: OutboxSender
) -> dict[str, Any]:
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme")
    sender.client.timeout = CLIENT_TIMEOUT_S  # the message is updated by the sender
    return current_message(standin, only_checklist(deps))


def _updates(standin: SlackStandin, *, ok_only: bool = True) -> list[Any]:
    return standin.calls("chat.update", ok_only=ok_only)


def _done(deps: Deps) -> list[bool]:
    return [item.done for item in only_checklist(deps).items]


@pytest.mark.parametrize(("status", "retry_after"), [(500, None), (429, 1)], ids=["500", "429"])
def test_transient_update_failure_is_retried_and_the_tick_kept(
    slack: SlackDriver,
    deps: Deps,
    standin: SlackStandin,
    checklist: dict[str, Any],
    status: int,
    retry_after: int | None,
) -> None:
    standin.fail("chat.update", status=status, error="oops", retry_after=retry_after)
    result = click_item(slack, checklist, 0)
    assert result.status == 200
    assert _done(deps) == [True, False, False]
    assert [c.status for c in _updates(standin, ok_only=False)] == [status, 200]
    assert not result.reply_text  # nothing to apologise for


def test_update_answered_too_late_keeps_the_tick_and_is_sent_again(
    slack: SlackDriver, deps: Deps, standin: SlackStandin, checklist: dict[str, Any]
) -> None:
    standin.stall("chat.update", seconds=STALL_S)
    result = click_item(slack, checklist, 1)
    assert result.status == 200
    assert _done(deps) == [False, True, False]
    assert not result.reply_text  # the tick was stored before the ack: nothing to apologise for
    # an update cannot be doubled, so the one whose answer was lost is simply sent again
    updates = _updates(standin)
    assert len(updates) == 2
    assert updates[0].params["blocks"] == updates[1].params["blocks"]
    assert ticked(current_message(standin, only_checklist(deps))) == {1}
    run = only_checklist(deps)
    entry = get_entry(deps.sessions, team_id="T0001", key=f"checklist:{run.key}:update")
    assert entry is not None and entry.state == "sent"


def test_checklist_post_failing_keeps_the_run_and_posts_it_once_slack_recovers(
    slack: SlackDriver, deps: Deps, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    standin.fail("chat.postMessage", status=500, error="internal_error", retry_after=None, times=2)
    result = slack.command("/checklist", "start onboarding Acme")
    assert result.status == 200
    assert "Started *Customer onboarding — Acme*" in result.reply_text  # stored, then answered
    assert GENERIC_ERROR not in result.reply_text
    # both attempts within the request's delivery were refused: stored, not yet posted
    assert standin.calls("chat.postMessage") == []
    assert len(standin.calls("chat.postMessage", ok_only=False)) == 2
    run = only_checklist(deps)
    assert not run.message_ts
    entry = get_entry(deps.sessions, team_id="T0001", key=f"checklist:{run.key}")
    assert entry is not None and (entry.state, entry.error) == ("pending", "internal_error")
    # the next retry goes through: posted once, and the run gets its message
    assert slack.deliver(horizon=10)
    [post] = standin.calls("chat.postMessage")
    assert post.params["channel"] == "C0001"
    assert only_checklist(deps).message_ts == post.response["ts"]
    entry = get_entry(deps.sessions, team_id="T0001", key=f"checklist:{run.key}")
    assert entry is not None and entry.state == "sent"


def test_escalation_post_answered_too_late_is_stored_once_and_not_reposted(
    slack: SlackDriver, deps: Deps, standin: SlackStandin
) -> None:
    from bot.escalations import service as escalations
    from tests.support.escalations import OWNER as ESCALATION_OWNER
    from tests.support.escalations import REPORTER, setup_roles, submit_new

    setup_roles(deps.sessions, deps.clock)
    directory.set_team_setting(
        deps.sessions, team_id="T0001", key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    assert slack.sender is not None
    slack.sender.client.timeout = CLIENT_TIMEOUT_S  # the escalation is posted by the sender
    standin.stall("chat.postMessage", seconds=STALL_S)
    result = submit_new(slack)
    assert result.status == 200
    stored = escalations.list_escalations(
        deps.sessions, team_id="T0001", scope="all", user_id=REPORTER, now=deps.clock()
    )
    assert len(stored) == 1
    # posted once in the escalation channel; no fallback copy where /escalate was typed
    assert len(_posts(standin, "C0ESC")) == 1
    assert _posts(standin, "C0001") == []
    assert len(_posts(standin, ESCALATION_OWNER)) == 1  # the owner still got the DM
    # the unanswered post was looked for in Slack before it could be sent again
    assert standin.calls("conversations.history") or standin.calls("conversations.replies")
    said = " ".join(str(c.params.get("text")) for c in result.calls)
    assert GENERIC_ERROR not in said
    assert result.of("chat.postEphemeral") or _posts(standin, REPORTER)  # reporter told


@pytest.mark.parametrize(("status", "retry_after"), [(500, None), (429, 1)], ids=["500", "429"])
def test_escalation_post_failing_transiently_is_retried_not_doubled(
    slack: SlackDriver, deps: Deps, standin: SlackStandin, status: int, retry_after: int | None
) -> None:
    from tests.support.escalations import setup_roles, submit_new

    setup_roles(deps.sessions, deps.clock)
    directory.set_team_setting(
        deps.sessions, team_id="T0001", key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    standin.fail("chat.postMessage", status=status, error="oops", retry_after=retry_after)
    assert submit_new(slack).status == 200
    assert len(_posts(standin, "C0ESC")) == 1
    assert _posts(standin, "C0001") == []
