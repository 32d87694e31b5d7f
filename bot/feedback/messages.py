"""Telling people about feedback: the detractor alert to the feedback channel and owner."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.feedback import render, service
from bot.feedback.models import FeedbackRecord
from bot.slack.post import post_message

log = logging.getLogger(__name__)


def announce_detractor(client: WebClient, deps: Deps, feedback: FeedbackRecord) -> list[str]:
    """Post a detractor to the feedback channel and DM the owner; notes for the receipt.

    The record is already stored; a failed post is reported to the user, never raised.
    """
    alert = service.plan_detractor_alert(deps.sessions, feedback=feedback)
    if alert is None:
        return []
    text, blocks = render.render_detractor_alert(feedback)
    notes = []
    for channel_id, owner_id in ((alert.channel_id, None), (None, alert.owner_id)):
        target = channel_id or owner_id
        if not target:
            continue
        error: str | None = None
        try:
            post_message(client, channel=target, text=text, blocks=blocks)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error")
            log.warning(
                "detractor alert for feedback %s to %s failed: %s", feedback.id, target, error
            )
        except OSError as exc:
            # Timed out or dropped: not retried (Slack may have posted it), never raised
            # (the record is stored; "try again" would store it twice).
            error = "no_answer_from_slack"
            log.warning("detractor alert for feedback %s to %s: %r", feedback.id, target, exc)
        notes.append(render.alert_note(channel_id=channel_id, owner_id=owner_id, error=error))
    return notes
