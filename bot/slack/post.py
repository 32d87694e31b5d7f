"""Posting through the WebClient, written once: messages, updates, private notes, permalinks.

Every helper but `post_message` logs a failure and reports it as a value instead of
raising: the change that caused the post is already stored, and "try again" would store it
twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block

from bot.slack.blocks import as_dicts
from bot.slack.ledger import Posted
from bot.slack.mrkdwn import MESSAGE_TEXT_LIMIT, truncate

log = logging.getLogger(__name__)

T = TypeVar("T")
# A message whose record keeps changing while it is updated is re-rendered at most this often.
MAX_REFRESHES = 5


def post_message(client: WebClient, *, channel: str, text: str, blocks: Sequence[Block]) -> Posted:
    """chat.postMessage; 429s are waited out by the client's RateLimitErrorRetryHandler.

    Raises SlackApiError when Slack refuses (e.g. `not_in_channel`), which the ledger
    records as a failed, retryable attempt.
    """
    response = client.chat_postMessage(
        channel=channel,
        text=truncate(text, MESSAGE_TEXT_LIMIT),
        blocks=as_dicts(blocks),
        unfurl_links=False,
        unfurl_media=False,
    )
    return Posted(channel=str(response["channel"]), ts=str(response["ts"]))


def send_dm(
    client: WebClient, user_id: str, text: str, blocks: Sequence[Block | dict[str, Any]] = ()
) -> bool:
    """A DM from the app (posting to a user id opens the conversation); False if it failed."""
    try:
        client.chat_postMessage(
            channel=user_id,
            text=truncate(text, MESSAGE_TEXT_LIMIT),
            blocks=as_dicts(blocks) if blocks else None,
            unfurl_links=False,
            unfurl_media=False,
        )
    except (SlackApiError, OSError) as exc:
        log.warning("could not DM %s: %s", user_id, exc)
        return False
    return True


def tell_privately(
    client: WebClient,
    *,
    user_id: str,
    channel_id: str | None,
    text: str,
    blocks: Sequence[Block | dict[str, Any]] = (),
) -> bool:
    """Show `text` only to `user_id`: ephemeral in `channel_id`, else (or if that fails) a DM."""
    if channel_id:
        try:
            client.chat_postEphemeral(
                channel=channel_id,
                user=user_id,
                text=truncate(text, MESSAGE_TEXT_LIMIT),
                blocks=as_dicts(blocks) if blocks else None,
            )
            return True
        except (SlackApiError, OSError) as exc:
            log.info("no ephemeral in %s (%s); telling %s by DM", channel_id, exc, user_id)
    return send_dm(client, user_id, text, blocks)


def update_message(
    client: WebClient, *, channel: str, ts: str, text: str, blocks: Sequence[Block]
) -> bool:
    """chat.update of one message; False (logged) when Slack refused or did not answer."""
    try:
        client.chat_update(
            channel=channel, ts=ts, text=truncate(text, MESSAGE_TEXT_LIMIT), blocks=as_dicts(blocks)
        )
    except (SlackApiError, OSError) as exc:
        log.warning("could not update message %s in %s: %s", ts, channel, exc)
        return False
    return True


def update_until_current(
    current: T,
    *,
    update: Callable[[T], bool],
    reload: Callable[[], T],
    version: Callable[[T], object],
) -> bool:
    """Update a message from `current`, then read the record again: if it changed meanwhile
    (someone clicked at the same moment), update once more, so the last update Slack applies
    is never stale. False when an update failed."""
    for _ in range(MAX_REFRESHES):
        if not update(current):
            return False
        latest = reload()
        if version(latest) == version(current):
            return True
        current = latest
    log.warning("a record kept changing while its message was updated; left at the latest")
    return True


def permalink_of(client: WebClient, *, channel: str, ts: str) -> str | None:
    """chat.getPermalink of a message; None (logged) when Slack cannot say."""
    try:
        link = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except (SlackApiError, OSError) as exc:
        log.warning("no permalink for %s/%s: %s", channel, ts, exc)
        return None
    return str(link) if link else None
