"""Overdue nudges: local morning per owner, once a day, Done / Snooze, process-owner reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.clock import FixedClock
from bot.deps import Deps
from bot.nudges.render import DONE_ACTION, SNOOZE_ACTION
from bot.org import service as directory
from bot.org import team_settings
from bot.org.people import get_people
from bot.outbox.models import Queued
from bot.outbox.service import get_entry
from bot.wiring import make_sender
from schedules import nudge_job
from schedules.runner import run_once
from storage.core import upsert_person
from storage.db import transaction
from tests.conftest import BOT_TOKEN
from tests.support.escalations import raise_escalation
from tests.support.schedule import OverdueBoard, run_and_deliver
from tests.support.slack import ApiCall, Result, SlackDriver, SlackStandin

TEAM = "T0001"
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
LONG_AGO = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def board(deps: Deps) -> OverdueBoard:
    """One fake nudge source whose items the test adds; no digest sections."""
    found = OverdueBoard()
    deps.nudge_sources = (found.as_source(),)
    deps.digest_sections = ()
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.TEAM_TIMEZONE, value="UTC"
    )
    return found


def person(deps: Deps, user_id: str, tz: str | None) -> None:
    with transaction(deps.sessions) as session:
        upsert_person(
            session,
            team_id=TEAM,
            user_id=user_id,
            display_name=user_id,
            timezone=tz,
            is_deleted=False,
            refreshed_at=MONDAY,
        )


def dms(standin: SlackStandin, user_id: str) -> list[ApiCall]:
    """DMs Slack accepted (a scripted ok=false answer is recorded with status 200 too)."""
    return [
        c
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == user_id and c.response.get("ok")
    ]


def buttons(call: ApiCall, action_id: str) -> list[str]:
    return [
        e["value"]
        for b in call.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    ]


def click_in(slack: SlackDriver, dm: ApiCall, action: str, value: str) -> Result:
    """Press a button of a nudge DM, as Slack sends it: from the DM's channel and message."""
    return slack.click(
        action,
        value,
        user=dm.params["channel"],
        channel=dm.response["channel"],
        message={"ts": dm.response["ts"], "text": dm.params["text"]},
    )


def updates_of(result: Result, dm: ApiCall) -> list[ApiCall]:
    """The click is acked with nothing to say; the DM itself is updated through the outbox."""
    assert result.status == 200 and not result.body
    assert result.of("response_url") == []
    updates = result.of("chat.update")
    for update in updates:
        assert update.params["channel"] == dm.response["channel"]
        assert update.params["ts"] == dm.response["ts"]
    return updates


def tick_hourly(deps: Deps, clock: FixedClock, until: datetime) -> list[tuple[str, str, int]]:
    """Run the scheduler every hour up to `until`; (kind, user, UTC hour) of each send."""
    sent = []
    while clock.now < until:
        for result in run_and_deliver(deps, clock()).nudges:
            if result.outcome == "queued":
                sent.append((result.kind, result.user_id, clock.now.hour))
        clock.advance(hours=1)
    return sent


def test_owners_in_three_timezones_are_each_nudged_in_their_own_morning(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    person(deps, "ULA", "America/Los_Angeles")
    person(deps, "UBER", "Europe/Berlin")
    person(deps, "UTOK", "Asia/Tokyo")
    for user in ("ULA", "UBER", "UTOK"):
        board.add(f"i-{user}", user, LONG_AGO)
    clock.now = MONDAY
    sent = tick_hourly(deps, clock, MONDAY + timedelta(days=1))
    # 10:00 local on Monday 2026-11-23: Tokyo 01:00 UTC, Berlin 09:00 UTC, LA 18:00 UTC
    assert sent == [("nudge", "UTOK", 1), ("nudge", "UBER", 9), ("nudge", "ULA", 18)]
    for user in ("ULA", "UBER", "UTOK"):
        [dm] = dms(standin, user)
        assert f"Task i-{user}" in dm.params["text"]


def test_no_nudges_at_the_weekend_and_person_without_timezone_uses_the_team_one(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.TEAM_TIMEZONE, value="Europe/Berlin"
    )
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.NUDGE_TIME, value="08:00"
    )
    board.add("a", "UNOTZ", LONG_AGO)
    clock.now = datetime(2026, 11, 21, tzinfo=UTC)  # Saturday
    assert tick_hourly(deps, clock, MONDAY) == []
    assert tick_hourly(deps, clock, MONDAY + timedelta(hours=12)) == [("nudge", "UNOTZ", 7)]


def test_one_nudge_per_person_per_day_listing_everything(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    board.add("a", "U1", LONG_AGO)
    board.add("b", "U1", LONG_AGO + timedelta(hours=1))
    clock.now = MONDAY + timedelta(hours=10)
    run_and_deliver(deps, clock())
    board.add("c", "U1", LONG_AGO)  # turns up after today's nudge went out
    clock.advance(minutes=5)
    run_and_deliver(deps, clock())
    [dm] = dms(standin, "U1")
    assert "You have *2* overdue items" in dm.params["text"]
    assert [json.loads(v)["i"] for v in buttons(dm, DONE_ACTION)] == ["a", "b"]
    clock.now = MONDAY + timedelta(days=1, hours=10)
    run_and_deliver(deps, clock())
    assert len(dms(standin, "U1")) == 2
    assert "You have *3* overdue items" in dms(standin, "U1")[-1].params["text"]


def test_snooze_skips_tomorrow_and_returns_the_day_after(
    deps: Deps,
    standin: SlackStandin,
    clock: FixedClock,
    board: OverdueBoard,
    slack: SlackDriver,
) -> None:
    board.add("a", "U0001", LONG_AGO, title="Call back <Acme> & co")
    clock.now = MONDAY + timedelta(hours=10)
    run_and_deliver(deps, clock())
    [dm] = dms(standin, "U0001")
    assert "Call back &lt;Acme&gt; &amp; co" in dm.params["text"]
    [value] = buttons(dm, SNOOZE_ACTION)
    clock.advance(minutes=20)
    result = click_in(slack, dm, SNOOZE_ACTION, value)
    [update] = updates_of(result, dm)
    assert "Snoozed" in update.params["text"]
    assert "Nothing of yours is overdue" in update.params["text"]
    standin.clear()
    clock.now = MONDAY + timedelta(days=1)  # Tuesday: skipped all day
    assert tick_hourly(deps, clock, MONDAY + timedelta(days=2)) == []
    # Wednesday: back in the nudge
    assert tick_hourly(deps, clock, MONDAY + timedelta(days=2, hours=11)) == [
        ("nudge", "U0001", 10)
    ]
    assert "Call back" in dms(standin, "U0001")[0].params["text"]


def test_done_button_closes_the_item_through_its_source(
    deps: Deps,
    standin: SlackStandin,
    clock: FixedClock,
    board: OverdueBoard,
    slack: SlackDriver,
) -> None:
    board.add("a", "U0001", LONG_AGO)
    board.add("b", "U0001", LONG_AGO)
    clock.now = MONDAY + timedelta(hours=10)
    run_and_deliver(deps, clock())
    [dm] = dms(standin, "U0001")
    done_a = buttons(dm, DONE_ACTION)[0]
    result = click_in(slack, dm, DONE_ACTION, done_a)
    assert board.done_by == [("a", "U0001")]
    [update] = updates_of(result, dm)
    assert "Marked done" in update.params["text"]
    assert "You have *1* overdue item" in update.params["text"]
    assert "Task b" in update.params["text"] and "Task a" not in update.params["text"]
    assert buttons(update, DONE_ACTION) == [buttons(dm, DONE_ACTION)[1]]
    clock.now = MONDAY + timedelta(days=1, hours=10)
    run_and_deliver(deps, clock())
    assert "Task a" not in dms(standin, "U0001")[-1].params["text"]


def test_a_done_button_posted_before_the_id_rename_still_works(
    deps: Deps,
    standin: SlackStandin,
    clock: FixedClock,
    board: OverdueBoard,
    slack: SlackDriver,
) -> None:
    """Nudge DMs from before action ids were `domain.verb` say `nudge_done`; still clickable."""
    assert DONE_ACTION == "nudge.done"
    board.add("a", "U0001", LONG_AGO)
    clock.now = MONDAY + timedelta(hours=10)
    run_and_deliver(deps, clock())
    [dm] = dms(standin, "U0001")
    result = slack.click("nudge_done", buttons(dm, DONE_ACTION)[0], user="U0001")
    assert result.status == 200
    assert board.done_by == [("a", "U0001")]


@pytest.mark.parametrize("value", ["not json", '{"s": "nope", "i": "1"}', "{}"])
def test_broken_or_stale_buttons_explain(
    slack: SlackDriver, board: OverdueBoard, value: str
) -> None:
    result = slack.click(DONE_ACTION, value, message={"ts": "1.1"})
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert "out of date" in reply.params["text"] or "can no longer be found" in reply.params["text"]
    assert board.done_by == []


def test_items_overdue_past_the_threshold_go_to_the_process_owner_once_a_day(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    directory.set_process_owner(
        deps.sessions,
        team_id=TEAM,
        process_key="onboarding",
        process_name="Customer onboarding",
        owner_id="UPO",
        actor_id="UADMIN",
        now=MONDAY,
    )
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.NUDGE_THRESHOLD_DAYS, value="4"
    )
    person(deps, "UPO", "Asia/Tokyo")
    clock.now = MONDAY + timedelta(hours=10)
    board.add("late", "U0ANN", clock.now - timedelta(days=5), process_key="onboarding")
    board.add("recent", "U0ANN", clock.now - timedelta(days=2), process_key="onboarding")
    board.add("own", "UPO", clock.now - timedelta(days=9), process_key="onboarding")
    board.add("noprocess", "U0ANN", clock.now - timedelta(days=9))
    # Monday 10:00 UTC is 19:00 in Tokyo: the process owner hears on Tuesday morning
    assert {(k, u) for k, u, _ in tick_hourly(deps, clock, clock.now + timedelta(hours=1))} == {
        ("nudge", "U0ANN")
    }
    sent = tick_hourly(deps, clock, MONDAY + timedelta(days=1, hours=3))
    assert ("nudge_escalation", "UPO", 1) in sent and ("nudge", "UPO", 1) in sent
    [report] = [c for c in dms(standin, "UPO") if "processes you own" in c.params["text"]]
    assert "Task late" in report.params["text"] and "<@U0ANN>" in report.params["text"]
    for absent in ("Task recent", "Task own", "Task noprocess"):
        assert absent not in report.params["text"]
    assert "more than 4 days" in report.params["text"]


def test_ops_nudge_preview_shows_only_my_items(
    slack: SlackDriver, clock: FixedClock, board: OverdueBoard, standin: SlackStandin
) -> None:
    board.add("mine", "U0001", LONG_AGO)
    board.add("theirs", "U0002", LONG_AGO)
    clock.now = datetime(2026, 11, 22, 3, tzinfo=UTC)  # a Sunday night: previews work anyway
    result = slack.command("/ops", "nudge preview")
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert "Task mine" in reply.params["text"] and "Task theirs" not in reply.params["text"]
    assert standin.calls("chat.postMessage") == []
    bad = slack.command("/ops", "nudge everyone")
    assert "/ops nudge preview" in bad.reply_text


def test_done_in_the_preview_replaces_the_ephemeral_preview(
    slack: SlackDriver, deps: Deps, clock: FixedClock, board: OverdueBoard, standin: SlackStandin
) -> None:
    """The preview is an ephemeral message, which chat.update cannot reach: Done there
    answers through its response_url (it used to queue a chat.update Slack refused, and
    every admin was told a message could not be delivered)."""
    board.add("mine", "U0001", LONG_AGO)
    clock.now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    preview = slack.command("/ops", "nudge preview")
    [done] = [
        e["value"]
        for b in preview.answer.params["blocks"]
        for e in (b.get("accessory"), *(b.get("elements") or []))
        if isinstance(e, dict) and e.get("action_id") == DONE_ACTION
    ]
    result = slack.click(DONE_ACTION, done)  # no message: clicked in an ephemeral
    assert board.done_by == [("mine", "U0001")]
    [replaced] = result.of("response_url")
    assert replaced.params["replace_original"] is True
    assert "Marked done" in replaced.params["text"]
    assert result.of("chat.update") == [] and result.of("chat.postMessage") == []


def test_nudge_keeps_under_fifty_blocks_with_many_items(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    for i in range(45):
        board.add(f"i{i:02d}", "U1", LONG_AGO + timedelta(minutes=i))
    clock.now = MONDAY + timedelta(hours=10)
    run_and_deliver(deps, clock())
    [dm] = dms(standin, "U1")
    assert len(dm.params["blocks"]) <= 50
    assert "You have *45* overdue items" in dm.params["text"]
    assert "and 25 more" in dm.params["text"]


def test_a_failing_dm_is_retried_by_the_sender_and_sent_once(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    """The tick only queues the nudge; a transient refusal is retried by the sender after a
    backoff (not by the next tick), and later ticks never queue that day's nudge again."""
    board.add("a", "U1", LONG_AGO)
    standin.fail("chat.postMessage", status=200, error="internal_error", retry_after=None)
    clock.now = MONDAY + timedelta(hours=10)
    [queued] = run_once(deps, clock()).nudges
    assert queued.outcome == "queued" and queued.key == "nudge:2026-11-23:U1"
    sender = make_sender(deps)
    try:
        assert sender.drain(30, horizon=0)  # the first try only: the retry is not due yet
    finally:
        sender.stop()
    entry = get_entry(deps.sessions, team_id=TEAM, key=queued.key)
    assert entry is not None
    assert (entry.state, entry.error, entry.attempts) == ("pending", "internal_error", 1)
    assert dms(standin, "U1") == []
    clock.advance(minutes=5)
    # the next tick does not queue it again; the sender's retry delivers it
    assert [r.outcome for r in run_and_deliver(deps, clock()).nudges] == ["already queued"]
    entry = get_entry(deps.sessions, team_id=TEAM, key=queued.key)
    assert entry is not None and entry.state == "sent"
    clock.advance(minutes=5)
    assert [r.outcome for r in run_and_deliver(deps, clock()).nudges] == ["already queued"]
    assert len(dms(standin, "U1")) == 1
    assert len(standin.calls("chat.postMessage", ok_only=False)) == 2


def test_cli_nudge_dry_run_and_send(
    deps: Deps,
    slack: SlackDriver,
    standin: SlackStandin,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI builds its own Deps with the real nudge sources: a real unacknowledged SEV1."""
    from bot.cli import cli

    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.TEAM_TIMEZONE, value="UTC"
    )
    escalation = raise_escalation(slack, deps.sessions, clock, owner="U0ANN")
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", standin.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.chdir(Path(__file__).parent)
    runner = CliRunner()
    at = "2026-11-23T10:30:00+00:00"
    posts_before = len(standin.calls("chat.postMessage"))
    dry = runner.invoke(cli, ["nudge", "--as-of", at, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "nudge → U0ANN (2026-11-23)" in dry.output
    assert f"Acknowledge escalation #{escalation.id}" in dry.output
    assert len(standin.calls("chat.postMessage")) == posts_before
    sent = runner.invoke(cli, ["nudge", "--as-of", at])
    again = runner.invoke(cli, ["nudge", "--as-of", at])
    assert sent.exit_code == 0, sent.output
    assert "nudge → U0ANN (2026-11-23): sent" in sent.output
    # the second run queues nothing new and reports the state of the nudge already sent
    assert again.exit_code == 0, again.output
    assert "nudge → U0ANN (2026-11-23): sent" in again.output
    entry = get_entry(deps.sessions, team_id=TEAM, key="nudge:2026-11-23:U0ANN")
    assert entry is not None and entry.state == "sent"
    assert len([c for c in dms(standin, "U0ANN") if "Acknowledge escalation" in str(c.params)]) == 1
    bad = runner.invoke(cli, ["nudge", "--as-of", "tomorrow"])
    assert bad.exit_code == 2 and "not an ISO timestamp" in bad.output


def test_an_owner_never_seen_gets_their_slack_timezone_looked_up_once(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    standin.add_user("UNEW", "Kenji", tz="Asia/Tokyo")
    board.add("a", "UNEW", LONG_AGO)
    board.add("b", "UGONE", LONG_AGO)  # users.info cannot find them: team timezone (UTC)
    clock.now = MONDAY
    sent = tick_hourly(deps, clock, MONDAY + timedelta(hours=12))
    assert sent == [("nudge", "UNEW", 1), ("nudge", "UGONE", 10)]
    looked_up = [c.params["user"] for c in standin.calls("users.info")]
    assert looked_up.count("UNEW") == 1  # cached after the first tick
    assert looked_up.count("UGONE") == 1


def test_a_deactivated_owner_is_cached_as_deactivated_by_the_nudge_job(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    """The nudge job and `/ops status` share one users.info adapter: deactivated stays so."""
    standin.add_user("ULEFT", "Former colleague", tz="Europe/Berlin", deleted=True)
    board.add("a", "ULEFT", LONG_AGO)
    clock.now = MONDAY + timedelta(hours=9)
    run_and_deliver(deps, clock())
    [cached] = get_people(deps.sessions, team_id=TEAM, user_ids=["ULEFT"]).values()
    assert cached.is_deleted is True
    assert cached.timezone == "Europe/Berlin" and cached.display_name == "Former colleague"


def test_429_storm_delivers_every_nudge_once(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    for user in ("U1", "U2", "U3"):
        board.add(f"i-{user}", user, LONG_AGO)
    standin.fail("chat.postMessage", status=429, retry_after=1, times=4)
    clock.now = MONDAY + timedelta(hours=10)
    assert [r.outcome for r in run_and_deliver(deps, clock()).nudges] == ["queued"] * 3
    clock.advance(minutes=5)
    assert [r.outcome for r in run_and_deliver(deps, clock()).nudges] == ["already queued"] * 3
    for user in ("U1", "U2", "U3"):
        assert len(dms(standin, user)) == 1
    assert len(standin.calls("chat.postMessage", ok_only=False)) == 3 + 4


def test_more_owners_than_one_queueing_batch_are_each_queued_once_in_order(
    deps: Deps, standin: SlackStandin, clock: FixedClock, board: OverdueBoard
) -> None:
    owners = [f"U{n:03d}" for n in range(nudge_job.QUEUE_BATCH * 2 + 3)]
    for n, user in enumerate(owners):
        board.add(f"i-{user}", user, LONG_AGO + timedelta(minutes=n))
    clock.now = MONDAY + timedelta(hours=10)
    first = nudge_job.run(deps, now=clock(), team_ids=[TEAM])
    assert [r.user_id for r in first] == owners
    assert {r.outcome for r in first} == {Queued.QUEUED}
    board.add("late", "U999", LONG_AGO)  # a new owner among ones already queued today
    again = nudge_job.run(deps, now=clock(), team_ids=[TEAM])
    assert {r.user_id for r in again if r.outcome is Queued.QUEUED} == {"U999"}
    assert sum(r.outcome is Queued.ALREADY for r in again) == len(owners)
    run_and_deliver(deps, clock())
    for user in [*owners, "U999"]:
        assert len(dms(standin, user)) == 1
