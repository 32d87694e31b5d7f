"""Feedback triage from Slack: the ⋯ menu of a receipt, a detractor alert, an assignment DM
and `/feedback recent` (status at once; the triage form; the delete confirmation), and the
two modals' submissions.

Every click and submission names a record id that came back from Slack: the use case looks
it up in the clicker's workspace and checks their right to it again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.errors import DatabaseUnavailableError, NotFoundError, UserError
from bot.escalations import service as escalations
from bot.feedback import render, triage
from bot.feedback.messages import deleted_messages, triage_messages
from bot.feedback.modals import (
    DELETE_CALLBACK,
    TRIAGE_CALLBACK,
    TriageField,
    TriageModalMeta,
    build_delete_modal,
    build_triage_modal,
)
from bot.feedback.models import STATUSES, TriagedFeedback, TriageUpdate
from bot.ids import CHANNEL_ID, is_user_id, parse_record_id
from bot.slack.blocks import as_dicts
from bot.slack.context import clicked_message, deps_of, team_of, user_of
from bot.slack.errors import guarded

log = logging.getLogger(__name__)

STALE = "That menu is out of date; run `/feedback recent` for the current items."


def register(app: App) -> None:
    app.action(render.TRIAGE_ACTION)(guarded(handle_triage_menu))
    app.view(TRIAGE_CALLBACK)(guarded(handle_triage_submission))
    app.view(DELETE_CALLBACK)(guarded(handle_delete_submission))


def parse_menu_value(value: object) -> tuple[str, int, str]:
    """(verb, feedback id, place) from a menu option's value; UserError for anything else."""
    verb, _, rest = str(value or "").partition(":")
    number, _, place = rest.partition(":")
    feedback_id = parse_record_id(number)
    verbs = (*STATUSES, render.FORM_VERB, render.DELETE_VERB)
    if verb not in verbs or feedback_id is None or place not in render.MENU_PLACES:
        raise UserError(STALE)
    return verb, feedback_id, place


def handle_triage_menu(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    team_id, user_id = team_of(body), user_of(body)
    action = (body.get("actions") or [{}])[0]
    verb, feedback_id, place = parse_menu_value((action.get("selected_option") or {}).get("value"))
    channel, ts = clicked_message(body)
    ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
    meta = TriageModalMeta(
        feedback_id=feedback_id,
        channel=channel if CHANNEL_ID.match(channel) else None,
        ts=ts or None,
        ephemeral=ephemeral,
    )
    if verb in (render.FORM_VERB, render.DELETE_VERB):
        if verb == render.FORM_VERB:
            record = triage.get_for_triage(
                deps.sessions, team_id=team_id, feedback_id=feedback_id, user_id=user_id
            )
            view = build_triage_modal(record, meta)
        else:
            record = triage.check_can_delete(
                deps.sessions,
                team_id=team_id,
                feedback_id=feedback_id,
                user_id=user_id,
                now=deps.clock(),
            )
            view = build_delete_modal(record, meta)
        ack()
        client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)
        return
    result = triage.triage_feedback(
        deps.sessions,
        team_id=team_id,
        feedback_id=feedback_id,
        user_id=user_id,
        update=TriageUpdate(status=verb),
        now=deps.clock(),
        messages=triage_messages(
            place=place, channel=meta.channel, ts=meta.ts, ephemeral=ephemeral, tell=False
        ),
    )
    ack()
    _answer_click(result, place, respond)


def _answer_click(result: TriagedFeedback, place: str, respond: Respond) -> None:
    """Ephemeral views are only reachable through the click's response_url: the receipt
    and a card are redrawn in place, a list gets the changed item's card under it. Real
    messages were brought up to date through the outbox."""
    if place == render.RECEIPT:
        text, receipt = render.render_logged(result.feedback)
        respond(text=text, blocks=receipt, replace_original=True)
    elif place in (render.CARD, render.RECENT_LIST):
        text, card = render.render_triaged(result)
        respond(text=text, blocks=as_dicts(card), replace_original=place == render.CARD)
    elif not result.changed_anything:
        text, _ = render.render_triaged(result)
        respond(text=text, response_type="ephemeral", replace_original=False)


def _form_value(view: dict[str, Any], field: TriageField) -> dict[str, Any]:
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}
    element = (values.get(field) or {}).get(field)
    return element if isinstance(element, dict) else {}


def handle_triage_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    meta = TriageModalMeta.load(view.get("private_metadata"))
    if meta is None:
        ack(response_action="errors", errors={TriageField.STATUS: STALE})
        return
    status = (_form_value(view, TriageField.STATUS).get("selected_option") or {}).get("value")
    assignee = _form_value(view, TriageField.ASSIGNEE).get("selected_user") or None
    raw_escalation = str(_form_value(view, TriageField.ESCALATION).get("value") or "").strip()
    errors: dict[str, str] = {}
    if status not in STATUSES:
        errors[TriageField.STATUS] = "Choose a status: new, triaged or closed."
    if assignee is not None and not is_user_id(assignee):
        errors[TriageField.ASSIGNEE] = "Choose a person from the list."
    escalation_id = parse_record_id(raw_escalation.lstrip("#")) if raw_escalation else None
    if raw_escalation and escalation_id is None:
        errors[TriageField.ESCALATION] = "An escalation number, like 12 (or empty for none)."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    place = render.ALERT if meta.channel and not meta.ephemeral else render.CARD
    try:
        result = triage.triage_feedback(
            deps.sessions,
            team_id=team_of(body),
            feedback_id=meta.feedback_id,
            user_id=user_of(body),
            update=TriageUpdate(
                status=str(status),
                note=str(_form_value(view, TriageField.NOTE).get("value") or ""),
                assignee_id=assignee,
                escalation_id=escalation_id,
            ),
            now=deps.clock(),
            messages=triage_messages(
                place=place,
                channel=meta.channel,
                ts=meta.ts,
                ephemeral=meta.ephemeral,
                tell=True,
            ),
        )
    except NotFoundError as exc:
        # an unknown escalation number: said under that field, the rest kept as typed
        field = TriageField.ESCALATION if "escalation" in exc.message else TriageField.STATUS
        ack(response_action="errors", errors={field: exc.user_text()})
        return
    ack()
    if "escalation" in result.changed:
        refresh_linked_escalations(deps, result)


def refresh_linked_escalations(deps: Deps, result: TriagedFeedback) -> None:
    """The escalations linked and unlinked show their feedback in their message: queue
    their re-rendering. The link is committed; a failure here only delays what they show."""
    now = deps.clock()
    for escalation_id in {result.feedback.escalation_id, result.previous_escalation_id}:
        if escalation_id is None:
            continue
        try:
            escalations.refresh_message(
                deps.sessions,
                team_id=result.feedback.team_id,
                escalation_id=escalation_id,
                now=now,
            )
        except (NotFoundError, DatabaseUnavailableError):
            log.warning("could not queue the refresh of escalation %s", escalation_id)


def handle_delete_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    deps = deps_of(context)
    meta = TriageModalMeta.load(view.get("private_metadata"))
    if meta is None:
        ack(response_action="errors", errors={TriageField.REASON: STALE})
        return
    deleted = triage.delete_feedback(
        deps.sessions,
        team_id=team_of(body),
        feedback_id=meta.feedback_id,
        user_id=user_of(body),
        reason=str(_form_value(view, TriageField.REASON).get("value") or ""),
        now=deps.clock(),
        messages=deleted_messages(channel=meta.channel, ts=meta.ts, ephemeral=meta.ephemeral),
    )
    log.info("feedback %s deleted by %s", deleted.feedback.id, deleted.actor_id)
    ack()
