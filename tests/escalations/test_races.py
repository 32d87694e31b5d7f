"""Consistency: double-clicks, two people acting at once, buttons on stale messages."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.clock import FixedClock
from bot.escalations import service
from bot.escalations.render import (
    ACKNOWLEDGE,
    REASSIGN,
    REOPEN,
    RESOLVE,
    SEVERITY,
    render_escalation_message,
)
from bot.slack.blocks import as_dicts
from storage.db import SessionFactory
from tests.support.escalations import (
    ADMIN,
    OWNER,
    PROCESS_OWNER,
    TEAM,
    action_ids,
    press,
    raise_escalation,
    setup_roles,
    submit_resolve,
    updates_of,
)
from tests.support.slack import ApiCall, Result, SlackDriver, SlackStandin


def _kinds(sessions: SessionFactory, escalation_id: int) -> list[str]:
    timeline = service.list_timeline(sessions, team_id=TEAM, escalation_id=escalation_id)
    return [t.kind for t in timeline]


def _told(result: Result, user: str) -> list[ApiCall]:
    """The private notes (ephemerals, through the outbox) a click got its user."""
    return [c for c in result.of("chat.postEphemeral") if c.params["user"] == user]


def _all_at_once(*actions: Callable[[], Any]) -> list[Any]:
    """Run each action in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = action()
        except BaseException as exc:  # surfaced below, in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_double_click_acknowledge_is_one_event(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    first = press(slack, ACKNOWLEDGE, e, user=OWNER)
    second = press(slack, ACKNOWLEDGE, e, user=OWNER)
    assert not first.of("response_url") and not _told(first, OWNER)
    # The refusal is a private note in the message's channel, not a reply to the click.
    assert not second.replies
    [note] = _told(second, OWNER)
    assert note.params["channel"] == e.channel_id and "already acknowledged" in note.params["text"]
    assert len(first.of("chat.postMessage")) == 1 and not second.of("chat.postMessage")
    # The second click still refreshes the (possibly stale) message.
    [update] = second.of("chat.update")
    assert action_ids(update.params["blocks"]) == [REASSIGN, RESOLVE, SEVERITY]
    assert _kinds(sessions, e.id) == ["opened", "acknowledged"]


def test_simultaneous_acknowledge_clicks_make_one_event(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock)
    users = [OWNER, OWNER, PROCESS_OWNER, ADMIN]
    results: list[Result] = _all_at_once(
        *[lambda u=u: press(slack, ACKNOWLEDGE, e, user=u) for u in users]
    )
    assert all(r.status == 200 for r in results)
    assert _kinds(sessions, e.id) == ["opened", "acknowledged"]
    thread_lines = [c for c in standin.calls("chat.postMessage") if c.params.get("thread_ts")]
    assert len(thread_lines) == 1
    refusals = [
        c
        for c in standin.calls("chat.postEphemeral")
        if c.params["user"] in users and "already acknowledged" in c.params["text"]
    ]
    assert len(refusals) == len(users) - 1
    assert not standin.calls("response_url")
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert after.status == "acknowledged" and after.version == 2


def test_service_level_acknowledge_race_with_many_threads(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    outcomes = _all_at_once(
        *[
            lambda: service.acknowledge_escalation(
                sessions, team_id=TEAM, escalation_id=e.id, actor_id=OWNER, now=clock()
            )
            for _ in range(8)
        ]
    )
    assert sum(o.event is not None for o in outcomes) == 1
    assert {o.refusal for o in outcomes if o.event is None} == {"already_acknowledged"}
    assert _kinds(sessions, e.id) == ["opened", "acknowledged"]


def test_acknowledge_and_resolve_racing_leave_a_valid_state_and_a_true_message(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    for _round in range(4):
        e = raise_escalation(slack, sessions, clock)
        _all_at_once(
            lambda e=e: press(slack, ACKNOWLEDGE, e, user=OWNER),
            lambda e=e: submit_resolve(slack, e.id, user=ADMIN),
        )
        after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
        # Resolve is allowed from open and from acknowledged, so it always wins in the end.
        assert after.status == "resolved" and after.resolved_by == ADMIN
        assert after.acknowledged_at is not None
        kinds = _kinds(sessions, e.id)
        assert kinds in (["opened", "acknowledged", "resolved"], ["opened", "resolved"])
        assert after.version == len(kinds)
        # Whatever order Slack received the updates in, the last one shows the database.
        text, blocks = render_escalation_message(after)
        last = updates_of(standin, after)[-1]
        assert last.params["blocks"] == as_dicts(blocks)
        assert last.params["text"] == text
        assert action_ids(last.params["blocks"]) == [REOPEN]


def test_reassign_and_resolve_racing_keep_both_or_refuse_one(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock)
    _all_at_once(
        lambda: service.reassign_escalation(
            sessions,
            team_id=TEAM,
            escalation_id=e.id,
            actor_id=ADMIN,
            new_owner_id="U0NEW",
            now=clock(),
        ),
        lambda: submit_resolve(slack, e.id, user=PROCESS_OWNER),
    )
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    kinds = _kinds(sessions, e.id)
    assert after.status == "resolved"
    # Either the reassignment came first (and counted), or it met a resolved escalation.
    assert kinds in (["opened", "reassigned", "resolved"], ["opened", "resolved"])
    assert (after.owner_id == "U0NEW") == ("reassigned" in kinds)


def test_acknowledge_on_a_resolved_escalation_acts_on_current_state(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    submit_resolve(slack, e.id, user=OWNER)
    # `e` is the stale view: its message still shows Acknowledge.
    result = press(slack, ACKNOWLEDGE, e, user=OWNER)
    assert not result.replies
    [note] = _told(result, OWNER)
    assert note.params["channel"] == e.channel_id
    assert "already resolved" in note.params["text"] and f"<@{OWNER}>" in note.params["text"]
    [update] = result.of("chat.update")
    assert action_ids(update.params["blocks"]) == [REOPEN]
    assert not result.of("chat.postMessage")
    assert _kinds(sessions, e.id) == ["opened", "resolved"]


def test_reassign_and_resolve_buttons_on_a_resolved_escalation(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    submit_resolve(slack, e.id, user=OWNER)
    for action in (REASSIGN, RESOLVE):
        result = press(slack, action, e, user=OWNER)
        [note] = _told(result, OWNER)
        assert "already resolved" in note.params["text"]
        assert not result.of("views.open")
        [update] = result.of("chat.update")
        assert action_ids(update.params["blocks"]) == [REOPEN]
    # A resolve modal opened before someone else resolved it changes nothing on submit.
    result = submit_resolve(slack, e.id, user=OWNER, root_cause="A different story")
    [dm] = result.of("chat.postMessage")
    assert dm.params["channel"] == OWNER and "already resolved" in dm.params["text"]
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert after.root_cause == "An expired TLS certificate at the card processor."


def test_reopen_on_an_open_escalation_changes_nothing(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    result = press(slack, REOPEN, e, user=OWNER)
    [note] = _told(result, OWNER)
    assert "not resolved" in note.params["text"]
    [update] = result.of("chat.update")
    assert action_ids(update.params["blocks"]) == [ACKNOWLEDGE, REASSIGN, RESOLVE, SEVERITY]
    assert _kinds(sessions, e.id) == ["opened"]


def test_failed_message_update_keeps_the_change(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    e = raise_escalation(slack, sessions, clock)
    standin.fail("chat.update", status=200, error="message_not_found", retry_after=None)
    result = press(slack, ACKNOWLEDGE, e, user=OWNER)
    assert result.status == 200
    assert not result.of("response_url")  # the acknowledgement itself worked
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert after.status == "acknowledged"


def test_a_slow_stale_update_is_corrected_by_a_refresh(
    slack: SlackDriver,
    sessions: SessionFactory,
    clock: FixedClock,
    standin: SlackStandin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The acknowledge's chat.update is still in flight when the resolve commits: the message
    must not end up showing "acknowledged". There is one update row per message, so the
    resolve cannot overtake the stale update; the row's revision moved on while it was being
    sent, so the sender sends it again, rendered from the database."""
    e = raise_escalation(slack, sessions, clock)
    real_update = WebClient.chat_update
    stale_started = threading.Event()

    def slow_stale_update(self: WebClient, **kwargs: Any) -> Any:
        if REOPEN not in action_ids(kwargs["blocks"]) and not stale_started.is_set():
            stale_started.set()
            time.sleep(0.5)  # the resolve below commits and updates meanwhile
        return real_update(self, **kwargs)

    # Bolt hands listeners a per-request copy of the client, so patch the class.
    monkeypatch.setattr(WebClient, "chat_update", slow_stale_update)
    clicker = threading.Thread(target=lambda: press(slack, ACKNOWLEDGE, e, user=OWNER))
    clicker.start()
    assert stale_started.wait(10)
    submit_resolve(slack, e.id, user=OWNER)
    clicker.join(30)
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert _kinds(sessions, e.id) == ["opened", "acknowledged", "resolved"]
    updates = updates_of(standin, after)
    assert [action_ids(u.params["blocks"]) for u in updates] == [
        [REASSIGN, RESOLVE, SEVERITY],  # the acknowledge's, arriving late
        [REOPEN],  # sent again because the resolve changed the row meanwhile
    ]
    assert updates[-1].params["blocks"] == as_dicts(render_escalation_message(after)[1])
