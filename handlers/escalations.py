"""`/escalate`, its modals and the lifecycle buttons of the escalation message.

The channel message is always rebuilt from the database after a change and updated in
place; when two changes race, the refresh loop below repeats until the version it rendered
is still the newest, so the last `chat.update` Slack receives shows what is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.errors import UserError
from bot.escalations import messages as escalation_messages
from bot.escalations import modals, service
from bot.escalations.models import TITLE_LIMIT, ChangeOutcome, EscalationDraft, EscalationView
from bot.escalations.render import (
    ACKNOWLEDGE,
    ESCALATE_HELP,
    REASSIGN,
    REOPEN,
    RESOLVE,
    EscalationRef,
    NewEscalationMeta,
    is_valid_link,
    render_confirmation,
    render_escalation_list,
    render_escalation_message,
    render_owner_dm,
    render_refusal,
)
from bot.escalations.sla import SEVERITIES
from bot.ids import is_user_id
from bot.org import service as directory
from bot.org import team_settings
from bot.slack.blocks import action_id, as_dicts
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.help import render_command_help
from bot.slack.post import permalink_of, send_dm, tell_privately
from bot.slack.replies import command_args, reply_ephemeral

log = logging.getLogger(__name__)

ESCALATE_COMMAND = "/escalate"
LIST_SCOPES = ("open", "mine", "all")


def register(app: App) -> None:
    app.command(ESCALATE_COMMAND)(guarded(handle_escalate_command))
    app.view(modals.NEW_CALLBACK)(guarded(handle_new_escalation_submission))
    app.view(modals.REASSIGN_CALLBACK)(guarded(handle_reassign_submission))
    app.view(modals.RESOLVE_CALLBACK)(guarded(handle_resolve_submission))
    # Channel messages posted before action ids were `domain.verb` carry the old ids.
    app.action(action_id(ACKNOWLEDGE, "escalation_acknowledge"))(guarded(handle_acknowledge_click))
    app.action(action_id(REASSIGN, "escalation_reassign"))(guarded(handle_reassign_click))
    app.action(action_id(RESOLVE, "escalation_resolve"))(guarded(handle_resolve_click))
    app.action(action_id(REOPEN, "escalation_reopen"))(guarded(handle_reopen_click))


# -- /escalate ----------------------------------------------------------------------------------
def handle_escalate_command(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    word, rest = command_args(body.get("text"))
    if word == "help":
        reply_ephemeral(respond, *render_command_help(ESCALATE_HELP))
        return
    if word == "list":
        scope = rest.lower() or "open"
        if scope not in LIST_SCOPES:
            raise UserError(
                "`/escalate list` takes `open`, `mine` or `all`.", example="/escalate list mine"
            )
        found = service.list_escalations(
            deps.sessions,
            team_id=team_id,
            scope=scope,  # type: ignore[arg-type]
            user_id=user_id,
            now=deps.clock(),
        )
        reply_ephemeral(respond, *render_escalation_list(found, scope=scope))
        return
    owner_id = directory.get_process_owner(
        deps.sessions, team_id=team_id, process_key=directory.ESCALATION_PROCESS
    )
    view = modals.render_new_escalation_modal(
        typed=body.get("text") or "",
        owner_id=owner_id,
        channel_id=body.get("channel_id"),
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_new_escalation_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    values = body["view"]["state"]["values"]
    title = (_text(values, modals.TITLE) or "").strip()
    severity = _selected(values, modals.SEVERITY)
    link = (_text(values, modals.LINK) or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors[modals.TITLE] = "Give the escalation a title, e.g. “Checkout fails for EU cards”."
    elif len(title) > TITLE_LIMIT:
        errors[modals.TITLE] = f"Keep the title under {TITLE_LIMIT} characters."
    if severity not in SEVERITIES:
        errors[modals.SEVERITY] = "Choose a severity (SEV1 is the most urgent)."
    if link and not is_valid_link(link):
        errors[modals.LINK] = "Enter a link starting with https:// (or leave it empty)."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    meta = NewEscalationMeta.decode(body["view"].get("private_metadata"))
    owner_id = (
        _user(values, modals.OWNER)
        or directory.get_process_owner(
            deps.sessions, team_id=team_id, process_key=directory.ESCALATION_PROCESS
        )
        or user_id
    )
    draft = EscalationDraft(
        title=title,
        severity=str(severity),
        owner_id=owner_id,
        customer=_text(values, modals.CUSTOMER) or "",
        description=_text(values, modals.DESCRIPTION) or "",
        link=link or None,
    )
    escalation = service.open_escalation(
        deps.sessions, team_id=team_id, reporter_id=user_id, draft=draft, now=deps.clock()
    )
    _publish_new(deps, client, escalation, origin_channel=meta.channel_id)


def _publish_new(
    deps: Deps, client: WebClient, e: EscalationView, *, origin_channel: str | None
) -> None:
    """Post the message (escalation channel, else where /escalate was typed, else the owner's
    DM), DM the owner and confirm to the reporter."""
    configured = directory.get_team_setting(
        deps.sessions, team_id=e.team_id, key=team_settings.ESCALATIONS_CHANNEL
    )
    candidates = [c for c in dict.fromkeys([configured, origin_channel, e.owner_id]) if c]
    text, blocks = render_escalation_message(e)
    posted_via: str | None = None
    failed: list[str] = []
    for channel in candidates:
        try:
            response = client.chat_postMessage(channel=channel, text=text, blocks=as_dicts(blocks))
        except SlackApiError as exc:
            log.warning("could not post escalation %s in %s: %s", e.id, channel, exc)
            failed.append(channel)
            continue
        except OSError as exc:
            # No answer in time: Slack may well have posted it, so no fallback post that
            # could double it. The escalation is stored; owner and reporter are still told.
            log.warning("no answer posting escalation %s in %s: %r", e.id, channel, exc)
            failed.append(channel)
            break
        posted_via = channel
        ts = str(response["ts"])
        service.record_escalation_message(
            deps.sessions,
            team_id=e.team_id,
            escalation_id=e.id,
            channel_id=str(response["channel"]),
            message_ts=ts,
            permalink=permalink_of(client, channel=str(response["channel"]), ts=ts),
        )
        break
    e = service.get_escalation(
        deps.sessions, team_id=e.team_id, escalation_id=e.id, now=deps.clock()
    )
    in_owner_dm = posted_via == e.owner_id
    if not in_owner_dm:
        send_dm(client, e.owner_id, render_owner_dm(e))
    confirmation = render_confirmation(
        e,
        posted_in=None if in_owner_dm else posted_via,
        configured=configured,
        failed=[c for c in failed if c != e.owner_id],
        in_owner_dm=in_owner_dm,
    )
    tell_privately(client, user_id=e.reporter_id, channel_id=origin_channel, text=confirmation)


# -- buttons ------------------------------------------------------------------------------------
def handle_acknowledge_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    _click_transition(body, respond, client, context, service.acknowledge_escalation)


def handle_reopen_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    _click_transition(body, respond, client, context, service.reopen_escalation)


def _click_transition(
    body: dict[str, Any],
    respond: Respond,
    client: WebClient,
    context: BoltContext,
    change: Callable[..., ChangeOutcome],
) -> None:
    """A one-click lifecycle change (acknowledge, reopen) of the escalation in the button."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(_action_value(body))
    outcome = change(
        deps.sessions, team_id=team_id, escalation_id=ref.id, actor_id=user_id, now=deps.clock()
    )
    _after_change(deps, client, outcome, tell=lambda text: reply_ephemeral(respond, text))


def handle_reassign_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    e = _allowed_unresolved(body, respond, client, context)
    if e is not None:
        client.views_open(trigger_id=body["trigger_id"], view=modals.render_reassign_modal(e))


def handle_resolve_click(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    ack()
    e = _allowed_unresolved(body, respond, client, context)
    if e is not None:
        client.views_open(trigger_id=body["trigger_id"], view=modals.render_resolve_modal(e))


def _allowed_unresolved(
    body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> EscalationView | None:
    """The escalation behind a button, if the user may change it and it is still unresolved."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(_action_value(body))
    e = service.ensure_can_act(
        deps.sessions, team_id=team_id, escalation_id=ref.id, user_id=user_id, now=deps.clock()
    )
    if not e.is_resolved:
        return e
    reply_ephemeral(respond, render_refusal(ChangeOutcome(e, None, "already_resolved")))
    escalation_messages.refresh_message(deps, client, team_id=team_id, escalation_id=e.id)
    return None


# -- reassign / resolve modals --------------------------------------------------------------------
def handle_reassign_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    new_owner = _user(body["view"]["state"]["values"], modals.NEW_OWNER)
    if not new_owner:
        ack(response_action="errors", errors={modals.NEW_OWNER: "Pick the new owner."})
        return
    ack()
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(body["view"].get("private_metadata"))
    outcome = service.reassign_escalation(
        deps.sessions,
        team_id=team_id,
        escalation_id=ref.id,
        actor_id=user_id,
        new_owner_id=new_owner,
        now=deps.clock(),
    )
    _after_change(deps, client, outcome, tell=lambda text: send_dm(client, user_id, text))
    if outcome.event is not None:
        send_dm(client, new_owner, render_owner_dm(outcome.escalation, assigned_by=user_id))


def handle_resolve_submission(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    values = body["view"]["state"]["values"]
    root_cause = (_text(values, modals.ROOT_CAUSE) or "").strip()
    corrective_action = (_text(values, modals.CORRECTIVE_ACTION) or "").strip()
    errors: dict[str, str] = {}
    if not root_cause:
        errors[modals.ROOT_CAUSE] = "Say what caused it; an escalation is resolved with its cause."
    if not corrective_action:
        errors[modals.CORRECTIVE_ACTION] = "Say what was done so it does not happen again."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(body["view"].get("private_metadata"))
    outcome = service.resolve_escalation(
        deps.sessions,
        team_id=team_id,
        escalation_id=ref.id,
        actor_id=user_id,
        root_cause=root_cause,
        corrective_action=corrective_action,
        now=deps.clock(),
    )
    _after_change(deps, client, outcome, tell=lambda text: send_dm(client, user_id, text))


# -- shared ---------------------------------------------------------------------------------------
def _after_change(deps: Deps, client: WebClient, outcome: ChangeOutcome, *, tell: Any) -> None:
    """Log the change in the thread (or say why nothing changed), then refresh the message."""
    e = outcome.escalation
    if outcome.event is None:
        tell(render_refusal(outcome))
    else:
        escalation_messages.post_event(deps, client, team_id=e.team_id, event=outcome.event)
    escalation_messages.refresh_message(deps, client, team_id=e.team_id, escalation_id=e.id)


def _action_value(body: dict[str, Any]) -> str | None:
    actions = body.get("actions") or [{}]
    value = actions[0].get("value")
    return str(value) if value is not None else None


def _state(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    state: dict[str, Any] = (values.get(block_id) or {}).get(modals.VALUE) or {}
    return state


def _text(values: dict[str, Any], block_id: str) -> str | None:
    value = _state(values, block_id).get("value")
    return str(value) if value is not None else None


def _selected(values: dict[str, Any], block_id: str) -> str | None:
    option = _state(values, block_id).get("selected_option") or {}
    value = option.get("value")
    return str(value) if value is not None else None


def _user(values: dict[str, Any], block_id: str) -> str | None:
    """The person picked in a user select; None for anything not shaped like a user id (a
    forged value is never rendered as a mention nor posted to as if it were a DM)."""
    user = _state(values, block_id).get("selected_user")
    return str(user) if is_user_id(user) else None
