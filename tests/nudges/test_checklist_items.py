"""Real data: overdue checklist items are nudged, Done ticks them, the digest counts them."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.checklists import service as checklists
from bot.checklists.models import RunView
from bot.clock import FixedClock
from bot.deps import Deps
from bot.nudges.render import DONE_ACTION
from bot.org import service as directory
from bot.org import team_settings
from schedules.runner import run_once
from tests.support.checklists import ONBOARDING, TEAM, add_templates, only_run
from tests.support.slack import SlackDriver, SlackStandin

MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _start_onboarding(deps: Deps, slack: SlackDriver) -> RunView:
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.TEAM_TIMEZONE, value="UTC"
    )
    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.DIGEST_CHANNEL, value="CD"
    )
    directory.set_process_owner(
        deps.sessions,
        team_id=TEAM,
        process_key=directory.ONBOARDING_PROCESS,
        process_name="Customer onboarding",
        owner_id="UPO",
        actor_id="UADMIN",
        now=deps.clock(),
    )
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme <b>")  # Wednesday 2026-11-18
    return only_run(deps)


def _dm(standin: SlackStandin, user: str) -> list[dict[str, object]]:
    return [c.params for c in standin.calls("chat.postMessage") if c.params.get("channel") == user]


def test_overdue_checklist_items_are_nudged_and_done_ticks_the_checklist(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    run = _start_onboarding(deps, slack)
    clock.now = MONDAY_10
    run_once(deps, clock())
    [mine] = _dm(standin, "U0001")
    [theirs] = _dm(standin, "U0002")
    assert "Kick-off call (Customer onboarding: Acme &lt;b&gt;)" in str(mine["text"])
    assert "Provision the workspace" in str(theirs["text"])
    # the kick-off is 4 days late: the onboarding owner hears about it, not the 2-day one
    [report] = _dm(standin, "UPO")
    assert "Kick-off call" in str(report["text"]) and "Provision" not in str(report["text"])

    blocks = mine["blocks"]
    assert isinstance(blocks, list)
    value = next(
        e["value"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == DONE_ACTION
    )
    result = slack.click(DONE_ACTION, value, user="U0001", message={"ts": "9.9"})
    assert "Nothing of yours is overdue" in result.reply_text
    latest = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert latest.items[0].done_by == "U0001"
    # the checklist message in the channel shows the tick at once
    [update] = [c for c in result.of("chat.update") if c.params["ts"] == run.message_ts]
    assert "1/3" in str(update.params["text"]) + str(update.params["blocks"])
    clock.advance(days=1)
    run_once(deps, clock())
    assert len(_dm(standin, "U0001")) == 1  # nothing overdue any more
    assert len(_dm(standin, "U0002")) == 2


def test_digest_accountability_counts_overdue_checklist_items(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    _start_onboarding(deps, slack)
    clock.now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    run_once(deps, clock())
    [digest] = [c.params for c in standin.calls("chat.postMessage") if c.params["channel"] == "CD"]
    assert "*Accountability*" in digest["text"]
    assert "<@U0001>: 1 overdue" in digest["text"] and "<@U0002>: 1 overdue" in digest["text"]
