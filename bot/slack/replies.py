"""Answering a slash command: in its ack, after what it changed is stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack
from slack_sdk.models.blocks import Block

from bot.slack.blocks import as_dicts
from bot.slack.mrkdwn import MESSAGE_TEXT_LIMIT, truncate


def answer(ack: Ack, text: str, blocks: Sequence[Block | dict[str, Any]] | None = None) -> None:
    """Answer a slash command in the ack itself: Slack shows the body to the user at once,
    and the ack is sent only after what the command changed is stored."""
    ack(**answer_body(text, blocks))


def answer_body(
    text: str, blocks: Sequence[Block | dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The body of a command's ephemeral answer, as the ack sends it."""
    body: dict[str, Any] = {
        "text": truncate(text, MESSAGE_TEXT_LIMIT),
        "response_type": "ephemeral",
    }
    if blocks:
        body["blocks"] = as_dicts(blocks)
    return body


def command_args(text: str | None) -> tuple[str, str]:
    """Split slash-command text into (first word lower-cased, rest)."""
    stripped = (text or "").strip()
    if not stripped:
        return "", ""
    # Any whitespace separates the word: Slack passes newlines and tabs through as typed.
    head, *rest = stripped.split(None, 1)
    return head.lower(), rest[0].strip() if rest else ""
