"""The weekly digest: due computation, exactly-once posting, DST, rendering, preview, CLI."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.clock import FixedClock
from bot.deps import Deps
from bot.digest import service as digest_service
from bot.digest.render import render_digest
from bot.feedback import service as feedback_service
from bot.feedback.parse import parse_inline
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox.service import get_entry, resend, skip
from bot.slack.client import make_web_client
from bot.slack.sender import OutboxSender
from bot.wiring import deps_from_parts
from schedules import digest_job
from schedules.runner import TickReport, run_once
from storage.db import make_engine
from tests.conftest import BOT_TOKEN
from tests.support.schedule import Escalation, Feedback, Kpi, Records, digest_of, nps
from tests.support.slack import SlackDriver, SlackStandin

TEAM = "T0001"
CHANNEL = "C0DIGEST"
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the W47 digest is due


@pytest.fixture
def records(deps: Deps) -> Records:
    """Fake digest sections over records the test adds; no nudge sources."""
    found = Records()
    deps.digest_sections = found.sections()
    deps.nudge_sources = ()
    return found


def setup_team(deps: Deps, *, tz: str = "UTC", **settings: str) -> None:
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.DIGEST_CHANNEL, value=CHANNEL
    )
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.TEAM_TIMEZONE, value=tz
    )
    for key, value in settings.items():
        directory.set_team_setting(deps.sessions, team_id=TEAM, key=key, value=value)


def tick(deps: Deps, sender: OutboxSender, now: datetime) -> TickReport:
    """One scheduler tick, then the outbox sender delivers what it queued."""
    report = run_once(deps, now)
    sender.drain(30, horizon=3)
    return report


def digest_posts(standin: SlackStandin) -> list[str]:
    """Text of every digest Slack accepted, in order."""
    return [
        c.params["text"]
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == CHANNEL
    ]


def test_digest_is_posted_once_at_the_configured_time(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps)
    clock.now = MONDAY_9 - timedelta(minutes=5)
    tick(deps, sender, clock())  # makes up W46's digest (see the next test)
    standin.clear()
    for minutes in (5, 10, 60 * 24):
        clock.now = MONDAY_9 - timedelta(minutes=5) + timedelta(minutes=minutes)
        tick(deps, sender, clock())
    [text] = digest_posts(standin)
    assert "Weekly review · 2026-W47" in text
    entry = get_entry(deps.sessions, team_id=TEAM, key=digest_job.digest_key("2026-W47"))
    assert entry is not None and entry.state == "sent" and entry.channel == CHANNEL
    assert entry.posted_ts


def test_before_the_hour_the_previous_weeks_digest_is_made_up_only_if_missing(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps)
    clock.now = MONDAY_9 - timedelta(minutes=5)
    [result] = tick(deps, sender, clock()).digests
    # Monday 08:55: the most recent due digest is W46's (due a week ago), posted once
    assert result.week == "2026-W46" and result.outcome == "queued"
    assert tick(deps, sender, clock()).digests[0].outcome == "already queued"
    assert len(digest_posts(standin)) == 1


def test_bot_down_at_digest_hour_posts_on_start(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps)
    clock.now = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)  # Tuesday afternoon
    report = tick(deps, sender, clock())
    assert [(r.week, r.outcome) for r in report.digests] == [("2026-W47", "queued")]
    tick(deps, sender, clock() + timedelta(hours=1))
    assert len(digest_posts(standin)) == 1


@pytest.mark.parametrize(
    ("tz", "start", "expected"),
    [
        # Europe/Berlin leaves summer time on Sunday 2026-10-25: Monday 09:00 is 07:00 UTC
        # before and 08:00 UTC after.
        (
            "Europe/Berlin",
            datetime(2026, 10, 18, 12, tzinfo=UTC),
            [
                ("2026-W41", datetime(2026, 10, 18, 12, tzinfo=UTC)),  # made up at start
                ("2026-W42", datetime(2026, 10, 19, 7, tzinfo=UTC)),
                ("2026-W43", datetime(2026, 10, 26, 8, tzinfo=UTC)),
                ("2026-W44", datetime(2026, 11, 2, 8, tzinfo=UTC)),
            ],
        ),
        # America/New_York leaves daylight time on Sunday 2026-11-01: 13:00 → 14:00 UTC.
        (
            "America/New_York",
            datetime(2026, 10, 25, 12, tzinfo=UTC),
            [
                ("2026-W42", datetime(2026, 10, 25, 12, tzinfo=UTC)),
                ("2026-W43", datetime(2026, 10, 26, 13, tzinfo=UTC)),
                ("2026-W44", datetime(2026, 11, 2, 14, tzinfo=UTC)),
                ("2026-W45", datetime(2026, 11, 9, 14, tzinfo=UTC)),
            ],
        ),
    ],
)
def test_dst_change_weeks_get_exactly_one_digest_each_at_local_nine(
    deps: Deps,
    sender: OutboxSender,
    standin: SlackStandin,
    clock: FixedClock,
    records: Records,
    tz: str,
    start: datetime,
    expected: list[tuple[str, datetime]],
) -> None:
    setup_team(deps, tz=tz)
    sent: list[tuple[str, datetime]] = []
    clock.now = start
    end = expected[-1][1] + timedelta(days=2)
    while clock.now < end:
        for result in digest_job.run(deps, now=clock(), team_ids=[TEAM]):
            if result.outcome == "queued":
                sent.append((result.week, clock()))
        sender.drain(30, horizon=3)
        clock.advance(minutes=30)
    assert sent == expected
    assert len(digest_posts(standin)) == len(expected)


def test_custom_weekday_and_time_in_team_timezone(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps, tz="Asia/Tokyo", **{"digest.weekday": "friday", "digest.time": "16:30"})
    # Friday 2026-11-27 16:30 JST = 07:30 UTC
    clock.now = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    tick(deps, sender, clock())
    # Friday 16:00 JST: W47's digest is not due yet (W46's was made up at start)
    assert get_entry(deps.sessions, team_id=TEAM, key=digest_job.digest_key("2026-W46"))
    assert get_entry(deps.sessions, team_id=TEAM, key=digest_job.digest_key("2026-W47")) is None
    clock.now = datetime(2026, 11, 27, 7, 30, tzinfo=UTC)
    [result] = tick(deps, sender, clock()).digests
    assert (result.week, result.outcome) == ("2026-W47", "queued")


def test_429_storm_delivers_the_digest_once(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps)
    standin.fail("chat.postMessage", status=429, retry_after=1, times=3)
    clock.now = MONDAY_9
    [result] = tick(deps, sender, clock()).digests
    assert result.outcome == "queued"
    attempts = standin.calls("chat.postMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 429, 429, 200]
    # each retry waited out Retry-After (rescheduled, not slept on in a thread)
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts)]
    assert all(gap >= 0.9 for gap in gaps)
    tick(deps, sender, clock() + timedelta(minutes=5))
    assert len(digest_posts(standin)) == 1


def test_slack_refusal_is_kept_the_admins_told_and_resend_posts_it_once(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps)
    directory.set_admins(deps.sessions, team_id=TEAM, user_ids=["U0ADMIN"])
    standin.channels_without_bot.add(CHANNEL)
    clock.now = MONDAY_9
    assert tick(deps, sender, clock()).digests[0].outcome == "queued"
    entry = get_entry(deps.sessions, team_id=TEAM, key=digest_job.digest_key("2026-W47"))
    assert entry is not None and entry.state == "failed" and entry.error == "not_in_channel"
    # given up at once (no retry can change not_in_channel), and a person is told
    [notice] = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == "U0ADMIN"]
    assert f"opsloop outbox resend {entry.id}" in notice.params["text"]
    clock.advance(minutes=5)
    assert tick(deps, sender, clock()).digests[0].outcome == "already queued"
    assert digest_posts(standin) == []
    standin.channels_without_bot.clear()  # someone invited the bot
    assert resend(deps.sessions, message_id=entry.id)
    sender.drain(30, horizon=3)
    assert len(digest_posts(standin)) == 1
    assert not skip(deps.sessions, message_id=entry.id)  # sent: nothing left to skip


def test_two_schedulers_on_one_database_post_once(
    deps: Deps,
    sender: OutboxSender,
    db_url: str,
    standin: SlackStandin,
    clock: FixedClock,
    records: Records,
) -> None:
    setup_team(deps)
    clock.now = MONDAY_9
    other_engine = make_engine(db_url)
    other = deps_from_parts(
        settings=deps.settings,
        engine=other_engine,
        client=make_web_client(token=BOT_TOKEN, base_url=standin.base_url),
        clock=clock,
    )
    other.digest_sections, other.nudge_sources = deps.digest_sections, deps.nudge_sources
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def tick(which: Deps) -> None:
        barrier.wait()
        outcomes.extend(r.outcome for r in run_once(which, clock()).digests)

    threads = [threading.Thread(target=tick, args=(d,)) for d in (deps, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    other_engine.dispose()
    assert sorted(outcomes) == ["already queued", "queued"]
    sender.drain(30, horizon=3)
    assert len(digest_posts(standin)) == 1


def _busy_week(records: Records) -> tuple[datetime, datetime]:
    start = datetime(2026, 11, 16, tzinfo=UTC)
    for i in range(10):
        records.kpis.append(
            Kpi(f"KPI {i} <b>", "%", 90.0, f"U00OWN{i}", this_week=80.0 + i * 2, last_week=85.0)
        )
    tags = ["reporting", "billing", "export", "sso"]
    for i in range(200):
        records.feedback.append(
            Feedback(
                at=start + timedelta(minutes=45 * i),
                score=i % 11,
                tags=(tags[i % 4], tags[(i * 3) % 4]) if i % 5 else (tags[0],),
                text=f"Quote {i} <!channel> & <https://evil.test|click>",
                customer=f"Acme {i}",
            )
        )
    for _ in range(15):  # the week before: must not be counted
        records.feedback.append(Feedback(start - timedelta(days=2), 0, ("old",), "old", "Old"))
    for i in range(30):
        records.escalations.append(
            Escalation(
                opened_at=start + timedelta(hours=5 * i),
                severity=f"sev{1 + i % 4}",
                ack_minutes=float(10 + i),
                resolved_at=start + timedelta(hours=5 * i + 3) if i % 3 else None,
                breached=i % 7 == 0,
            )
        )
    return start, start + timedelta(days=7)


def test_busy_week_fits_in_fifty_blocks_and_every_number_matches(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    start, end = _busy_week(records)
    setup_team(deps)
    clock.now = MONDAY_9
    tick(deps, sender, clock())
    [call] = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == CHANNEL]
    blocks = call.params["blocks"]
    text = call.params["text"]
    assert len(blocks) <= 50 and len(text) < 4000
    body = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    week_feedback = [f for f in records.feedback if start <= f.at < end]
    expected_nps = nps([f.score for f in week_feedback if f.score is not None])
    assert f"*{len(week_feedback)}* pieces of feedback · NPS *{expected_nps}*" in body
    [(top_tag, top_count)] = Counter(t for f in week_feedback for t in f.tags).most_common(1)
    assert f"Top tags: `{top_tag}` \u00d7{top_count}, " in body
    opened = [e for e in records.escalations if start <= e.opened_at < end]
    breaches = sum(1 for e in opened if e.breached)
    resolved = sum(1 for e in records.escalations if e.resolved_at)
    assert f"Opened *{len(opened)}* · resolved *{resolved}* · SLA breaches *{breaches}*" in body
    # median of 10..39 = 24.5, written as a KPI in minutes would be (it said 24)
    assert "median time to acknowledge *24.5 min*" in body
    open_sev1 = sum(
        1 for e in records.escalations if e.resolved_at is None and e.severity == "sev1"
    )
    assert f"sev1 {open_sev1}" in body
    for kpi in records.kpis:
        assert (
            f"*{kpi.name.replace('<', '&lt;').replace('>', '&gt;')}*: {kpi.this_week:.0f}%" in body
        )
        assert f"<@{kpi.owner_id}>" in body
    assert body.count(":red_circle:") == 5 and body.count(":large_green_circle:") == 5
    # user text is escaped: no channel ping, no injected link; three quotes at most
    assert "<!channel>" not in body and "<https://evil.test" not in body
    assert body.count("&lt;!channel&gt; &amp; &lt;https://evil.test|click&gt;") == 3


def test_empty_week_says_so_per_section(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    setup_team(deps)
    clock.now = MONDAY_9
    tick(deps, sender, clock())
    [text] = digest_posts(standin)
    assert "No escalations this week" in text
    assert "No feedback this week" in text
    assert "No KPIs are set up yet." in text
    assert text.index("*KPIs*") < text.index("*Feedback*") < text.index("*Escalations*")


def test_a_failing_section_does_not_cost_the_whole_digest(
    deps: Deps, sender: OutboxSender, standin: SlackStandin, clock: FixedClock, records: Records
) -> None:
    def broken(scope: digest_service.DigestWeek) -> digest_service.DigestSection:
        raise RuntimeError("boom")

    deps.digest_sections = tuple(
        digest_service.SectionProvider("feedback", "Feedback", broken)
        if provider.key == "feedback"
        else provider
        for provider in deps.digest_sections
    )
    setup_team(deps)
    clock.now = MONDAY_9
    tick(deps, sender, clock())
    [text] = digest_posts(standin)
    assert "This section could not be computed." in text
    assert "No escalations this week" in text


def test_team_overrides_a_template_from_a_folder(
    deps: Deps, records: Records, clock: FixedClock, tmp_path: Path
) -> None:
    _busy_week(records)
    (tmp_path / "escalations.j2").write_text(
        "Custom: {{ facts.opened }} opened for {{ team_id | slack }}\n"
    )
    setup_team(deps)
    digest = digest_of(deps, team_id=TEAM, week="2026-W47", now=MONDAY_9)
    text, _ = render_digest(digest, templates_dir=tmp_path)
    assert "Custom: 30 opened for T0001" in text
    assert "pieces of feedback" in text  # the other templates stay built in


def test_a_broken_override_falls_back_to_the_built_in_template(
    deps: Deps,
    records: Records,
    clock: FixedClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Before: a broken escalations.j2 showed the generic fact list (a dump of the section's
    data); a broken header.j2 cost the whole digest."""
    _busy_week(records)
    setup_team(deps)
    digest = digest_of(deps, team_id=TEAM, week="2026-W47", now=MONDAY_9)
    built_in, _ = render_digest(digest)
    (tmp_path / "escalations.j2").write_text("{{ facts.no_such_fact }}\n")
    (tmp_path / "header.j2").write_text("{% if %}\n")  # a syntax error
    with caplog.at_level("ERROR", logger="bot.digest.render"):
        text, _ = render_digest(digest, templates_dir=tmp_path)
    assert text == built_in
    failed = [r.getMessage() for r in caplog.records]
    assert any("escalations.j2 failed; using the built-in one" in m for m in failed)
    assert any("header.j2 failed; using the built-in one" in m for m in failed)


def test_many_sections_are_cut_to_fifty_blocks(
    deps: Deps, records: Records, clock: FixedClock
) -> None:
    deps.digest_sections += tuple(
        digest_service.SectionProvider(
            f"extra{i}",
            f"Extra {i}",
            lambda scope, i=i: digest_service.DigestSection(
                f"extra{i}", f"Extra {i}", {"value": i, "note": "<x>"}
            ),
        )
        for i in range(40)
    )
    setup_team(deps)
    digest = digest_of(deps, team_id=TEAM, week="2026-W47", now=MONDAY_9)
    text, blocks = render_digest(digest)
    assert len(blocks) == 50
    assert "did not fit" in blocks[-1].to_dict()["elements"][0]["text"]
    assert len(text) < 4000
    assert "• note: &lt;x&gt;" in text


def test_ops_digest_preview_is_ephemeral(
    slack: SlackDriver, deps: Deps, clock: FixedClock, standin: SlackStandin, records: Records
) -> None:
    _busy_week(records)
    setup_team(deps)
    clock.now = MONDAY_9 + timedelta(hours=1)
    result = slack.command("/ops", "digest preview")
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert "Weekly review · 2026-W47" in reply.params["text"]
    assert f"<#{CHANNEL}>" in reply.params["text"]
    assert len(reply.params["blocks"]) <= 50
    assert standin.calls("chat.postMessage") == []  # a preview posts nothing
    other = slack.command("/ops", "digest preview 2026-W46")
    assert "Weekly review · 2026-W46" in other.reply_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("digest", "/ops digest preview"),
        ("digest post", "/ops digest preview"),
        ("digest preview 2026-W99", "is not an ISO week"),
        ("digest preview <!here>", "is not an ISO week"),
        # weeks whose neighbours (the week before, the KPI trend's 8 weeks) leave the
        # calendar Python can count: they crashed with "something went wrong, try again"
        ("digest preview 0001-W01", "is not a week Opsloop can show"),
        ("digest preview 1000-W01", "is not a week Opsloop can show"),
        ("digest preview 9999-W52", "is not a week Opsloop can show"),
    ],
)
def test_ops_digest_bad_input_explains(
    slack: SlackDriver, records: Records, text: str, expected: str
) -> None:
    result = slack.command("/ops", text)
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert expected in reply.params["text"]
    assert "<!here>" not in reply.params["text"]


def _cli_env(monkeypatch: pytest.MonkeyPatch, deps: Deps, standin: SlackStandin) -> None:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    monkeypatch.setenv("SLACK_API_URL", standin.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("OPSLOOP_TIMEZONE", "UTC")
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env


def test_cli_digest_dry_run_prints_and_posts_nothing(
    deps: Deps, standin: SlackStandin, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI builds its own Deps with the real sections: it reports the real records."""
    from bot.cli import cli

    for text in ("Acme: <!channel> & <https://evil.test|click> nps:2", "Globex: love it nps:10"):
        feedback_service.log_feedback(
            deps.sessions,
            team_id=TEAM,
            reporter_id="U0REPORTER",
            parsed=parse_inline(text),
            submission_key=feedback_service.new_submission_key("test"),
            now=clock(),  # Wednesday of 2026-W47
        )
    setup_team(deps)
    _cli_env(monkeypatch, deps, standin)
    result = CliRunner().invoke(cli, ["digest", "--week", "2026-W47", "--team", TEAM, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "== Weekly review · 2026-W47 ==" in result.output
    assert "No escalations this week" in result.output
    assert "*2* pieces of feedback" in result.output
    # entities are shown as the reader would see them in Slack
    assert "<!channel> & <https://evil.test|click>" in result.output
    assert standin.calls("chat.postMessage") == []


def test_cli_digest_posts_once_and_rejects_a_bad_week(
    deps: Deps, standin: SlackStandin, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import cli

    setup_team(deps)
    _cli_env(monkeypatch, deps, standin)
    runner = CliRunner()
    first = runner.invoke(cli, ["digest", "--week", "2026-W45"])
    second = runner.invoke(cli, ["digest", "--week", "2026-W45"])
    # queued, then delivered by the command's own sender: it prints the outbox state
    assert first.exit_code == 0, first.output
    assert f"team {TEAM}: digest:2026-W45:team → {CHANNEL}: sent" in first.output
    # the second run queues nothing new: the key is still the one sent message
    assert second.exit_code == 0, second.output
    assert f"team {TEAM}: digest:2026-W45:team → {CHANNEL}: sent" in second.output
    assert len(digest_posts(standin)) == 1
    entry = get_entry(deps.sessions, team_id=TEAM, key=digest_job.digest_key("2026-W45"))
    assert entry is not None and entry.state == "sent" and entry.posted_ts
    # a digest Slack refuses is reported as failed, and the command exits 2 saying so
    standin.channels_without_bot.add(CHANNEL)
    refused = runner.invoke(cli, ["digest", "--week", "2026-W44"])
    assert f"team {TEAM}: digest:2026-W44:team → {CHANNEL}: failed" in refused.output
    assert refused.exit_code == 2 and "could not be posted yet" in refused.output
    assert len(digest_posts(standin)) == 1
    bad = runner.invoke(cli, ["digest", "--week", "2026-47"])
    assert bad.exit_code == 2 and "not an ISO week like 2026-W47" in bad.output


def test_a_section_missing_facts_falls_back_to_the_generic_layout(
    deps: Deps, records: Records
) -> None:
    deps.digest_sections = (
        digest_service.SectionProvider(
            "feedback",
            "Feedback",
            lambda scope: digest_service.DigestSection(
                "feedback", "Feedback", {"count": 3, "note": "<!here>"}
            ),
        ),
    )
    setup_team(deps)
    digest = digest_of(deps, team_id=TEAM, week="2026-W47", now=MONDAY_9)
    text, _ = render_digest(digest)
    assert "• count: 3" in text and "• note: &lt;!here&gt;" in text
