"""Feedback records as computed KPIs: NPS over 30 days and feedback volume per week."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.deps import Deps
from tests.support.playbook import load_small_playbook
from tests.support.slack import SlackDriver

PLAYBOOK = """\
timezone: Europe/Berlin
kpis:
  - key: nps
    name: NPS
    kind: nps_30d
    target: 40
  - key: volume
    name: Feedback volume
    kind: feedback_volume
"""


def test_nps_and_volume_come_from_logged_feedback(
    slack: SlackDriver, deps: Deps, clock: FixedClock
) -> None:
    load_small_playbook(deps.sessions, clock(), text=PLAYBOOK)
    clock.now = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # 48 days ago: outside 30 days
    slack.command("/feedback", "Initech: nothing works nps:0")
    clock.now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # 2026-W46
    slack.command("/feedback", "Acme: love the new dashboards nps:10")
    clock.now = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)  # 2026-W47
    for text in (
        "Globex: great onboarding nps:9",
        "Umbrella: CSV export times out nps:3",
        "Hooli: fast support nps:10",
        "Acme: please add SSO",
    ):
        slack.command("/feedback", text)
    clock.now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    nps = slack.command("/kpi", "show nps").reply_text
    # last 30 days: 10, 9, 3, 10 → 3 promoters, 1 detractor of 4 → 50
    assert "2026-W47  50" in nps and "on track" in nps
    # each week looks back 30 days from its end (Sunday midnight, Berlin time)
    assert "2026-W46  100" in nps  # only the 10 of 10 November
    assert "2026-W45  —" in nps  # no responses in its 30 days: no data, not 0
    assert "2026-W43  -100" in nps  # the 0 of 1 October
    volume = slack.command("/kpi", "show volume").reply_text
    assert "2026-W47  4 items" in volume and "2026-W46  1 items" in volume
    assert "2026-W45  0 items" in volume
