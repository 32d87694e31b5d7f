"""Telling people about feedback: detractor alerts, and private receipts after a modal."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.feedback import render, service
from bot.feedback.models import FeedbackRecord
from bot.slack.mrkdwn import MESSAGE_TEXT_LIMIT, truncate
from bot.slack.replies import as_dicts

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
            _post(client, target, text, blocks)
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


def confirm_privately(
    client: WebClient, *, user_id: str, channel_id: str | None, text: str, blocks: Sequence[Block]
) -> None:
    """Show a receipt only to `user_id`: ephemeral in the channel it came from, else a DM."""
    if channel_id:
        try:
            client.chat_postEphemeral(
                channel=channel_id,
                user=user_id,
                text=truncate(text, MESSAGE_TEXT_LIMIT),
                blocks=as_dicts(blocks),
            )
            return
        except SlackApiError as exc:
            log.info("ephemeral receipt in %s failed (%s); sending a DM", channel_id, exc)
    _post(client, user_id, text, blocks)


def _post(client: WebClient, channel: str, text: str, blocks: Sequence[Block]) -> None:
    client.chat_postMessage(
        channel=channel,
        text=truncate(text, MESSAGE_TEXT_LIMIT),
        blocks=as_dicts(blocks),
        unfurl_links=False,
        unfurl_media=False,
    )
