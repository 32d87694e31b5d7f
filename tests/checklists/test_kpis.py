"""Checklist records as computed KPIs and as "my open checklist items" on the App Home."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.checklists import service as checklists
from bot.checklists.models import RunView
from bot.clock import FixedClock
from bot.deps import Deps
from tests.support.playbook import ADMIN, OWNER, TEAM, load_small_playbook
from tests.support.slack import SlackDriver, SlackStandin

PLAYBOOK = f"""\
timezone: Europe/Berlin
admins: [{ADMIN}]
processes:
  - key: onboarding
    name: Customer onboarding
    owner: {OWNER}
kpis:
  - key: onboarded
    name: Checklists completed
    kind: checklists_completed
  - key: time_to_onboard
    name: Time to onboard
    kind: median_time_to_onboard
    target: 14
    direction: lower
checklists:
  - name: customer-onboarding
    items:
      - title: Kickoff <call>
        owner: process:onboarding
        due_days: 1
      - title: Go-live
        owner: {ADMIN}
        due_days: 5
  - name: offboarding
    items:
      - title: Revoke access
        owner: {ADMIN}
"""


def _start(deps: Deps, template: str, at: datetime) -> RunView:
    return checklists.start_checklist(
        deps.sessions,
        team_id=TEAM,
        template_name=template,
        subject="Acme",
        channel_id="C0001",
        user_id=ADMIN,
        now=at,
        timezone="Europe/Berlin",
    )


def _complete(deps: Deps, run: RunView, at: datetime) -> None:
    for item in run.items:
        checklists.mark_item_done(
            deps.sessions, team_id=TEAM, item_id=item.id, user_id=ADMIN, now=at
        )


def test_completed_checklists_and_median_time_to_onboard(
    slack: SlackDriver, deps: Deps, clock: FixedClock
) -> None:
    load_small_playbook(deps.sessions, clock(), text=PLAYBOOK)
    week_start = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday of 2026-W47
    for days in (4, 10, 30):  # onboarding runs finished this week after 4, 10 and 30 days
        run = _start(deps, "customer-onboarding", week_start - timedelta(days=days))
        _complete(deps, run, week_start)
    _complete(deps, _start(deps, "offboarding", week_start - timedelta(days=90)), week_start)
    _start(deps, "customer-onboarding", week_start)  # still running: not counted
    text = slack.command("/kpi", "list").reply_text
    assert "*Checklists completed* (`onboarded`) — 4 checklists" in text
    assert "*Time to onboard* (`time_to_onboard`) — 10 days · target ≤ 14 days" in text
    assert "on track" in text
    shown = slack.command("/kpi", "show time_to_onboard").reply_text
    assert "2026-W46  —" in shown and "2026-W47  10 days" in shown


def test_home_lists_my_open_checklist_items(
    slack: SlackDriver, deps: Deps, clock: FixedClock, standin: SlackStandin
) -> None:
    standin.add_user(OWNER, "Dana", tz="America/Los_Angeles")
    load_small_playbook(deps.sessions, clock(), text=PLAYBOOK)
    run = _start(deps, "customer-onboarding", clock() - timedelta(days=3))
    _start(deps, "offboarding", clock())
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home",
             "event_ts": "1700000000.000100"}  # fmt: skip
    [call] = slack.event(event).of("views.publish")
    view = call.params["view"]
    blocks = json.dumps((json.loads(view) if isinstance(view, str) else view)["blocks"])
    mine = blocks.split("My open escalations")[0]
    assert "Kickoff &lt;call&gt;" in mine and ":red_circle:" in mine  # due 2 days ago
    assert "customer-onboarding" in mine or "Acme" in mine
    assert "Go-live" not in mine and "Revoke access" not in mine  # not mine
    _complete(deps, run, clock())
    [call] = slack.event(event).of("views.publish")
    view = call.params["view"]
    blocks = json.dumps((json.loads(view) if isinstance(view, str) else view)["blocks"])
    assert "Nothing assigned to you." in blocks.split("My open escalations")[0]
