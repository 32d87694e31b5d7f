"""`/escalate`, its modals and the lifecycle buttons of the escalation message.

Every change is stored, with its Slack side effects in the outbox, before the ack: the
sender posts the message, its thread notes and the DMs, and re-renders the channel message
from the database, so the last version Slack shows is what is stored.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps
from bot.errors import UserError
from bot.escalations import modals, service
from bot.escalations.models import TITLE_LIMIT, ChangeOutcome, EscalationDraft, EscalationView
from bot.escalations.render import (
    ACKNOWLEDGE,
    ESCALATE_HELP,
    REASSIGN,
    REOPEN,
    RESOLVE,
    SEVERITY,
    EscalationRef,
    NewEscalationMeta,
    SeverityChoice,
    is_valid_link,
    render_confirmation,
    render_escalation_list,
    render_refusal,
)
from bot.escalations.sla import SEVERITIES
from bot.ids import is_user_id
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue_messages
from bot.slack.blocks import action_id
from bot.slack.context import clicked_message, deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.help import render_command_help
from bot.slack.replies import answer, command_args

log = logging.getLogger(__name__)

ESCALATE_COMMAND = "/escalate"
LIST_SCOPES = ("open", "mine", "all")


def register(app: App) -> None:
    app.command(ESCALATE_COMMAND)(guarded(handle_escalate_command))
    app.view(modals.NEW_CALLBACK)(guarded(handle_new_escalation_submission))
    app.view(modals.REASSIGN_CALLBACK)(guarded(handle_reassign_submission))
    app.view(modals.RESOLVE_CALLBACK)(guarded(handle_resolve_submission))
    app.view(modals.REOPEN_CALLBACK)(guarded(handle_reopen_submission))
    # Channel messages posted before action ids were `domain.verb` carry the old ids.
    app.action(action_id(ACKNOWLEDGE, "escalation_acknowledge"))(guarded(handle_acknowledge_click))
    app.action(action_id(REASSIGN, "escalation_reassign"))(guarded(handle_reassign_click))
    app.action(action_id(RESOLVE, "escalation_resolve"))(guarded(handle_resolve_click))
    app.action(action_id(REOPEN, "escalation_reopen"))(guarded(handle_reopen_click))
    app.action(SEVERITY)(guarded(handle_severity_select))


# -- /escalate ----------------------------------------------------------------------------------
def handle_escalate_command(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    word, rest = command_args(body.get("text"))
    if word == "help":
        answer(ack, *render_command_help(ESCALATE_HELP))
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
        answer(ack, *render_escalation_list(found, scope=scope))
        return
    owner_id = directory.get_process_owner(
        deps.sessions, team_id=team_id, process_key=directory.ESCALATION_PROCESS
    )
    view = modals.render_new_escalation_modal(
        typed=body.get("text") or "",
        owner_id=owner_id,
        channel_id=body.get("channel_id"),
    )
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=view)


def handle_new_escalation_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Validate, then store (with its messages in the outbox), then close the modal."""
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
        link=link or meta.source_link or None,
    )
    configured = directory.get_team_setting(
        deps.sessions, team_id=team_id, key=team_settings.ESCALATIONS_CHANNEL
    )
    post_in = [c for c in (configured, meta.channel_id) if c]

    def confirmation(e: EscalationView) -> list[Outgoing]:
        text = render_confirmation(
            e, channel=post_in[0] if post_in else None, configured=configured
        )
        return [
            outbox.tell_privately(
                f"{service.message_key(e.id)}:confirmation",
                user_id=user_id,
                channel=meta.channel_id,
                text=text,
            )
        ]

    view_id = re.sub(r"[^A-Za-z0-9]", "", str(body["view"].get("id") or ""))[:64]
    service.open_escalation(
        deps.sessions,
        team_id=team_id,
        reporter_id=user_id,
        draft=draft,
        now=deps.clock(),
        post_in=post_in,
        messages=confirmation,
        # Slack resends a submission it got no answer to, and a double click submits the
        # same view twice: both carry the view's id, so it is stored once.
        submission_key=f"view:{view_id}" if view_id else None,
    )
    ack()


# -- buttons ------------------------------------------------------------------------------------
def handle_acknowledge_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    _click_transition(ack, body, context, service.acknowledge_escalation)


def handle_reopen_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Reopen asks why first (a modal); one that is not resolved is refused at once."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(_action_value(body))
    e = service.ensure_can_act(
        deps.sessions, team_id=team_id, escalation_id=ref.id, user_id=user_id, now=deps.clock()
    )
    if not e.is_resolved:
        service.refresh_message(
            deps.sessions, team_id=team_id, escalation_id=e.id, now=deps.clock()
        )
        refusal = render_refusal(ChangeOutcome(e, None, "not_resolved"))
        _tell(deps, team_id, user_id, clicked_message(body)[0] or None, refusal)
        ack()
        return
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=modals.render_reopen_modal(e))


def handle_severity_select(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """A new severity picked on the message: clocks recomputed, logged in the thread."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    option = (body.get("actions") or [{}])[0].get("selected_option") or {}
    choice = SeverityChoice.decode(str(option.get("value") or ""))
    outcome = service.change_severity(
        deps.sessions,
        team_id=team_id,
        escalation_id=choice.id,
        actor_id=user_id,
        severity=choice.severity,
        now=deps.clock(),
    )
    ack()
    if outcome.event is None:
        _tell(deps, team_id, user_id, clicked_message(body)[0] or None, render_refusal(outcome))


def _click_transition(
    ack: Ack, body: dict[str, Any], context: BoltContext, change: Callable[..., ChangeOutcome]
) -> None:
    """A one-click lifecycle change (acknowledge, reopen) of the escalation in the button:
    committed (with its message refresh and thread note) before the ack."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(_action_value(body))
    outcome = change(
        deps.sessions, team_id=team_id, escalation_id=ref.id, actor_id=user_id, now=deps.clock()
    )
    ack()
    if outcome.event is None:
        _tell(deps, team_id, user_id, clicked_message(body)[0] or None, render_refusal(outcome))


def handle_reassign_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    e = _allowed_unresolved(body, context)
    ack()
    if e is not None:
        client.views_open(trigger_id=body["trigger_id"], view=modals.render_reassign_modal(e))


def handle_resolve_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    e = _allowed_unresolved(body, context)
    ack()
    if e is not None:
        client.views_open(trigger_id=body["trigger_id"], view=modals.render_resolve_modal(e))


def _allowed_unresolved(body: dict[str, Any], context: BoltContext) -> EscalationView | None:
    """The escalation behind a button, if the user may change it and it is still unresolved;
    a resolved one is refused (and its stale message refreshed)."""
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(_action_value(body))
    e = service.ensure_can_act(
        deps.sessions, team_id=team_id, escalation_id=ref.id, user_id=user_id, now=deps.clock()
    )
    if not e.is_resolved:
        return e
    service.refresh_message(deps.sessions, team_id=team_id, escalation_id=e.id, now=deps.clock())
    refusal = render_refusal(ChangeOutcome(e, None, "already_resolved"))
    _tell(deps, team_id, user_id, clicked_message(body)[0] or None, refusal)
    return None


# -- reassign / resolve modals --------------------------------------------------------------------
def handle_reassign_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    new_owner = _user(body["view"]["state"]["values"], modals.NEW_OWNER)
    if not new_owner:
        ack(response_action="errors", errors={modals.NEW_OWNER: "Pick the new owner."})
        return
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
    ack()
    if outcome.event is None:
        _tell(deps, team_id, user_id, None, render_refusal(outcome))


def handle_resolve_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
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
    ack()
    if outcome.event is None:
        _tell(deps, team_id, user_id, None, render_refusal(outcome))


def handle_reopen_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    reason = (_text(body["view"]["state"]["values"], modals.REOPEN_REASON) or "").strip()
    if not reason:
        ack(
            response_action="errors",
            errors={modals.REOPEN_REASON: "Say why it is reopened: what came back, or was missed."},
        )
        return
    deps, team_id, user_id = deps_of(context), team_of(body), user_of(body)
    ref = EscalationRef.decode(body["view"].get("private_metadata"))
    outcome = service.reopen_escalation(
        deps.sessions,
        team_id=team_id,
        escalation_id=ref.id,
        actor_id=user_id,
        reason=reason,
        now=deps.clock(),
    )
    ack()
    if outcome.event is None:
        _tell(deps, team_id, user_id, None, render_refusal(outcome))


# -- shared ---------------------------------------------------------------------------------------
def _tell(deps: Deps, team_id: str, user_id: str, channel: str | None, text: str) -> None:
    """A private note to the user who acted (why nothing changed), through the outbox."""
    note = outbox.tell_privately(
        f"notice:{uuid.uuid4().hex}", user_id=user_id, channel=channel, text=text
    )
    enqueue_messages(deps.sessions, team_id=team_id, messages=[note], now=deps.clock())


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
