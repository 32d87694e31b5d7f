"""The send ledger, the scheduler lease and the scheduler's configuration."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.clock import FixedClock
from bot.deps import Deps
from bot.org import service as directory
from bot.org import team_settings
from bot.slack import ledger
from bot.slack.events import claim_event_delivery
from bot.slack.ledger import Outcome, Posted, SendKey
from schedules.leader import Leader
from schedules.runner import TICK_JOB_ID, build_scheduler, run_once, stop
from storage.db import SessionFactory, make_engine, make_session_factory
from tests.support.schedule import Records
from tests.support.slack import SlackStandin

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = SendKey("T1", "digest", "2026-W47", "team")


def test_a_new_key_is_claimed_once(sessions: SessionFactory) -> None:
    claim = ledger.claim_send(sessions, key=KEY, now=NOW)
    assert claim is not None and claim.attempt == 1
    assert ledger.claim_send(sessions, key=KEY, now=NOW) is None
    # other keys are independent
    assert ledger.claim_send(sessions, key=SendKey("T2", *list(vars(KEY).values())[1:]), now=NOW)


def test_sent_is_never_claimed_again_even_when_old(sessions: SessionFactory) -> None:
    claim = ledger.claim_send(sessions, key=KEY, now=NOW)
    assert claim is not None
    ledger.mark_sent(sessions, claim=claim, posted=Posted("C1", "1.2"), now=NOW)
    assert ledger.claim_send(sessions, key=KEY, now=NOW + timedelta(days=30)) is None
    # a late failure report from a stale attempt cannot downgrade a sent row
    ledger.mark_failed(sessions, claim=claim, error="late", now=NOW)
    state = ledger.get_send_state(sessions, key=KEY)
    assert state is not None and (state.state, state.channel, state.ts) == ("sent", "C1", "1.2")


def test_stale_claim_is_taken_over_and_the_old_attempt_cannot_mark_it(
    sessions: SessionFactory,
) -> None:
    first = ledger.claim_send(sessions, key=KEY, now=NOW)
    assert first is not None
    assert ledger.claim_send(sessions, key=KEY, now=NOW + timedelta(minutes=14)) is None
    second = ledger.claim_send(sessions, key=KEY, now=NOW + timedelta(minutes=16))
    assert second is not None and second.attempt == 2
    ledger.mark_failed(sessions, claim=first, error="old attempt", now=NOW)
    state = ledger.get_send_state(sessions, key=KEY)
    assert state is not None and state.state == "claimed"


def test_failed_stays_retryable_up_to_the_attempt_limit(sessions: SessionFactory) -> None:
    for attempt in range(1, ledger.MAX_ATTEMPTS + 1):
        claim = ledger.claim_send(sessions, key=KEY, now=NOW)
        assert claim is not None and claim.attempt == attempt
        ledger.mark_failed(sessions, claim=claim, error="channel_not_found", now=NOW)
    assert ledger.claim_send(sessions, key=KEY, now=NOW) is None


def test_deliver_once_records_outcomes(sessions: SessionFactory) -> None:
    def boom() -> Posted:
        raise RuntimeError("network down")

    assert ledger.deliver_once(sessions, key=KEY, now=NOW, post=boom) == Outcome.FAILED
    posts: list[int] = []

    def post() -> Posted:
        posts.append(1)
        return Posted("C1", "9.9")

    assert ledger.deliver_once(sessions, key=KEY, now=NOW, post=post) == Outcome.SENT
    assert ledger.deliver_once(sessions, key=KEY, now=NOW, post=post) == Outcome.SKIPPED
    assert posts == [1]


def test_racing_claims_from_two_engines_have_one_winner(db_url: str, engine: object) -> None:
    engines = [make_engine(db_url) for _ in range(4)]
    factories = [make_session_factory(e) for e in engines]
    barrier = threading.Barrier(len(factories))
    won: list[bool] = []

    def race(sessions: SessionFactory) -> None:
        barrier.wait()
        won.append(ledger.claim_send(sessions, key=KEY, now=NOW) is not None)

    threads = [threading.Thread(target=race, args=(f,)) for f in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for e in engines:
        e.dispose()
    assert sorted(won) == [False, False, False, True]


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
    _digest_team(deps)
    leader = Leader(deps.sessions, holder="leader")
    follower = Leader(deps.sessions, holder="follower")
    assert run_once(deps, NOW - timedelta(minutes=5), leader=leader).led  # posts W46's
    standin.clear()
    report = run_once(deps, NOW, leader=follower)
    assert not report.led and standin.calls("chat.postMessage") == []
    # the leader died; once its lease expires the follower posts the due digest, once
    later = NOW + timedelta(minutes=11)
    report = run_once(deps, later, leader=follower)
    assert report.led and [r.outcome for r in report.digests] == ["sent"]
    assert len(standin.calls("chat.postMessage")) == 1


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
    assert job.trigger.interval == timedelta(minutes=5)
    assert str(job.trigger.timezone) == "UTC"


def test_started_scheduler_makes_up_a_missed_digest_at_once(
    deps: Deps, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    _digest_team(deps)
    clock.now = datetime(2026, 11, 24, 12, tzinfo=UTC)  # bot was down Monday morning
    scheduler = build_scheduler(deps)
    scheduler.start()
    try:
        [call] = standin.wait_for("chat.postMessage", 1, timeout=15)
    finally:
        stop(scheduler)
    assert call.params["channel"] == "C1"
    assert "Weekly review · 2026-W47" in call.params["text"]
    # stopping released the lease, so another process can lead at once
    assert Leader(deps.sessions, holder="next").acquire(clock())
