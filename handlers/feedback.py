"""`/feedback`: log at once, help, NPS and recent items; the modal flows live in feedback_modal."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.deps import Deps
from bot.render import feedback as render
from bot.services import feedback as service
from bot.services.feedback_nps import get_nps_report, parse_period
from bot.services.feedback_parser import EmptyFeedbackError, parse_inline
from handlers import feedback_modal
from handlers.context import deps_of, team_of, user_of
from handlers.errors import guarded
from handlers.feedback_notify import announce_detractor
from handlers.replies import command_args, reply_ephemeral

FEEDBACK_COMMAND = "/feedback"
_PERIOD_WORD = re.compile(r"\A(?P<days>\d+)\s*d(ays?)?\Z", re.IGNORECASE)


def register(app: App) -> None:
    app.command(FEEDBACK_COMMAND)(guarded(handle_feedback_command))
    feedback_modal.register(app)


def handle_feedback_command(
    ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext
) -> None:
    text = str(body.get("text") or "")
    ack()
    deps = deps_of(context)
    if not text.strip():
        feedback_modal.open_new_modal(
            client,
            deps,
            team_id=team_of(body),
            trigger_id=str(body.get("trigger_id", "")),
            reply_channel=body.get("channel_id"),
        )
        return
    word, rest = command_args(text)
    if word in ("help", "?") and not rest:
        reply_ephemeral(respond, *render.render_feedback_help())
    elif word == "nps" and (not rest or _PERIOD_WORD.match(rest)):
        period = _PERIOD_WORD.match(rest)
        days = parse_period(f"{period.group('days')}d" if period else None)
        report = get_nps_report(deps.sessions, team_id=team_of(body), days=days, now=deps.clock())
        reply_ephemeral(respond, *render.render_nps_report(report))
    elif word == "recent":
        recent = service.list_recent(deps.sessions, team_id=team_of(body), query=rest)
        reply_ephemeral(respond, *render.render_recent(recent))
    else:
        log_inline(deps, client, respond, body, text)


def log_inline(
    deps: Deps, client: WebClient, respond: Respond, body: dict[str, Any], text: str
) -> None:
    """`/feedback <text>`: parse, store (a new record every time), tell the user what was kept."""
    try:
        parsed = parse_inline(text)
    except EmptyFeedbackError as exc:
        reply_ephemeral(respond, *render.render_feedback_help(f"{exc.message} Here is how:"))
        return
    logged = service.log_feedback(
        deps.sessions,
        team_id=team_of(body),
        reporter_id=user_of(body),
        parsed=parsed,
        submission_key=service.new_submission_key("cmd"),
        now=deps.clock(),
    )
    notes = announce_detractor(client, deps, logged.feedback)
    reply_ephemeral(respond, *render.render_logged(logged.feedback, notes=notes))
