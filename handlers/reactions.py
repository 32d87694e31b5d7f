"""Reactions that capture a message (`reaction_added`, in HTTP and Socket Mode alike, both
through the Bolt app), the receipt's *Undo*, and the offer's *Raise escalation*.

The event listener never calls Slack: it stores the capture and queues the message's
lookup; the outbox sender reads the message and the recorder stores the feedback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.errors import DatabaseUnavailableError, UserError
from bot.escalations import modals
from bot.ids import is_channel_id, is_team_id, is_user_id, parse_record_id
from bot.org import service as directory
from bot.reactions import service
from bot.reactions.messages import noticed_messages
from bot.reactions.models import RAISE_ACTION, UNDO_ACTION, Reaction
from bot.reactions.render import render_undone
from bot.slack.blocks import as_dicts
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.errors import guarded, message_for
from bot.slack.events import release_event_delivery

log = logging.getLogger(__name__)

MESSAGE_TS = re.compile(r"\A\d{1,12}\.\d{1,9}\Z")
EMOJI = re.compile(r"\A[a-z0-9_+'-]{1,100}(::skin-tone-\d)?\Z")


def register(app: App) -> None:
    # Bolt acknowledges an event before its listener runs; a listener middleware runs on
    # the request thread before that ack, so the capture is committed when Slack hears 200
    # (acknowledged means stored), and a failure answers 500 so Slack delivers it again.
    app.event("reaction_added", middleware=[store_reaction_before_ack])(
        guarded(handle_reaction_added)
    )
    app.action(UNDO_ACTION)(guarded(handle_undo_click))
    app.action(RAISE_ACTION)(guarded(handle_raise_escalation_click))


def reaction_of(body: dict[str, Any]) -> Reaction | None:
    """The reaction in a `reaction_added` delivery, if it is on a message and well formed.

    The workspace is the installed one (`authorizations`), never the partner's that a Slack
    Connect delivery may carry at the top level. The reactor's own workspace comes as the
    event's `user_team` (or `team`), or as that top-level team in a shared channel; when it
    is not ours they are a partner's user."""
    raw_event = body.get("event")
    event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
    raw_item = event.get("item")
    item: dict[str, Any] = raw_item if isinstance(raw_item, dict) else {}
    if item.get("type") != "message":
        return None  # a reaction on a file or a file comment: nothing to capture
    team_id, user_id = team_of(body), str(event.get("user") or "")
    channel, ts, emoji = (
        str(item.get("channel") or ""),
        str(item.get("ts") or ""),
        event.get("reaction"),
    )
    if not (
        team_id
        and is_user_id(user_id)
        and is_channel_id(channel)
        and MESSAGE_TS.match(ts)
        and isinstance(emoji, str)
        and EMOJI.match(emoji)
    ):
        log.info("ignored a reaction_added that is not a well-formed reaction on a message")
        return None
    own = event.get("user_team") or event.get("team")
    shared = bool(body.get("is_ext_shared_channel"))
    if not own and shared:
        own = body.get("team_id")
    partner = str(own) if is_team_id(own) and own != team_id else None
    if partner and team_id.startswith("E"):
        # An org-wide install files everything under the org (E…), and its own workspaces
        # (T…) are not partners: only a team outside the delivery's authorizations, in a
        # shared channel, is.
        ours = {a.get("team_id") for a in body.get("authorizations") or [] if isinstance(a, dict)}
        partner = partner if shared and partner not in ours else None
    return Reaction(
        team_id=team_id,
        channel_id=channel,
        message_ts=ts,
        user_id=user_id,
        emoji=emoji,
        user_team_id=partner,
    )


def store_reaction_before_ack(
    body: dict[str, Any], context: BoltContext, next: Callable[[], None]
) -> BoltResponse | None:
    """Store what the reaction asks for, then let Bolt ack; on a failure nothing is acked:
    the delivery's claim is released and Slack's retry of the event is handled anew."""
    try:
        capture_reaction(body, context)
    except Exception as error:
        message_for(error)  # logs it (a bug with an error id)
        event_id = body.get("event_id")
        if isinstance(event_id, str):
            try:
                release_event_delivery(
                    deps_of(context).sessions, team_id=team_of(body), event_id=event_id
                )
            except DatabaseUnavailableError:
                log.warning("could not release event %s; its retry will be dropped", event_id)
        return BoltResponse(status=500, body="")
    next()
    return None


def handle_reaction_added(body: dict[str, Any]) -> None:
    """Everything was stored before the ack (`store_reaction_before_ack`)."""


def capture_reaction(body: dict[str, Any], context: BoltContext) -> None:
    """Store the capture (and the lookup of its message) a capture emoji asks for."""
    reaction = reaction_of(body)
    if reaction is None:
        return
    deps = deps_of(context)
    shared = bool(body.get("is_ext_shared_channel")) or reaction.by_partner
    outcome = service.notice_reaction(
        deps.sessions,
        reaction=reaction,
        shared_channel=shared,
        now=deps.clock(),
        messages=noticed_messages,
    )
    log.info("reaction :%s: on %s: %s", reaction.emoji, reaction.channel_id, outcome.noticed)


def handle_undo_click(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """The receipt's *Undo*: the feedback is removed (committed) before the ack; the
    ephemeral receipt is then replaced through its response_url (nothing else reaches it)."""
    deps = deps_of(context)
    capture_id = _capture_id(body)
    capture = service.undo_capture(
        deps.sessions,
        team_id=team_of(body),
        capture_id=capture_id,
        user_id=user_of(body),
        now=deps.clock(),
    )
    ack()
    text, blocks = render_undone(capture)
    if context.response_url:
        try:
            respond(text=text, blocks=as_dicts(blocks), replace_original=True)
        except OSError as exc:  # the feedback is removed; only the receipt stays as it was
            log.warning("could not replace the receipt of capture %s: %r", capture.id, exc)


def handle_raise_escalation_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """*Raise escalation*: the escalation form, filled in from the captured message."""
    deps, team_id = deps_of(context), team_of(body)
    capture = service.get_escalation_offer(
        deps.sessions, team_id=team_id, capture_id=_capture_id(body), user_id=user_of(body)
    )
    owner_id = directory.get_process_owner(
        deps.sessions, team_id=team_id, process_key=directory.ESCALATION_PROCESS
    )
    text = capture.text or ""
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    view = modals.render_new_escalation_modal(
        typed=first_line,
        owner_id=owner_id,
        # Never a Slack Connect channel: the escalation and its confirmation stay ours.
        channel_id=None if capture.shared_channel else capture.channel_id,
        description=text,
        link=capture.permalink,
    )
    ack()
    client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)


def _capture_id(body: dict[str, Any]) -> int:
    action = (body.get("actions") or [{}])[0]
    capture_id = parse_record_id(action.get("value") if isinstance(action, dict) else None)
    if capture_id is None:
        raise UserError("That button does not point at a message Opsloop captured.")
    return capture_id
