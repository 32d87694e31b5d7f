"""The *Done* / *Snooze 1 day* buttons of a nudge DM (`/ops nudge preview` is in `ops`)."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.checklists.messages import announce
from bot.checklists.models import TickResult
from bot.deps import Deps
from bot.errors import UserError
from bot.escalations import messages as escalation_messages
from bot.escalations.models import ChangeOutcome
from bot.nudges import service as nudges
from bot.nudges.render import DONE_ACTION, SNOOZE_ACTION, ItemRef, render_nudge
from bot.slack.blocks import action_id, as_dicts
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.mrkdwn import local_date


def register(app: App) -> None:
    # guarded: errors are answered inside the listener (see bot.slack.errors.guarded)
    # Nudge DMs posted before action ids were `domain.verb` carry the old ids.
    app.action(action_id(DONE_ACTION, "nudge_done"))(guarded(handle_nudge_done))
    app.action(action_id(SNOOZE_ACTION, "nudge_snooze"))(guarded(handle_nudge_snooze))


def bring_item_message_up_to_date(deps: Deps, client: WebClient, result: nudges.DoneResult) -> None:
    """After *Done*, the item's own message shows the change (checklist or escalation)."""
    match result:
        case TickResult():
            if result.changed:
                announce(deps, client, result)
        case ChangeOutcome():
            e = result.escalation
            if result.event is not None:
                escalation_messages.post_event(deps, client, team_id=e.team_id, event=result.event)
            escalation_messages.refresh_message(deps, client, team_id=e.team_id, escalation_id=e.id)


def _item_ref(body: dict[str, Any]) -> ItemRef:
    actions = body.get("actions") or [{}]
    try:
        return ItemRef.from_value(str(actions[0].get("value", "")))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise UserError("That button is out of date; run `/ops nudge preview`.") from None


def _refresh(deps: Deps, body: dict[str, Any], respond: Respond, note: str) -> None:
    """Replace the nudge message with the owner's current list and what just happened."""
    now = deps.clock()
    nudge = nudges.preview_nudge(
        deps.sessions,
        sources=deps.nudge_sources,
        team_id=team_of(body),
        user_id=user_of(body),
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
    )
    text, blocks = render_nudge(nudge, now=now, note=note)
    respond(text=text, blocks=as_dicts(blocks), replace_original=True)


def handle_nudge_done(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext, client: WebClient
) -> None:
    ack()
    deps = deps_of(context)
    ref = _item_ref(body)
    result = nudges.mark_item_done(
        deps.sessions,
        sources=deps.nudge_sources,
        team_id=team_of(body),
        source=ref.source,
        item_id=ref.item_id,
        user_id=user_of(body),
        now=deps.clock(),
    )
    bring_item_message_up_to_date(deps, client, result)
    _refresh(deps, body, respond, ":white_check_mark: Marked done.")


def handle_nudge_snooze(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    ref = _item_ref(body)
    until = nudges.snooze_item(
        deps.sessions,
        sources=deps.nudge_sources,
        team_id=team_of(body),
        source=ref.source,
        item_id=ref.item_id,
        user_id=user_of(body),
        now=deps.clock(),
        default_timezone=deps.settings.opsloop_timezone,
    )
    when = local_date(until)
    _refresh(deps, body, respond, f":zzz: Snoozed: left out of nudges until {when}.")
