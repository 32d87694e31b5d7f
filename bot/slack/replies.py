"""Small helpers shared by listeners for answering the user."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk.models.blocks import Block

from bot.slack.blocks import as_dicts
from bot.slack.mrkdwn import MESSAGE_TEXT_LIMIT, truncate


def reply_ephemeral(
    respond: Respond, text: str, blocks: Sequence[Block | dict[str, Any]] | None = None
) -> None:
    """Answer the user privately through the response_url of their command or click."""
    respond(
        text=truncate(text, MESSAGE_TEXT_LIMIT),
        blocks=as_dicts(blocks) if blocks else None,
        response_type="ephemeral",
        replace_original=False,
    )


def command_args(text: str | None) -> tuple[str, str]:
    """Split slash-command text into (first word lower-cased, rest)."""
    stripped = (text or "").strip()
    if not stripped:
        return "", ""
    # Any whitespace separates the word: Slack passes newlines and tabs through as typed.
    head, *rest = stripped.split(None, 1)
    return head.lower(), rest[0].strip() if rest else ""
