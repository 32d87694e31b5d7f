"""`/feedback` (log at once, help, NPS, recent items) and the feedback modal: opened by
`/feedback`, the receipt's *Edit* button and the "Log as feedback" message shortcut.

Submission validates first and answers `response_action: errors` so nothing typed is lost;
it stores before closing the modal, so a database failure also keeps the modal open.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.errors import DatabaseUnavailableError, StorageUnavailableError, UserError
from bot.feedback import render, service
from bot.feedback.messages import alert_notes, detractor_alerts, edit_messages, form_messages
from bot.feedback.modal import (
    ERROR_BLOCKS,
    MODAL_CALLBACK,
    TEXT_INPUT_LIMIT,
    FeedbackModalMeta,
    Field,
    MessageRef,
    ModalPrefill,
    build_feedback_modal,
)
from bot.feedback.models import MessageOrigin
from bot.feedback.nps import PERIODS, parse_period
from bot.feedback.parse import (
    EmptyFeedbackError,
    FeedbackFormError,
    echo,
    parse_form,
    parse_inline,
)
from bot.feedback.service import get_nps_report
from bot.ids import is_channel_id, parse_record_id
from bot.slack.blocks import as_dicts
from bot.slack.context import clicked_message, deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.mrkdwn import plain_text, user_ref
from bot.slack.replies import answer, command_args
from bot.text import closest_keys, did_you_mean, has_visible_text

log = logging.getLogger(__name__)

LOG_AS_FEEDBACK = "log_as_feedback"
FEEDBACK_COMMAND = "/feedback"
_PERIOD_WORD = re.compile(r"\A(?P<days>\d+)\s*d(ays?)?\Z", re.IGNORECASE)


SUBCOMMANDS = ("help", "nps", "recent")
_WEEKS_OR_MONTHS = re.compile(
    r"\A(?P<n>\d{1,4})\s*(?P<unit>w|wk|wks|weeks?|m|mo|months?)?\Z", re.IGNORECASE
)


def register(app: App) -> None:
    app.command(FEEDBACK_COMMAND)(guarded(handle_feedback_command))
    app.action(render.MORE_ACTION)(guarded(handle_more_click))
    app.action(render.EDIT_ACTION)(guarded(handle_edit_click))
    app.message_shortcut(LOG_AS_FEEDBACK)(guarded(handle_log_as_feedback))
    app.view(MODAL_CALLBACK)(guarded(handle_feedback_submission))


def handle_feedback_command(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Everything is answered in the ack itself, after what it logs is stored."""
    text = str(body.get("text") or "")
    deps = deps_of(context)
    if not has_visible_text(text):  # nothing typed, or only spaces and invisible marks
        ack()
        open_new_modal(
            client,
            deps,
            team_id=team_of(body),
            trigger_id=str(body.get("trigger_id", "")),
            # Slack always sends a real channel id; anything else (a hand-made request)
            # is no channel to answer in, and the receipt goes by DM instead.
            reply_channel=channel if is_channel_id(channel := body.get("channel_id")) else None,
        )
        return
    word, rest = command_args(text)
    mistyped = mistyped_subcommand(word, rest)
    if mistyped is not None:
        answer(ack, *render.render_feedback_help(mistyped))
    elif word in ("help", "?"):
        answer(ack, *render.render_feedback_help())
    elif word == "nps" and (not rest or _PERIOD_WORD.match(rest)):
        period = _PERIOD_WORD.match(rest)
        days = parse_period(f"{period.group('days')}d" if period else None)
        report = get_nps_report(deps.sessions, team_id=team_of(body), days=days, now=deps.clock())
        answer(ack, *render.render_nps_report(report))
    elif word == "recent":
        recent = service.list_recent(deps.sessions, team_id=team_of(body), query=rest)
        answer(ack, *render.render_recent(recent))
    else:
        answer(ack, *log_inline(deps, body, text))


def mistyped_subcommand(word: str, rest: str) -> str | None:
    """What is wrong when the text looks like a subcommand typed wrong (`nps abc`,
    `nps 2w`, `help me`, `recnet`) rather than feedback; None when it is feedback (or a
    subcommand typed right). Nothing is logged for these: a typo is not customer feedback."""
    how_to_log = "To log it as feedback, put the customer first: `/feedback Acme: …`."
    if word in ("help", "?") and rest:
        return f"Nothing was logged: `{echo(word + ' ' + rest, 60)}` reads as a request for help."
    period = _WEEKS_OR_MONTHS.match(rest)
    one_word = len(rest.split()) == 1
    if word == "nps" and rest and not _PERIOD_WORD.match(rest) and (one_word or period):
        guess = ""
        if period:
            n, unit = int(period.group("n")), (period.group("unit") or "d").lower()
            days = n * (7 if unit.startswith("w") else 30 if unit.startswith("m") else 1)
            # only a period `nps` accepts: `2w` is 14 days, which it would refuse in turn
            guess = did_you_mean(
                [f"/feedback nps {key}" for key, d in PERIODS.items() if d == days]
            )
        return (
            f"Nothing was logged: `nps {echo(rest, 30)}` is not a period; I can show NPS for "
            f"{', '.join(PERIODS)}.{guess} {how_to_log}"
        )
    if not rest and word not in SUBCOMMANDS:
        guesses = closest_keys(word, {name: name for name in SUBCOMMANDS})
        if guesses and difflib_ratio(word, guesses[0]) >= 0.75:
            return (
                f"Nothing was logged: `{echo(word, 30)}` looks like a command."
                f"{did_you_mean([f'/feedback {g}' for g in guesses])} {how_to_log}"
            )
    return None


def difflib_ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def handle_more_click(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """*More* under `/feedback recent`: the next page, as a new ephemeral under it. The
    query comes back from Slack and is parsed (and limited) like typed text."""
    action = (body.get("actions") or [{}])[0]
    query = str(action.get("value") or "")[:2000]
    deps = deps_of(context)
    recent = service.list_recent(deps.sessions, team_id=team_of(body), query=query)
    text, blocks = render.render_recent(recent)
    ack()
    respond(text=text, blocks=as_dicts(blocks), replace_original=False)


def log_inline(
    deps: Deps, body: dict[str, Any], text: str
) -> tuple[str, Sequence[Block | dict[str, Any]]]:
    """`/feedback <text>`: parse, store (a new record every time) with its alerts; the receipt."""
    try:
        parsed = parse_inline(text)
    except EmptyFeedbackError as exc:
        return render.render_feedback_help(f"{exc.message} Here is how:")
    logged = service.log_command_feedback(
        deps.sessions,
        team_id=team_of(body),
        reporter_id=user_of(body),
        parsed=parsed,
        submission_key=service.new_submission_key("cmd"),
        now=deps.clock(),
        alerts=detractor_alerts,
    )
    return render.render_logged(logged.feedback, notes=alert_notes(logged.alert))


def open_new_modal(
    client: WebClient,
    deps: Deps,
    *,
    team_id: str,
    trigger_id: str,
    reply_channel: str | None,
    prefill: ModalPrefill | None = None,
    message: MessageRef | None = None,
    notes: list[str] | None = None,
) -> None:
    """Open an empty (or pre-filled) feedback modal with a fresh submission key."""
    meta = FeedbackModalMeta(
        submission_key=service.new_submission_key("modal"),
        reply_channel=reply_channel,
        message=message,
    )
    known = service.list_known_tags(deps.sessions, team_id=team_id)
    view = build_feedback_modal(meta=meta, known_tags=known, prefill=prefill, notes=notes)
    client.views_open(trigger_id=trigger_id, view=view)


def handle_log_as_feedback(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """Message shortcut: the modal pre-filled with the message; its origin kept for storing."""
    ack()
    message: dict[str, Any] = body.get("message") or {}
    channel_id = str((body.get("channel") or {}).get("id") or "")
    ts = str(message.get("ts") or body.get("message_ts") or "")
    author = message.get("user") or message.get("bot_id")
    text = plain_text(str(message.get("text") or ""))
    notes = []
    if author:
        notes.append(f"From a message by {user_ref(str(author))}.")
    if len(text) > TEXT_INPUT_LIMIT:
        notes.append(
            f"The message has {len(text):,} characters; a form holds {TEXT_INPUT_LIMIT:,}, so "
            "only the start is filled in. The link to the full message is stored with it."
        )
    open_new_modal(
        client,
        deps_of(context),
        team_id=team_of(body),
        trigger_id=str(body.get("trigger_id", "")),
        reply_channel=channel_id or None,
        prefill=ModalPrefill(text=text, source="slack"),
        message=MessageRef(channel_id=channel_id, ts=ts, author_id=author) if ts else None,
        notes=notes,
    )


def handle_edit_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    """The receipt's Edit button: the modal pre-filled with the stored record."""
    ack()
    deps = deps_of(context)
    action = (body.get("actions") or [{}])[0]
    feedback_id = parse_record_id(action.get("value"))
    if feedback_id is None:
        raise UserError("That Edit button does not point at a feedback item.")
    record = service.get_feedback_for_edit(
        deps.sessions, team_id=team_of(body), feedback_id=feedback_id, user_id=user_of(body)
    )
    channel = clicked_message(body)[0] or None
    meta = FeedbackModalMeta(
        submission_key=service.new_submission_key("edit"),
        feedback_id=record.id,
        reply_channel=channel,
    )
    prefill = ModalPrefill(
        text=record.text,
        customer=record.customer,
        nps=record.nps_score,
        tags=record.tags,
        source=record.source,
        text_locked=len(record.text) > TEXT_INPUT_LIMIT,
    )
    known = service.list_known_tags(deps.sessions, team_id=record.team_id)
    view = build_feedback_modal(meta=meta, known_tags=known, prefill=prefill)
    client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)


def handle_feedback_submission(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    deps = deps_of(context)
    team_id, user_id = team_of(body), user_of(body)
    meta = FeedbackModalMeta.load(view.get("private_metadata"))
    if meta is None:
        # Not a modal we opened (or one from an older version): still never lose the text.
        key = re.sub(r"[^A-Za-z0-9_.:-]", "", f"view:{view.get('id', '')}:{view.get('hash', '')}")
        meta = FeedbackModalMeta(submission_key=key[:128])
    form = read_form(view)
    first_block = Field.TEXT if Field.TEXT in form else Field.CUSTOMER
    try:
        keep_text = None
        if Field.TEXT not in form and meta.feedback_id is not None:
            keep_text = service.get_feedback_for_edit(
                deps.sessions, team_id=team_id, feedback_id=meta.feedback_id, user_id=user_id
            ).text
        parsed = parse_form(
            text=_text(form.get(Field.TEXT)),
            customer=_text(form.get(Field.CUSTOMER)),
            nps=_text(form.get(Field.NPS)),
            known_tags=list(form.get(Field.KNOWN_TAGS) or []),
            new_tags=_text(form.get(Field.NEW_TAGS)),
            source=_text(form.get(Field.SOURCE)),
            keep_text=keep_text,
        )
        if meta.feedback_id is not None:
            service.edit_feedback(
                deps.sessions,
                team_id=team_id,
                feedback_id=meta.feedback_id,
                user_id=user_id,
                parsed=parsed,
                now=deps.clock(),
                messages=edit_messages(
                    user_id=user_id,
                    channel=meta.reply_channel,
                    version=_version_of(meta.submission_key),
                ),
            )
        else:
            origin = None
            if meta.message is not None:
                origin = MessageOrigin(
                    channel_id=meta.message.channel_id,
                    message_ts=meta.message.ts,
                    author_id=meta.message.author_id,
                )
            logged = service.log_feedback(
                deps.sessions,
                team_id=team_id,
                reporter_id=user_id,
                parsed=parsed,
                submission_key=meta.submission_key,
                now=deps.clock(),
                origin=origin,
                messages=form_messages(user_id=user_id, channel=meta.reply_channel),
            )
            if not logged.created:
                log.info("repeated submission %s ignored", meta.submission_key)
    except FeedbackFormError as exc:
        errors = {str(ERROR_BLOCKS[f]): m for f, m in exc.errors.items()}
        if Field.TEXT not in form and str(Field.TEXT) in errors:
            errors[str(first_block)] = errors.pop(str(Field.TEXT))
        ack(response_action="errors", errors=errors)
        return
    except UserError as exc:
        ack(response_action="errors", errors={str(first_block): exc.user_text()})
        return
    except DatabaseUnavailableError:
        log.warning("database unavailable while saving feedback; the modal stays open")
        ack(response_action="errors", errors={str(first_block): _unsaved()})
        return
    ack()


def read_form(view: dict[str, Any]) -> dict[Field, Any]:
    """The submitted value of each modal field present: text, option value or option values."""
    values: dict[str, Any] = (view.get("state") or {}).get("values") or {}
    form: dict[Field, Any] = {}
    for field in Field:
        element = (values.get(field) or {}).get(field)
        if element is None:
            continue
        if "selected_options" in element:
            form[field] = [o.get("value") for o in element.get("selected_options") or []]
        elif "selected_option" in element:
            form[field] = (element.get("selected_option") or {}).get("value")
        else:
            form[field] = element.get("value")
    return form


def _version_of(submission_key: str) -> str:
    """A short stable suffix per edit form, so each edit gets its own receipt."""
    return ":" + hashlib.sha256(submission_key.encode()).hexdigest()[:12]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _unsaved() -> str:
    return StorageUnavailableError().message
