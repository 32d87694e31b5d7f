"""The scheduler lease and the scheduler's configuration (delivery: tests/outbox)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import FixedClock
from bot.deps import Deps
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox.service import get_entry
from bot.slack.events import claim_event_delivery
from bot.wiring import make_sender
from schedules.digest_job import digest_key
from schedules.leader import DEFAULT_TTL, Leader
from schedules.runner import TICK_JOB_ID, build_scheduler, stop
from storage.db import SessionFactory, make_engine, make_session_factory
from tests.support.schedule import Records, run_and_deliver
from tests.support.slack import SlackStandin

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_insert_if_absent_tells_a_first_insert_from_a_repeat(sessions: SessionFactory) -> None:
    # Regression: on PostgreSQL every first insert used to look like a repeat.
    assert claim_event_delivery(sessions, team_id="T1", event_id="Ev1", now=NOW) is True
    assert claim_event_delivery(sessions, team_id="T1", event_id="Ev1", now=NOW) is False


def test_lease_has_one_holder_until_it_expires(sessions: SessionFactory) -> None:
    a = Leader(sessions, holder="a", ttl=timedelta(minutes=15))
    b = Leader(sessions, holder="b", ttl=timedelta(minutes=15))
    assert a.acquire(NOW) and not b.acquire(NOW)
    assert a.acquire(NOW + timedelta(minutes=5))  # renewed: now runs to 09:20
    assert not b.acquire(NOW + timedelta(minutes=16))
    # a died after 09:05: b takes over once the lease ran out, and a cannot snatch it back
    assert b.acquire(NOW + timedelta(minutes=20))
    assert not a.acquire(NOW + timedelta(minutes=21))
    b.release()
    assert a.acquire(NOW + timedelta(minutes=22))


def test_lease_race_has_one_winner(db_url: str, engine: object) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    leaders = [Leader(make_session_factory(e), holder=f"h{i}") for i, e in enumerate(engines)]
    barrier = threading.Barrier(len(leaders))
    won: list[bool] = []

    def race(leader: Leader) -> None:
        barrier.wait()
        won.append(leader.acquire(NOW))

    threads = [threading.Thread(target=race, args=(x,)) for x in leaders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for e in engines:
        e.dispose()
    assert sorted(won) == [False, False, False, True]


@pytest.fixture
def records(deps: Deps) -> Records:
    """Fake digest sections over records the test adds; no nudge sources."""
    found = Records()
    deps.digest_sections = found.sections()
    deps.nudge_sources = ()
    return found


def _digest_team(deps: Deps) -> None:
    directory.set_team_setting(
        deps.sessions, team_id="T1", key=team_settings.DIGEST_CHANNEL, value="C1"
    )


def test_only_the_leader_ticks_and_a_follower_takes_over(
    deps: Deps, standin: SlackStandin, records: Records
) -> None:
    assert timedelta(minutes=3) == DEFAULT_TTL  # a dead leader is replaced within 3 minutes
    _digest_team(deps)
    leader = Leader(deps.sessions, holder="leader")
    follower = Leader(deps.sessions, holder="follower")
    # (the lease runs 3 minutes from the last tick: DEFAULT_TTL)
    first = run_and_deliver(deps, NOW - timedelta(minutes=2), leader=leader)  # W46's
    assert first.led and [r.outcome for r in first.digests] == ["queued"]
    assert len(standin.calls("chat.postMessage")) == 1
    standin.clear()
    report = run_and_deliver(deps, NOW, leader=follower)
    assert not report.led and report.digests == []
    assert standin.calls("chat.postMessage") == []
    assert get_entry(deps.sessions, team_id="T1", key=digest_key("2026-W47")) is None
    # the leader died; once its lease expires the follower queues the due digest, once
    later = NOW + timedelta(minutes=2)
    report = run_and_deliver(deps, later, leader=follower)
    assert report.led and [r.outcome for r in report.digests] == ["queued"]
    [post] = standin.calls("chat.postMessage")
    assert post.params["channel"] == "C1" and "2026-W47" in post.params["text"]
    entry = get_entry(deps.sessions, team_id="T1", key=digest_key("2026-W47"))
    assert entry is not None and entry.state == "sent"


def test_scheduler_is_configured_against_apscheduler_defaults(deps: Deps) -> None:
    scheduler = build_scheduler(deps)
    assert isinstance(scheduler, BackgroundScheduler)
    assert str(scheduler.timezone) == "UTC"
    scheduler.start(paused=True)  # job defaults are applied when the scheduler starts
    job = scheduler.get_job(TICK_JOB_ID)
    stop(scheduler)
    assert job.coalesce is True
    assert job.max_instances == 1
    assert job.misfire_grace_time == 3600
    assert job.trigger.interval == timedelta(minutes=1)  # SLA alerts within a minute
    assert str(job.trigger.timezone) == "UTC"


def test_started_scheduler_makes_up_a_missed_digest_at_once(
    deps: Deps, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    _digest_team(deps)
    clock.now = datetime(2026, 11, 24, 12, tzinfo=UTC)  # bot was down Monday morning
    scheduler = build_scheduler(deps)
    sender = make_sender(deps)
    scheduler.start()
    sender.start()
    try:
        [call] = standin.wait_for("chat.postMessage", 1, timeout=15)
    finally:
        stop(scheduler)
        sender.stop()
    assert call.params["channel"] == "C1"
    assert "Weekly review · 2026-W47" in call.params["text"]
    # stopping released the lease, so another process can lead at once
    assert Leader(deps.sessions, holder="next").acquire(clock())
