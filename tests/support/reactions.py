"""Reactions as Slack delivers them, for the reaction capture tests."""

from __future__ import annotations

import json
from typing import Any

from bot.reactions.models import RAISE_ACTION, UNDO_ACTION
from tests.conftest import SIGNING_SECRET
from tests.support.slack import ApiCall, Result, SlackDriver, SlackStandin, payloads

TEAM = "T0001"
CHANNEL = "C0001"
REACTOR = "U0001"
AUTHOR = "U0AUTHOR"
SECOND = "U0SECOND"
ADMIN = "U0ADMIN"
PARTNER_TEAM = "T0PARTNER"
PARTNER_USER = "U0CUSTOMER"


def reaction_event(
    ts: str,
    *,
    user: str = REACTOR,
    reaction: str = "memo",
    channel: str = CHANNEL,
    item_user: str | None = AUTHOR,
    user_team: str | None = None,
) -> dict[str, Any]:
    """A `reaction_added` event as Slack sends it."""
    event: dict[str, Any] = {
        "type": "reaction_added",
        "user": user,
        "reaction": reaction,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": "1700000999.000200",
    }
    if item_user:
        event["item_user"] = item_user
    if user_team:
        event["user_team"] = user_team
    return event


def react(
    slack: SlackDriver,
    ts: str,
    *,
    event_id: str | None = None,
    retry_num: int | None = None,
    partner_team_id: str | None = None,
    **event: Any,
) -> Result:
    """Deliver a reaction (signed, with `authorizations` naming our workspace); with
    `retry_num`, as Slack's redelivery of the same event id (`X-Slack-Retry-Num`)."""
    if retry_num is None:
        return slack.event(
            reaction_event(ts, **event), event_id=event_id, partner_team_id=partner_team_id
        )
    assert event_id, "a redelivery repeats an event id"
    body = payloads.event_callback(
        reaction_event(ts, **event),
        team_id=slack.team_id,
        event_id=event_id,
        partner_team_id=partner_team_id,
    )
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.JSON)
    headers["X-Slack-Retry-Num"] = str(retry_num)
    headers["X-Slack-Retry-Reason"] = "http_timeout"
    return slack.send(body, content_type=payloads.JSON, headers=headers)


def ephemerals(result: Result | list[ApiCall], user: str | None = None) -> list[ApiCall]:
    calls = result.of("chat.postEphemeral") if isinstance(result, Result) else result
    return [c for c in calls if user is None or c.params.get("user") == user]


def blocks_of(call: ApiCall) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def all_text(call: ApiCall) -> str:
    return str(call.params.get("text") or "") + json.dumps(blocks_of(call), ensure_ascii=False)


def button(call: ApiCall, action_id: str) -> dict[str, Any]:
    for block in blocks_of(call):
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return dict(element)
    raise AssertionError(f"no {action_id} button in {all_text(call)}")


def undo(slack: SlackDriver, receipt: ApiCall, *, user: str = REACTOR) -> Result:
    return slack.click(UNDO_ACTION, button(receipt, UNDO_ACTION)["value"], user=user)


def raise_click(slack: SlackDriver, offer: ApiCall, *, user: str = REACTOR) -> Result:
    return slack.click(RAISE_ACTION, button(offer, RAISE_ACTION)["value"], user=user)


def post_message(standin: SlackStandin, text: str, **fields: Any) -> str:
    """A person's message in the channel (Slack's entity-escaped text); its ts."""
    fields.setdefault("user", AUTHOR)
    return standin.add_message(fields.pop("channel", CHANNEL), text=text, **fields)


def effects(result: Result) -> list[ApiCall]:
    """The Slack calls a request caused (Bolt's own auth.test on its first request aside)."""
    return [c for c in result.calls if c.method != "auth.test"]
