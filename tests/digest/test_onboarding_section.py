"""Real checklist runs in the digest's onboarding section: started, completed, median, stuck."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.checklists import service as checklists
from bot.clock import FixedClock
from bot.deps import Deps
from bot.org import service as directory
from bot.org import team_settings
from tests.support.checklists import ONBOARDING, TEAM, active_runs, add_templates
from tests.support.schedule import digest_of, run_and_deliver
from tests.support.slack import SlackDriver, SlackStandin

DIGEST = "C0DIGEST"
WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of ISO week 2026-W47
DIGEST_DUE = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _start(deps: Deps, slack: SlackDriver, clock: FixedClock, at: datetime, subject: str) -> str:
    clock.now = at
    result = slack.command("/checklist", f"start onboarding {subject}")
    assert result.status == 200
    runs = [r for r in active_runs(deps) if r.started_at == at]
    return runs[0].key


def _complete(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock, key: str, at: datetime
) -> None:
    clock.now = at
    run = checklists.get_run(deps.sessions, team_id=TEAM, run_key=key)
    for item in run.items:  # as the nudge's Done button ticks them
        checklists.mark_item_done(
            deps.sessions, team_id=TEAM, item_id=item.id, user_id="U0001", now=at
        )
    assert checklists.get_run(deps.sessions, team_id=TEAM, run_key=key).status == "completed"


def _digest_body(standin: SlackStandin) -> str:
    [post] = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == DIGEST]
    return "\n".join(b["text"]["text"] for b in post.params["blocks"] if b["type"] == "section")


def setup_onboarding_week(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    """Five runs around 2026-W47 (UTC); see the expected numbers in the tests."""
    for key, value in (
        (team_settings.DIGEST_CHANNEL, DIGEST),
        (team_settings.TEAM_TIMEZONE, "UTC"),
    ):
        directory.set_team_setting(deps.sessions, team_id=TEAM, key=key, value=value)
    clock.now = WEEK_START - timedelta(days=8)
    add_templates(deps, ONBOARDING)
    hour = timedelta(hours=10)
    # the week before, never ticked: kick-off due Mon 9 Nov 23:59:59 → 13 days late at the end
    _start(deps, slack, clock, WEEK_START - timedelta(days=7) + hour, "Acme")
    beta = _start(deps, slack, clock, WEEK_START + hour, "Beta")  # done in 2 days
    gamma = _start(deps, slack, clock, WEEK_START + timedelta(days=1) + hour, "Gamma")  # 4 days
    # Wed, never ticked: kick-off due Wed 23:59:59 → 4 days late at the end: stuck (> 3)
    _start(deps, slack, clock, WEEK_START + timedelta(days=2) + hour, "<Delta> & co")
    # Fri: kick-off due Fri night → 2 days late at the end: not stuck
    _start(deps, slack, clock, WEEK_START + timedelta(days=4) + hour, "Echo")
    _complete(deps, slack, standin, clock, beta, WEEK_START + timedelta(days=2) + hour)
    _complete(deps, slack, standin, clock, gamma, WEEK_START + timedelta(days=5) + hour)


def test_digest_onboarding_section_matches_the_runs(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    setup_onboarding_week(deps, slack, standin, clock)
    clock.now = DIGEST_DUE
    run_and_deliver(deps, clock())
    body = _digest_body(standin)
    # started in W47: Beta, Gamma, Delta, Echo · completed: Beta (2 d), Gamma (4 d) → median 3
    assert "Checklists started *4* · completed *2* · median *3* days to complete" in body
    assert "Stuck: Acme (13 days), &lt;Delta&gt; &amp; co (4 days)" in body
    assert "Echo" not in body and "Beta (" not in body


def test_stuck_follows_the_team_threshold_and_the_week_end(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    setup_onboarding_week(deps, slack, standin, clock)
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.NUDGE_THRESHOLD_DAYS, value="5"
    )
    digest = digest_of(deps, team_id=TEAM, week="2026-W47", now=DIGEST_DUE)
    [section] = [s for s in digest.sections if s.key == "onboarding"]
    assert section.facts["stuck"] == [{"subject": "Acme", "days": 13}]
    # the week before: only Acme was started, nothing completed; 6 days late at its end
    before = digest_of(deps, team_id=TEAM, week="2026-W46", now=DIGEST_DUE)
    [section] = [s for s in before.sections if s.key == "onboarding"]
    assert (section.facts["started"], section.facts["completed"]) == (1, 0)
    assert section.facts["median_days_to_complete"] is None
    assert section.facts["stuck"] == [{"subject": "Acme", "days": 6}]


def test_at_most_five_stuck_runs_are_named(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    for key, value in (
        (team_settings.DIGEST_CHANNEL, DIGEST),
        (team_settings.TEAM_TIMEZONE, "UTC"),
    ):
        directory.set_team_setting(deps.sessions, team_id=TEAM, key=key, value=value)
    clock.now = WEEK_START
    add_templates(deps, ONBOARDING)
    for i in range(7):
        _start(deps, slack, clock, WEEK_START + timedelta(hours=1 + i), f"Run {i}")
    clock.now = DIGEST_DUE
    run_and_deliver(deps, clock())
    body = _digest_body(standin)
    assert "Run 0 (6 days), Run 1 (6 days)" in body and "Run 4 (6 days) and 2 more" in body
    assert "Run 5" not in body
