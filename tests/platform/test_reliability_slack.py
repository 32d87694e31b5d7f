"""Slack answering 500 / 429 / late on posts and updates: nothing the user sent is lost,
the user is told what happened, and a retried send is never doubled."""

from __future__ import annotations

from typing import Any

import pytest

from bot.deps import Deps
from bot.feedback.service import list_feedback_records
from bot.org import service as directory
from bot.org import team_settings
from tests.support.checklists import ONBOARDING, add_templates, click_item, current_message
from tests.support.checklists import only_run as only_checklist
from tests.support.slack import SlackDriver, SlackStandin

FEED_CHANNEL = "C0FEED"
OWNER = "U0OWNER"
DETRACTOR = "Acme: the export keeps timing out nps:3"
CLIENT_TIMEOUT_S = 1
STALL_S = 2.5  # longer than the client waits: Slack did it, the bot never heard back
GENERIC_ERROR = "Something went wrong on our side"


@pytest.fixture
def alerting(deps: Deps) -> Deps:
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
    deps.client.timeout = CLIENT_TIMEOUT_S
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


def test_persistent_post_failure_keeps_the_record_and_says_so(
    slack: SlackDriver, alerting: Deps, standin: SlackStandin
) -> None:
    standin.fail("chat.postMessage", status=500, error="internal_error", retry_after=None, times=3)
    result = slack.command("/feedback", DETRACTOR)
    assert result.status == 200
    assert _stored(alerting) == ["the export keeps timing out"]
    assert _posts(standin, FEED_CHANNEL) == []  # three attempts, all refused
    assert len(_posts(standin, FEED_CHANNEL, ok_only=False)) == 3
    assert len(_posts(standin, OWNER)) == 1  # the owner still heard
    assert GENERIC_ERROR not in result.reply_text
    assert FEED_CHANNEL in result.reply_text  # the receipt says which alert failed


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
    assert GENERIC_ERROR not in result.reply_text  # "try again" would store it twice
    assert "the export keeps timing out" in result.reply_text


@pytest.fixture
def checklist(slack: SlackDriver, deps: Deps, standin: SlackStandin) -> dict[str, Any]:
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme")
    deps.client.timeout = CLIENT_TIMEOUT_S
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


def test_update_answered_too_late_keeps_the_tick_and_says_so(
    slack: SlackDriver, deps: Deps, standin: SlackStandin, checklist: dict[str, Any]
) -> None:
    standin.stall("chat.update", seconds=STALL_S)
    result = click_item(slack, checklist, 1)
    assert result.status == 200
    assert _done(deps) == [False, True, False]
    assert len(_updates(standin)) == 1  # not repeated
    assert GENERIC_ERROR not in result.reply_text
    assert "saved" in result.reply_text


def test_checklist_post_refused_stores_nothing_and_says_so(
    slack: SlackDriver, deps: Deps, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    standin.fail("chat.postMessage", status=500, error="internal_error", retry_after=None, times=3)
    result = slack.command("/checklist", "start onboarding Acme")
    assert result.status == 200
    assert standin.calls("chat.postMessage") == []
    from tests.support.checklists import active_runs

    assert active_runs(deps) == []
    assert result.reply_text  # the user heard back


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
    deps.client.timeout = CLIENT_TIMEOUT_S
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
