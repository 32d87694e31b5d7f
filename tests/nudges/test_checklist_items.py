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
from tests.support.checklists import ONBOARDING, TEAM, add_templates, only_run
from tests.support.schedule import run_and_deliver
from tests.support.slack import ApiCall, SlackDriver, SlackStandin

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
    return [c.params for c in _dm_calls(standin, user)]


def _dm_calls(standin: SlackStandin, user: str) -> list[ApiCall]:
    return [c for c in standin.calls("chat.postMessage") if c.params.get("channel") == user]


def test_overdue_checklist_items_are_nudged_and_done_ticks_the_checklist(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    run = _start_onboarding(deps, slack)
    clock.now = MONDAY_10
    run_and_deliver(deps, clock())
    [mine_call] = _dm_calls(standin, "U0001")
    mine = mine_call.params
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
    dm_channel, dm_ts = mine_call.response["channel"], mine_call.response["ts"]
    result = slack.click(
        DONE_ACTION, value, user="U0001", channel=dm_channel, message={"ts": dm_ts}
    )
    assert result.status == 200 and not result.body and result.of("response_url") == []
    latest = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert latest.items[0].done_by == "U0001"
    # the nudge DM that was clicked is updated in place with what is left
    [dm_update] = [c for c in result.of("chat.update") if c.params["channel"] == dm_channel]
    assert dm_update.params["ts"] == dm_ts
    assert "Marked done" in str(dm_update.params["text"])
    assert "Nothing of yours is overdue" in str(dm_update.params["text"])
    # the checklist message in the channel shows the tick at once
    assert run.message_ts is not None
    [update] = [c for c in result.of("chat.update") if c.params["ts"] == run.message_ts]
    assert update.params["channel"] == run.channel_id
    assert "1/3" in str(update.params["text"]) + str(update.params["blocks"])
    clock.advance(days=1)
    run_and_deliver(deps, clock())
    assert len(_dm(standin, "U0001")) == 1  # nothing overdue any more
    assert len(_dm(standin, "U0002")) == 2


def test_digest_accountability_counts_overdue_checklist_items(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    _start_onboarding(deps, slack)
    clock.now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    run_and_deliver(deps, clock())
    [digest] = [c.params for c in standin.calls("chat.postMessage") if c.params["channel"] == "CD"]
    assert "*Accountability*" in digest["text"]
    assert "<@U0001>: 1 overdue" in digest["text"] and "<@U0002>: 1 overdue" in digest["text"]
