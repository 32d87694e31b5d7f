"""The *Done* / *Snooze 1 day* buttons of a nudge DM (`/ops nudge preview` is in `ops`)."""

from __future__ import annotations

import json
import logging
from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond

from bot.checklists.models import TickResult
from bot.deps import Deps
from bot.errors import DatabaseUnavailableError, UserError
from bot.escalations.models import ChangeOutcome
from bot.escalations.render import render_refusal
from bot.nudges import service as nudges
from bot.nudges.render import DONE_ACTION, SNOOZE_ACTION, ItemRef, render_nudge
from bot.outbox import models as outbox
from bot.outbox.service import enqueue_messages
from bot.slack.blocks import action_id, as_dicts
from bot.slack.context import clicked_message, deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.mrkdwn import local_date

log = logging.getLogger(__name__)


def register(app: App) -> None:
    # guarded: errors are answered inside the listener (see bot.slack.errors.guarded)
    # Nudge DMs posted before action ids were `domain.verb` carry the old ids.
    app.action(action_id(DONE_ACTION, "nudge_done"))(guarded(handle_nudge_done))
    app.action(action_id(SNOOZE_ACTION, "nudge_snooze"))(guarded(handle_nudge_snooze))


def done_note(result: nudges.DoneResult) -> str:
    """What the refreshed nudge says about *Done*. The item's own message (checklist or
    escalation) was brought up to date by the change itself, through the outbox."""
    match result:
        case None:
            return ":white_check_mark: Marked done."
        case TickResult():
            return ":white_check_mark: Marked done."
        case ChangeOutcome():
            if result.event is None:
                return render_refusal(result)
            return ":white_check_mark: Marked done."
        case _:
            assert_never(result)


def _item_ref(body: dict[str, Any]) -> ItemRef:
    actions = body.get("actions") or [{}]
    try:
        return ItemRef.from_value(str(actions[0].get("value", "")))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise UserError("That button is out of date; run `/ops nudge preview`.") from None


def _refresh(deps: Deps, body: dict[str, Any], note: str, ack: Ack, respond: Respond) -> None:
    """Ack, and replace the nudge message with the owner's current list and what just
    happened: the DM through the outbox (only its newest version is ever sent); the
    `/ops nudge preview` ephemeral, which chat.update cannot reach, through its
    response_url (Slack's webhook for that message, not the rate-limited Web API)."""
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
    if (body.get("container") or {}).get("is_ephemeral"):
        ack()
        respond(text=text, blocks=as_dicts(blocks), replace_original=True)
        return
    channel, ts = clicked_message(body)
    if channel and ts:
        key = f"nudge-dm:{channel}:{ts}"
        update = outbox.update(
            key, of=None, channel=channel, ts=ts, text=text, blocks=as_dicts(blocks)
        )
        try:
            enqueue_messages(deps.sessions, team_id=team_of(body), messages=[update], now=now)
        except DatabaseUnavailableError:
            # The change itself is committed; only this view of it could not be queued.
            log.warning("could not queue the refresh of nudge %s in %s", ts, channel)
    ack()


def handle_nudge_done(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
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
    _refresh(deps, body, done_note(result), ack, respond)


def handle_nudge_snooze(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
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
    _refresh(deps, body, f":zzz: Snoozed: left out of nudges until {when}.", ack, respond)
