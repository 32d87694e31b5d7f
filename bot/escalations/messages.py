"""Keep an escalation's channel message in step with the database.

Used by the lifecycle buttons (handlers.escalations) and by anything else that changes an
escalation outside its message, e.g. *Done* on a nudge: post the change in the thread, then
re-render the message and `chat.update` it until the version it shows is the newest.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.escalations import service
from bot.escalations.models import EscalationView, TimelineEvent
from bot.escalations.render import render_escalation_message, render_event
from bot.slack.post import update_message, update_until_current

log = logging.getLogger(__name__)


def post_event(deps: Deps, client: WebClient | None, *, team_id: str, event: TimelineEvent) -> None:
    """Log one change of an escalation in its message's thread (if it has a message)."""
    web = client or deps.client
    e = service.get_escalation(
        deps.sessions, team_id=team_id, escalation_id=event.escalation_id, now=deps.clock()
    )
    if not e.channel_id or not e.message_ts:
        return
    try:
        web.chat_postMessage(channel=e.channel_id, thread_ts=e.message_ts, text=render_event(event))
    except (SlackApiError, OSError) as exc:
        log.warning("could not post the timeline of escalation %s: %s", e.id, exc)


def refresh_message(
    deps: Deps, client: WebClient | None = None, *, team_id: str, escalation_id: int
) -> None:
    """Re-render the escalation's message from the database until it shows the newest version."""
    web = client or deps.client

    def load() -> EscalationView:
        return service.get_escalation(
            deps.sessions, team_id=team_id, escalation_id=escalation_id, now=deps.clock()
        )

    def update(e: EscalationView) -> bool:
        text, blocks = render_escalation_message(e)
        return update_message(web, channel=e.channel_id or "", ts=e.message_ts or "", text=text,
                              blocks=blocks)  # fmt: skip

    current = load()
    if current.channel_id and current.message_ts:
        update_until_current(current, update=update, reload=load, version=lambda e: e.version)
