"""A running week's digest is evaluated as of now: nothing counted before it is due, and one
set of numbers per message (the KPI lines agree with the sections beside them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.clock import FixedClock
from bot.deps import Deps
from bot.escalations.render import ACKNOWLEDGE
from bot.playbook.schema import parse_playbook
from bot.playbook.service import import_playbook
from tests.support.checklists import add_templates
from tests.support.escalations import OWNER, TEAM, press, raise_escalation
from tests.support.slack import SlackDriver

MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # ISO week 2026-W47
WEDNESDAY_NOON = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
PLAYBOOK = f"""\
timezone: UTC
channels:
  digest: C0DIGEST
kpis:
  - key: breaches
    name: SLA breaches
    kind: sla_breaches
    target: 0
    direction: lower
    owner: {OWNER}
  - key: overdue
    name: Overdue items
    kind: overdue_items
    target: 0
    direction: lower
    owner: {OWNER}
"""
HANDOVER = {
    "name": "handover",
    "title": "Handover",
    "items": [{"title": "Write the handover notes", "owner": "U0002", "due_days": 2}],
}


def _preview(slack: SlackDriver) -> str:
    return slack.command("/ops", "digest preview 2026-W47").reply_text


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in:\n{text}"
    return int(found.group(1))


def _week_so_far(deps: Deps, slack: SlackDriver, clock: FixedClock) -> None:
    """Monday: an escalation acknowledged in time (resolve due Thursday) and a checklist
    whose one item is due Wednesday evening."""
    clock.now = MONDAY - timedelta(days=1)
    import_playbook(deps.sessions, TEAM, parse_playbook(PLAYBOOK), clock())
    add_templates(deps, HANDOVER)
    clock.now = MONDAY
    e = raise_escalation(slack, deps.sessions, clock, severity="sev3", title="Slow exports")
    clock.advance(minutes=30)
    press(slack, ACKNOWLEDGE, e, user=OWNER)
    assert slack.command("/checklist", "start handover Acme").status == 200


def test_mid_week_preview_counts_nothing_not_yet_due(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    _week_so_far(deps, slack, clock)
    clock.now = WEDNESDAY_NOON
    text = _preview(slack)
    # The resolve clock runs to Thursday and the item to Wednesday night: neither is late.
    assert _number(r"SLA breaches \*(\d+)\*", text) == 0
    assert "Missed:" not in text
    assert _number(r"SLA breaches\*: (\d+)", text) == 0
    assert "stuck" not in text.lower()
    assert "Nothing overdue" in text
    assert _number(r"Overdue items\*: (\d+)", text) == 0
    assert "The week is still running: counted as of" in text


def test_one_set_of_numbers_once_things_are_late(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    _week_so_far(deps, slack, clock)
    clock.now = MONDAY + timedelta(days=1)  # Tuesday: a SEV1 nobody acknowledges
    raise_escalation(slack, deps.sessions, clock, severity="sev1", title="Checkout down")
    clock.now = WEDNESDAY_NOON
    text = _preview(slack)
    # Its acknowledge (15 min) and resolve (4 h) clocks are both breached by now; the SEV3's
    # resolve clock (Thursday) is not.
    assert _number(r"SLA breaches \*(\d+)\*", text) == 2
    assert _number(r"SLA breaches\*: (\d+)", text) == 2
    overdue = _number(r"Overdue items\*: (\d+)", text)
    assert overdue == 2
    assert "Nothing overdue" not in text
    assert f"<@{OWNER}>: 2 overdue" in text


def test_an_overdue_item_nobody_owns_is_not_nothing_overdue(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    clock.now = MONDAY - timedelta(days=1)
    import_playbook(deps.sessions, TEAM, parse_playbook(PLAYBOOK), clock())
    orphan = {
        "name": "orphan",
        "title": "Orphan",
        "items": [{"title": "Sign the DPA", "owner": "process:legal", "due_days": 0}],
    }
    add_templates(deps, orphan)
    clock.now = MONDAY
    assert slack.command("/checklist", "start orphan Acme").status == 200
    clock.now = WEDNESDAY_NOON
    text = _preview(slack)
    assert _number(r"Overdue items\*: (\d+)", text) == 1
    assert "Nothing overdue" not in text
    assert "No owner: 1 overdue" in text
