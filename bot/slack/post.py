"""Posting a rendered message from a job, through the WebClient (never Bolt)."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.slack.ledger import Posted
from bot.slack.mrkdwn import MESSAGE_TEXT_LIMIT, truncate


def post_message(client: WebClient, *, channel: str, text: str, blocks: Sequence[Block]) -> Posted:
    """chat.postMessage; 429s are waited out by the client's RateLimitErrorRetryHandler.

    Raises SlackApiError when Slack refuses (e.g. `not_in_channel`), which the ledger
    records as a failed, retryable attempt.
    """
    response = client.chat_postMessage(
        channel=channel,
        text=truncate(text, MESSAGE_TEXT_LIMIT),
        blocks=[block.to_dict() for block in blocks],
        unfurl_links=False,
        unfurl_media=False,
    )
    return Posted(channel=str(response["channel"]), ts=str(response["ts"]))
