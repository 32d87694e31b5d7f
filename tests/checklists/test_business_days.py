"""`business_days: true` in the playbook: checklist due dates skip Saturdays and Sundays."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.deps import Deps
from bot.playbook.schema import parse_playbook
from bot.playbook.service import export_playbook, import_playbook
from tests.support.checklists import TEAM, only_run
from tests.support.slack import SlackDriver

FRIDAY = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PLAYBOOK = """\
timezone: UTC
checklists:
  - name: onboarding
    business_days: true
    items:
      - {title: Kick-off call, due_days: 0}
      - {title: Provision the workspace, due_days: 1}
      - {title: Import the data, due_days: 5}
      - {title: Weekend check, due_days: 1, business_days: false}
"""


def test_due_days_count_working_days_when_the_playbook_says_so(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    clock.now = FRIDAY
    import_playbook(deps.sessions, TEAM, parse_playbook(PLAYBOOK), clock())
    assert slack.command("/checklist", "start onboarding Acme").status == 200
    due = [item.due_at.date().isoformat() for item in only_run(deps).items]
    # Friday; Monday (not Saturday); the Friday after; an item that opts out: Saturday.
    assert due == ["2026-11-20", "2026-11-23", "2026-11-27", "2026-11-21"]
    assert "business_days: true" in export_playbook(deps.sessions, team_id=TEAM)


def test_without_business_days_the_weekend_counts(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    clock.now = FRIDAY
    text = PLAYBOOK.replace("    business_days: true\n", "")
    import_playbook(deps.sessions, TEAM, parse_playbook(text), clock())
    assert slack.command("/checklist", "start onboarding Acme").status == 200
    due = [item.due_at.date().isoformat() for item in only_run(deps).items]
    assert due == ["2026-11-20", "2026-11-21", "2026-11-25", "2026-11-21"]
