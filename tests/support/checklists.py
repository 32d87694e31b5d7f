"""Helpers for the checklist tests: templates, the posted message, and clicks on it."""

from __future__ import annotations

import json
from typing import Any

from bot.checklists import service as checklists
from bot.checklists.models import RunView
from bot.checklists.render import MENU_ACTION, TICK_ACTION
from bot.checklists.templates import parse_template_specs, sync_templates
from bot.deps import Deps
from tests.support.slack import Result, SlackDriver, SlackStandin

TEAM = "T0001"
CHANNEL = "C0001"
STARTER = "U0001"

ONBOARDING: dict[str, Any] = {
    "name": "onboarding",
    "title": "Customer onboarding",
    "description": "From signed contract to first value.",
    "items": [
        {"title": "Kick-off call", "owner": "starter", "due_days": 0},
        {"title": "Provision the workspace", "owner": "U0002", "due_days": 2},
        {
            "title": "Import the customer's data",
            "owner": "process:onboarding",
            "due_days": 5,
            "help_url": "https://wiki.example.com/import",
        },
    ],
}


def big_template(count: int, name: str = "big") -> dict[str, Any]:
    return {
        "name": name,
        "title": f"Launch with {count} steps",
        "items": [
            {"title": f"Step {i + 1}", "owner": "U0002", "due_days": i % 7} for i in range(count)
        ],
    }


def add_templates(deps: Deps, *raw: dict[str, Any], team_id: str = TEAM) -> None:
    sync_templates(
        deps.sessions, team_id=team_id, specs=parse_template_specs(list(raw)), now=deps.clock()
    )


def active_runs(deps: Deps, team_id: str = TEAM) -> list[RunView]:
    return checklists.list_active_runs(
        deps.sessions, team_id=team_id, user_id=STARTER, mine_only=False
    )


def only_run(deps: Deps, team_id: str = TEAM) -> RunView:
    [run] = active_runs(deps, team_id)
    return run


def current_message(standin: SlackStandin, run: RunView) -> dict[str, Any]:
    """The message as Slack holds it now: the last chat.update, else the original post."""
    updates = [c for c in standin.calls("chat.update") if c.params.get("ts") == run.message_ts]
    if updates:
        params = updates[-1].params
    else:
        params = next(
            c.params
            for c in standin.calls("chat.postMessage")
            if c.params.get("channel") == run.channel_id and "thread_ts" not in c.params
        )
    blocks = params["blocks"]
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return {"type": "message", "ts": run.message_ts, "text": params.get("text"), "blocks": blocks}


def checkbox_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b
        for b in message["blocks"]
        if b["type"] == "actions" and b["elements"][0]["type"] == "checkboxes"
    ]


def ticked(message: dict[str, Any]) -> set[int]:
    return {
        int(o["value"])
        for b in checkbox_blocks(message)
        for o in b["elements"][0].get("initial_options") or []
    }


def click_item(
    slack: SlackDriver,
    message: dict[str, Any],
    position: int,
    *,
    tick: bool = True,
    user: str = STARTER,
    channel: str = CHANNEL,
) -> Result:
    """Tick (or untick) one box the way Slack sends it: the group's state after the click."""
    block = next(
        b
        for b in checkbox_blocks(message)
        if any(o["value"] == str(position) for o in b["elements"][0]["options"])
    )
    element = block["elements"][0]
    after = {o["value"] for o in element.get("initial_options") or []}
    (after.add if tick else after.discard)(str(position))
    selected = [o for o in element["options"] if o["value"] in after]
    return raw_click(
        slack, message, block_id=block["block_id"], selected=selected, user=user, channel=channel
    )


def raw_click(
    slack: SlackDriver,
    message: dict[str, Any],
    *,
    block_id: str,
    selected: list[dict[str, Any]],
    user: str = STARTER,
    channel: str = CHANNEL,
) -> Result:
    return slack.click(
        TICK_ACTION,
        block_id=block_id,
        action_type="checkboxes",
        user=user,
        channel=channel,
        message=message,
        extra={"selected_options": selected},
    )


def cancel(slack: SlackDriver, message: dict[str, Any], *, user: str = STARTER) -> Result:
    status = message["blocks"][1]
    option = status["accessory"]["options"][0]
    return slack.click(
        MENU_ACTION,
        block_id=status["block_id"],
        action_type="overflow",
        user=user,
        message=message,
        extra={"selected_option": option},
    )
