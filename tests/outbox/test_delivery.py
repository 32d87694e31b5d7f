"""Delivery through the outbox against the recording stand-in: once, in order, never
slept on, and never doubled when Slack's answer was lost or the sender died mid-send."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from bot.cli import cli
from bot.deps import Deps
from bot.outbox import delivery
from bot.outbox import models as outbox
from bot.outbox.service import enqueue_messages, get_entry
from bot.slack.client import make_sender_client
from bot.slack.sender import OutboxSender
from bot.wiring import make_sender, message_renderers
from storage.db import make_engine, make_session_factory, transaction
from storage.models.outbox import OutboxMessage
from tests.support.slack import SlackDriver, SlackStandin

TEAM = "T0001"
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def queue(deps: Deps, *messages: outbox.Outgoing) -> None:
    enqueue_messages(deps.sessions, team_id=TEAM, messages=messages, now=datetime.now(UTC))


def posts(standin: SlackStandin, channel: str) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in standin.calls("chat.postMessage")
        if c.params.get("channel") == channel
    ]


def test_a_key_is_delivered_once_however_often_it_is_queued(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    for _ in range(3):
        queue(deps, outbox.post("digest:2026-W48:team", "C1", "Weekly review"))
        sender.drain(10)
    assert posts(standin, "C1") == ["Weekly review"]
    entry = get_entry(deps.sessions, team_id=TEAM, key="digest:2026-W48:team")
    assert entry is not None and entry.state == "sent" and entry.posted_ts


def test_every_post_carries_its_key_in_message_metadata(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    queue(deps, outbox.post("k1", "C1", "hello"))
    sender.drain(10)
    [call] = standin.calls("chat.postMessage")
    assert call.params["metadata"] == {
        "event_type": outbox.METADATA_EVENT_TYPE,
        "event_payload": {"key": "k1", "team": TEAM},
    }


def test_a_post_answered_after_the_timeout_is_found_in_history_not_posted_again(
    deps: Deps, standin: SlackStandin
) -> None:
    """Slack posts it but answers after the client gave up: the row is *unsure*, and the
    next attempt finds the post by its metadata key instead of posting a second digest."""
    client = make_sender_client(token="xoxb-test", base_url=standin.base_url, timeout=1)
    sender = OutboxSender(deps.sessions, client, renderers=message_renderers(deps))
    try:
        standin.stall("chat.postMessage", seconds=2.5)
        queue(deps, outbox.post("digest:2026-W48:team", "C1", "Weekly review"))
        sender.run_once()
        entry = get_entry(deps.sessions, team_id=TEAM, key="digest:2026-W48:team")
        assert entry is not None and entry.state == "pending" and entry.unsure
        _due_now(deps)
        sender.drain(10)
    finally:
        sender.stop()
    assert posts(standin, "C1") == ["Weekly review"]  # once, though the first answer was lost
    assert standin.calls("conversations.history")
    entry = get_entry(deps.sessions, team_id=TEAM, key="digest:2026-W48:team")
    assert entry is not None and entry.state == "sent"
    assert entry.posted_ts == standin.calls("chat.postMessage")[0].response["ts"]


def test_a_sender_killed_after_posting_is_reconciled_not_reposted(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    """A sender died between Slack's ok and recording it: its claim goes stale, the row is
    looked for in the channel, found, and marked sent — one nudge, not two."""
    queue(deps, outbox.post("nudge:2026-12-01:U1", "U1", "You have 2 overdue items"))
    dead = make_sender(deps)
    [claimed] = _claim_as(dead, deps)
    dead._post(claimed, "U1", "You have 2 overdue items", None)  # posted, never recorded
    dead.stop()
    _age_claims(deps, minutes=5)
    sender.drain(10)
    assert len(posts(standin, "U1")) == 1
    assert standin.calls("conversations.open") and standin.calls("conversations.history")
    entry = get_entry(deps.sessions, team_id=TEAM, key="nudge:2026-12-01:U1")
    assert entry is not None and entry.state == "sent"


def test_a_sender_killed_before_posting_posts_once_after_looking(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    queue(deps, outbox.post("nudge:2026-12-01:U2", "U2", "One overdue item"))
    dead = make_sender(deps)
    [_] = _claim_as(dead, deps)  # claimed, then killed before the call
    dead.stop()
    _age_claims(deps, minutes=5)
    sender.drain(10)
    assert posts(standin, "U2") == ["One overdue item"]


def test_rate_limit_is_rescheduled_never_slept_on(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.fail("chat.postMessage", status=429, retry_after=30, times=1)
    queue(deps, outbox.post("k-429", "C1", "later"))
    started = datetime.now(UTC)
    sender.run_once()  # returns at once: the row waits 30 s in the database, not in a thread
    entry = get_entry(deps.sessions, team_id=TEAM, key="k-429")
    assert entry is not None and entry.state == "pending" and entry.error == "ratelimited"
    assert entry.next_attempt_at is not None
    assert entry.next_attempt_at - started >= timedelta(seconds=29)
    assert entry.attempts == 0  # a 429 is not a failed attempt
    # The channel is paused for Retry-After: a second message to it waits too.
    queue(deps, outbox.post("k-429-b", "C1", "also later"))
    sender.run_once()
    assert posts(standin, "C1") == []
    _due_now(deps)
    sender.pacer = type(sender.pacer)()  # (a new process: no pause remembered)
    sender.drain(10)
    assert posts(standin, "C1") == ["later", "also later"]


def test_one_message_per_second_per_channel(deps: Deps, standin: SlackStandin) -> None:
    standin.channel_rate_per_second = 1.0  # Slack's limit, answered with 429 beyond it
    queue(deps, *(outbox.post(f"k{i}", "C1", f"m{i}") for i in range(3)))
    queue(deps, *(outbox.post(f"d{i}", f"U{i}", "dm") for i in range(5)))
    sender = make_sender(deps)  # paced as in production
    try:
        sender.drain(20)
    finally:
        sender.stop()
    assert posts(standin, "C1") == ["m0", "m1", "m2"]  # in order
    assert [c.status for c in standin.calls("chat.postMessage", ok_only=False)].count(429) == 0


def test_replicas_together_keep_to_one_message_per_second_per_channel(
    deps: Deps, standin: SlackStandin
) -> None:
    # Two replicas' senders (each with a pacer of its own) drain one outbox: a channel's
    # next post waits for the other replica's last one too.
    standin.channel_rate_per_second = 1.0
    queue(deps, *(outbox.post(f"k{i}", "C1", f"m{i}") for i in range(4)))
    replicas = [make_sender(deps), make_sender(deps)]
    drained: list[bool] = []
    try:
        threads = [
            threading.Thread(target=lambda s=s: drained.append(s.drain(30))) for s in replicas
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for replica in replicas:
            replica.stop()
    assert drained == [True, True]
    assert posts(standin, "C1") == ["m0", "m1", "m2", "m3"]  # each once, in order
    assert [c.status for c in standin.calls("chat.postMessage", ok_only=False)].count(429) == 0


def replica_pass(deps: Deps, *, now: datetime, **options: Any) -> list[delivery.Claimed]:
    """One claim pass of another replica's sender: paced a post a second per channel, its
    own pacer admitting everything (only the rows' shared state holds a channel)."""
    return delivery.claim_due(
        deps.sessions,
        now=now,
        token="replica-b",
        admit=lambda *_: 0.0,
        max_claims=8,
        channel_interval=1.0,
        **options,
    )


def test_a_channel_another_replica_just_posted_to_waits_and_says_until_when(
    deps: Deps,
) -> None:
    # Replica A's post to C1 was answered 0.4 s ago: replica B's pass leaves C1's next
    # post for now and names the moment it may go (0.6 s on), not its idle poll; a post
    # to another channel goes at once.
    queue(deps, outbox.post("a-last", "C1", "from A"), outbox.post("b-next", "C1", "next"))
    queue(deps, outbox.post("b-other", "C2", "elsewhere"))
    now = datetime.now(UTC)
    with transaction(deps.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == "a-last")
            .values(state="sent", sent_at=now - timedelta(seconds=0.4))
        )
    held: list[float] = []

    claimed = replica_pass(deps, now=now, on_held=held.append)

    assert [c.key for c in claimed] == ["b-other"]
    assert held == [pytest.approx(0.6, abs=0.01)]
    later = replica_pass(deps, now=now + timedelta(seconds=0.6))
    assert [c.key for c in later] == ["b-next"]


def test_a_post_claimed_by_a_replica_that_died_does_not_hold_its_channel(deps: Deps) -> None:
    # A replica was killed mid-send a minute ago: its row still says `sending` until the
    # claim goes stale, but the channel's next post goes now.
    queue(deps, outbox.post("dead-claim", "C1", "lost?"), outbox.post("next", "C1", "next"))
    now = datetime.now(UTC)
    with transaction(deps.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == "dead-claim")
            .values(state="sending", claim_token="dead", claimed_at=now - timedelta(minutes=1))
        )

    claimed = replica_pass(deps, now=now, revive=False)

    assert [c.key for c in claimed] == ["next"]


def test_a_channel_held_for_another_replica_leaves_the_window_to_other_channels(
    deps: Deps,
) -> None:
    # C1 has a post in flight elsewhere and more queued than one pass reads: they make
    # room (rescheduled a moment on) so C2 is reached in the next pass.
    queue(deps, outbox.post("in-flight", "C1", "elsewhere"))
    queue(deps, *(outbox.post(f"c1-{i}", "C1", f"m{i}") for i in range(5)))
    queue(deps, outbox.post("c2", "C2", "other channel"))
    now = datetime.now(UTC)
    with transaction(deps.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == "in-flight")
            .values(state="sending", claim_token="other", claimed_at=now)
        )

    def claim(limit: int) -> list[str]:
        return [c.key for c in replica_pass(deps, now=now, limit=limit)]

    # Each pass reads 3 rows: C1's first is held, the others of C1 in the window pushed
    # out of it; C2 comes into the window within a few passes.
    passes = [claim(limit=3) for _ in range(4)]
    assert ["c2"] in passes
    assert all(keys in ([], ["c2"]) for keys in passes)


def test_a_refusal_that_cannot_change_is_given_up_and_the_actor_told(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.channels_without_bot.add("C0PRIVATE")
    queue(deps, outbox.post("k-refused", "C0PRIVATE", "hi", notify_user="U0ACTOR"))
    sender.drain(10)
    entry = get_entry(deps.sessions, team_id=TEAM, key="k-refused")
    assert entry is not None and (entry.state, entry.error) == ("failed", "not_in_channel")
    [notice] = posts(standin, "U0ACTOR")
    assert "<#C0PRIVATE>" in notice and f"opsloop outbox resend {entry.id}" in notice


def test_server_errors_are_retried_with_backoff(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.fail("chat.postMessage", status=500, error="internal_error", retry_after=None)
    queue(deps, outbox.post("k-500", "C1", "eventually"))
    sender.run_once()
    entry = get_entry(deps.sessions, team_id=TEAM, key="k-500")
    assert entry is not None and entry.state == "pending" and entry.attempts == 1
    _due_now(deps)
    sender.drain(10)
    assert posts(standin, "C1") == ["eventually"]


def test_an_ephemeral_the_channel_refuses_goes_by_dm(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.fail("chat.postEphemeral", status=200, error="channel_not_found", retry_after=None)
    queue(deps, outbox.tell_privately("k-eph", user_id="U9", channel="C9", text="receipt"))
    sender.drain(10)
    assert posts(standin, "U9") == ["receipt"]


def test_updates_of_one_message_are_coalesced_to_the_newest(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    for version in range(5):
        queue(
            deps,
            outbox.update("msg:update", of=None, channel="C1", ts="1.0", text=f"v{version}"),
        )
    sender.drain(10)
    assert [c.params["text"] for c in standin.calls("chat.update")] == ["v4"]


def test_a_thread_reply_waits_for_its_parent_and_uses_its_ts(
    deps: Deps, sender: OutboxSender, standin: SlackStandin
) -> None:
    standin.fail("chat.postMessage", status=500, error="internal_error", retry_after=None)
    parent = outbox.post("parent", "C1", "parent")
    queue(deps, parent, outbox.post("child", "C1", "child", thread_of="parent"))
    sender.run_once()
    assert standin.calls("chat.postMessage") == []  # the child never goes before its parent
    _due_now(deps)
    sender.drain(10)
    first, child = standin.calls("chat.postMessage")
    assert child.params["thread_ts"] == first.response["ts"]


@pytest.mark.postgres
def test_two_senders_on_postgresql_claim_disjoint_rows(
    deps: Deps, db_url: str, standin: SlackStandin
) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only (SKIP LOCKED)")
    queue(deps, *(outbox.post(f"n{i}", f"U{i:03d}", f"dm {i}") for i in range(60)))
    other_engine = make_engine(db_url)
    other = Deps(**{**deps.__dict__, "sessions": make_session_factory(other_engine)})
    senders = [make_sender(deps), make_sender(other)]
    barrier = threading.Barrier(2)

    def run(one: OutboxSender) -> None:
        barrier.wait()
        one.drain(30)

    threads = [threading.Thread(target=run, args=(s,)) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for one in senders:
        one.stop()
    other_engine.dispose()
    sent = [c.params["channel"] for c in standin.calls("chat.postMessage")]
    assert sorted(sent) == sorted(f"U{i:03d}" for i in range(60))  # each once


def test_cli_lists_failed_and_resends(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    standin.channels_without_bot.add("C0X")
    queue(deps, outbox.post("k-cli", "C0X", "stuck message"))
    sender.drain(10)
    entry = get_entry(deps.sessions, team_id=TEAM, key="k-cli")
    assert entry is not None
    runner = CliRunner()
    shown = runner.invoke(cli, ["outbox", "--failed"])
    assert shown.exit_code == 0, shown.output
    assert f"{entry.id:>6}  failed" in shown.output and "not_in_channel" in shown.output
    assert "stuck message" in shown.output
    again = runner.invoke(cli, ["outbox", "resend", str(entry.id)])
    assert again.exit_code == 0 and "pending again" in again.output
    assert runner.invoke(cli, ["outbox", "resend", str(entry.id)]).exit_code == 2
    standin.channels_without_bot.clear()
    sender.drain(10)
    assert posts(standin, "C0X") == ["stuck message"]
    assert runner.invoke(cli, ["outbox", "skip", "999999"]).exit_code == 2


def test_a_command_is_answered_while_slack_rate_limits_every_post(
    slack: SlackDriver, standin: SlackStandin, deps: Deps
) -> None:
    """The listener never waits on chat.postMessage: with every post 429'd, each detractor
    is acknowledged with its receipt and stored; the alerts go out once Slack accepts."""
    from bot.org import service as directory
    from bot.org import team_settings

    directory.set_team_setting(
        deps.sessions, team_id="T0001", key=team_settings.FEEDBACK_CHANNEL, value="C0FB"
    )
    standin.fail("chat.postMessage", status=429, retry_after=30, times=100)
    results = [slack.command("/feedback", f"Acme: broken {i} nps:1") for i in range(10)]
    assert all(r.status == 200 and "Logged feedback" in r.answer.params["text"] for r in results)
    assert posts(standin, "C0FB") == []
    _due_now(deps)
    standin.fail("chat.postMessage", status=200, error="ok_now", retry_after=None, times=0)
    with standin._lock:
        standin._failures.clear()
    assert slack.sender is not None
    slack.sender.pacer = type(slack.sender.pacer)()
    slack.deliver(horizon=15)
    assert len(posts(standin, "C0FB")) == 10


# -- helpers -------------------------------------------------------------------------------
def _claim_as(sender: OutboxSender, deps: Deps) -> list[object]:
    from bot.outbox import delivery

    return list(
        delivery.claim_due(
            deps.sessions,
            now=datetime.now(UTC),
            token=sender._token,
            admit=lambda *_: 0.0,
            max_claims=sender.workers,
        )
    )


def _age_claims(deps: Deps, *, minutes: int) -> None:
    with transaction(deps.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.state == "sending")
            .values(claimed_at=datetime.now(UTC) - timedelta(minutes=minutes))
        )


def _due_now(deps: Deps) -> None:
    with transaction(deps.sessions) as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=None))


def test_a_change_and_its_messages_commit_together(
    slack: SlackDriver, standin: SlackStandin, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detractor alert is queued in the record's own transaction: when queueing fails
    the record is not stored either, and the user is told nothing was saved."""
    from bot.feedback import service as feedback
    from bot.org import service as directory
    from bot.org import team_settings
    from bot.outbox import service as outbox_service
    from storage.errors import DatabaseUnavailableError

    directory.set_team_setting(
        deps.sessions, team_id="T0001", key=team_settings.FEEDBACK_CHANNEL, value="C0FB"
    )

    def lost(*_args: object, **_kwargs: object) -> bool:
        raise DatabaseUnavailableError("connection dropped")

    monkeypatch.setattr(outbox_service.rows, "enqueue", lost)
    result = slack.command("/feedback", "Acme: awful nps:1")
    assert result.status == 200
    assert "could not reach its database" in result.answer.params["text"]
    assert "Logged feedback" not in result.reply_text
    assert feedback.list_feedback_records(deps.sessions, team_id="T0001", since=None) == []
    assert posts(standin, "C0FB") == []


def test_stale_names_are_looked_up_by_the_sender_not_the_listener(
    slack: SlackDriver, standin: SlackStandin, deps: Deps
) -> None:
    """`/ops owners` answers from the cache; users.info for a stale owner is an outbox row
    the sender sends (paced, rescheduled on 429), and the cache has the name afterwards."""
    from bot.org import service as directory
    from bot.org.people import get_people

    standin.add_user("U0DANA", "Dana Okafor", tz="Europe/Berlin")
    directory.set_process_owner(
        deps.sessions,
        team_id=TEAM,
        process_key="feedback",
        process_name="Customer feedback",
        owner_id="U0DANA",
        actor_id="U0ADMIN",
        now=NOW,
    )
    standin.fail("users.info", status=429, retry_after=1, times=1)
    result = slack.command("/ops", "owners")
    assert "<@U0DANA>" in result.answer.params["text"]
    entry = get_entry(deps.sessions, team_id=TEAM, key="person:U0DANA")
    assert entry is not None and entry.state == "sent"  # after one 429, rescheduled
    [person] = get_people(deps.sessions, team_id=TEAM, user_ids=["U0DANA"]).values()
    assert (person.display_name, person.timezone) == ("Dana Okafor", "Europe/Berlin")
    again = slack.command("/ops", "owners")
    assert again.of("users.info") == []  # fresh now: not asked again
