"""Real data: the digest's feedback section counts the week's feedback from the database."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.deps import Deps
from bot.org import service as directory
from bot.org import team_settings
from tests.support.schedule import run_and_deliver
from tests.support.slack import SlackDriver, SlackStandin

TEAM = "T0001"


def test_digest_feedback_section_matches_the_logged_feedback(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.DIGEST_CHANNEL, value="CD"
    )
    logged = [
        (datetime(2026, 11, 11, 12, tzinfo=UTC), "Hooli: great support nps:10"),  # W46
        (datetime(2026, 11, 12, 12, tzinfo=UTC), "Hooli: fast fixes nps:9"),  # W46
        (
            datetime(2026, 11, 17, 9, tzinfo=UTC),
            "Acme: CSV export <!channel> hangs #reporting nps:3",
        ),
        (datetime(2026, 11, 18, 9, tzinfo=UTC), "Globex: love it #reporting #billing nps:10"),
        (datetime(2026, 11, 19, 9, tzinfo=UTC), "Initech: fine I guess nps:7"),
        (datetime(2026, 11, 22, 22, tzinfo=UTC), "Umbrella: invoices are wrong #billing"),
        (datetime(2026, 11, 23, 8, tzinfo=UTC), "Stark: next week already nps:0"),  # W48
    ]
    for at, text in logged:
        clock.now = at
        assert slack.command("/feedback", text).status == 200
    clock.now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    standin.clear()
    run_and_deliver(deps, clock())
    [digest] = [c.params for c in standin.calls("chat.postMessage") if c.params["channel"] == "CD"]
    text = digest["text"]
    # W47: 4 pieces; scores 3, 10, 7 → 1 promoter, 1 detractor of 3 → NPS 0; W46 was 100
    assert "*4* pieces of feedback · NPS *0* (-100 vs last week)" in text
    assert "Top tags: `reporting` \u00d72, `billing` \u00d72" in text
    assert "CSV export &lt;!channel&gt; hangs" in text and "<!channel>" not in text
    assert "Stark" not in text and "Hooli" not in text
