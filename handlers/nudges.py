"""The *Done* / *Snooze 1 day* buttons of a nudge DM (`/ops nudge preview` is in `ops`),
and *Log value* on a KPI owed: a small form read by the same parser as `/kpi log`."""

from __future__ import annotations

import json
import logging
from typing import Any, assert_never

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.checklists.models import TickResult
from bot.deps import Deps
from bot.errors import DatabaseUnavailableError, UserError
from bot.escalations.models import ChangeOutcome
from bot.escalations.render import render_refusal
from bot.ids import is_channel_id
from bot.kpis import service as kpis
from bot.kpis.modals import LOG_CALLBACK, REPLACE, LogField, LogFormMeta, build_log_modal
from bot.kpis.render import render_kpi_logged
from bot.nudges import service as nudges
from bot.nudges.render import DONE_ACTION, FORM_ACTION, SNOOZE_ACTION, ItemRef, render_nudge
from bot.nudges.sources import KPI_SOURCE
from bot.org import service as directory
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
    app.action(FORM_ACTION)(guarded(handle_open_form))
    app.view(LOG_CALLBACK)(guarded(handle_log_submission))


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
        _queue_update(deps, team_of(body), channel, ts, text, as_dicts(blocks))
    ack()


def _queue_update(
    deps: Deps, team_id: str, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
) -> None:
    """The nudge DM's newest version, through the outbox (only the latest is ever sent)."""
    update = outbox.update(
        f"nudge-dm:{channel}:{ts}", of=None, channel=channel, ts=ts, text=text, blocks=blocks
    )
    try:
        enqueue_messages(deps.sessions, team_id=team_id, messages=[update], now=deps.clock())
    except DatabaseUnavailableError:
        # The change itself is committed; only this view of it could not be queued.
        log.warning("could not queue the refresh of nudge %s in %s", ts, channel)


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


def _team_tz(deps: Deps, team_id: str) -> str:
    return directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )


def handle_open_form(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """*Log value*: the KPI's form, if the clicker may log it (checked again on submit)."""
    deps = deps_of(context)
    ref = _item_ref(body)
    if ref.source != KPI_SOURCE:
        raise UserError("That button is out of date; run `/ops nudge preview`.")
    team_id = team_of(body)
    form = kpis.get_log_form(
        deps.sessions,
        team_id=team_id,
        user_id=user_of(body),
        kpi_ref=ref.item_id,
        now=deps.clock(),
        tz=_team_tz(deps, team_id),
    )
    channel, ts = clicked_message(body)
    in_message = not (body.get("container") or {}).get("is_ephemeral")
    meta = LogFormMeta(
        kpi=form.kpi.key,
        channel=channel if in_message and is_channel_id(channel) else None,
        ts=ts if in_message and ts else None,
    )
    ack()
    client.views_open(trigger_id=str(body.get("trigger_id", "")), view=build_log_modal(form, meta))


def _state(view: dict[str, Any], field: LogField) -> dict[str, Any]:
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}
    element = (values.get(field) or {}).get(field)
    return element if isinstance(element, dict) else {}


def handle_log_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    """Store the value (asking first before replacing one), then close the form and bring
    the nudge DM up to date with what was logged."""
    deps = deps_of(context)
    meta = LogFormMeta.load(view.get("private_metadata"))
    if meta is None:
        stale = "This form is out of date; press Log value on your nudge again."
        ack(response_action="errors", errors={LogField.VALUE: stale})
        return
    team_id, user_id = team_of(body), user_of(body)
    tz = _team_tz(deps, team_id)
    raw_value = str(_state(view, LogField.VALUE).get("value") or "")
    note = str(_state(view, LogField.NOTE).get("value") or "")
    ticked = [o.get("value") for o in _state(view, LogField.REPLACE).get("selected_options") or []]
    asked = any(b.get("block_id") == LogField.REPLACE for b in view.get("blocks") or [])
    try:
        logged = kpis.log_kpi_value(
            deps.sessions,
            team_id=team_id,
            user_id=user_id,
            kpi_ref=meta.kpi,
            raw_value=raw_value,
            note=note,
            now=deps.clock(),
            tz=tz,
            replace=REPLACE in ticked,
        )
    except kpis.ReplaceNotConfirmedError as exc:
        if asked:
            errors = {str(LogField.REPLACE): "Tick this to replace the value already logged."}
            ack(response_action="errors", errors=errors)
            return
        # A value was logged since the form opened: show it, and ask.
        form = kpis.get_log_form(
            deps.sessions,
            team_id=team_id,
            user_id=user_id,
            kpi_ref=meta.kpi,
            now=deps.clock(),
            tz=tz,
        )
        note_text = f"{exc.message} It was logged while this form was open."
        again = build_log_modal(
            form, meta, note=note_text, typed_value=raw_value[:60], typed_note=note[:1000]
        )
        ack(response_action="update", view=again)
        return
    except UserError as exc:
        ack(response_action="errors", errors={LogField.VALUE: exc.user_text()[:300]})
        return
    text, _ = render_kpi_logged(logged)
    if meta.channel and meta.ts:
        now = deps.clock()
        nudge = nudges.preview_nudge(
            deps.sessions,
            sources=deps.nudge_sources,
            team_id=team_id,
            user_id=user_id,
            now=now,
            default_timezone=deps.settings.opsloop_timezone,
        )
        dm_text, blocks = render_nudge(nudge, now=now, note=text)
        _queue_update(deps, team_id, meta.channel, meta.ts, dm_text, as_dicts(blocks))
    else:
        receipt = outbox.post(
            f"kpi-logged:{meta.kpi}:{user_id}:{deps.clock().isoformat()}", user_id, text
        )
        enqueue_messages(deps.sessions, team_id=team_id, messages=[receipt], now=deps.clock())
    ack()
