"""A message as Slack returns it → what it says and who wrote it, as a person would put it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.ids import is_team_id, is_user_id
from bot.reactions.models import MessageContent
from bot.slack.mrkdwn import plain_text

NO_TEXT = "(a message without text)"


def message_content(message: Mapping[str, Any], *, installed_team_id: str) -> MessageContent:
    """What `message` says (Slack's entity-escaped text decoded once, mentions readable),
    its author (None for a bot), whether it was edited, its files and its thread."""
    text = plain_text(str(message.get("text") or "")).strip()
    files = tuple(
        str(f.get("name") or f.get("title") or "a file")
        for f in message.get("files") or []
        if isinstance(f, Mapping)
    )
    had_text = bool(text)
    if not text:
        # An app's message may carry its words only in attachments' fallback text.
        fallbacks = [
            plain_text(str(a.get("fallback") or a.get("text") or "")).strip()
            for a in message.get("attachments") or []
            if isinstance(a, Mapping)
        ]
        text = "\n".join(f for f in fallbacks if f)
    if not text and files:
        text = "Files: " + ", ".join(files)
    bot_id = message.get("bot_id")
    is_bot = bool(bot_id) or message.get("subtype") == "bot_message"
    user = message.get("user")
    author = str(user) if is_user_id(user) and not is_bot else None
    bot_name = None
    if is_bot:
        profile = (
            message.get("bot_profile") if isinstance(message.get("bot_profile"), Mapping) else {}
        )
        bot_name = str((profile or {}).get("name") or message.get("username") or "a bot")
    author_team = message.get("user_team") or message.get("team")
    thread_ts = message.get("thread_ts")
    return MessageContent(
        text=text or NO_TEXT,
        author_id=author,
        bot_name=bot_name,
        author_team_id=(
            str(author_team)
            if is_team_id(author_team) and author_team != installed_team_id
            else None
        ),
        thread_ts=str(thread_ts) if thread_ts and thread_ts != message.get("ts") else None,
        edited=isinstance(message.get("edited"), Mapping),
        file_names=files,
        had_text=had_text,
    )
