"""What a reaction capture says to the person who reacted: the receipt with *Edit* and
*Undo*, the offer to raise an escalation, and the truth when a message cannot be read.

The message's text was decoded when it was read; everything from it is escaped here.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.feedback.render import EDIT_ACTION
from bot.reactions.models import (
    RAISE_ACTION,
    UNDO_ACTION,
    UNDO_WINDOW,
    Capture,
    CapturedMessage,
    MessageContent,
)
from bot.slack.mrkdwn import (
    SECTION_TEXT_LIMIT,
    channel_ref,
    escape,
    link,
    quote,
    truncate,
    user_ref,
)

QUOTE_LIMIT = 2400
FALLBACK_QUOTE_LIMIT = 300


def _author(content: MessageContent) -> str:
    if content.bot_name is not None:
        return f"the bot *{truncate(escape(content.bot_name), 80)}*"
    who = user_ref(content.author_id, otherwise="someone")
    if content.author_team_id:
        who += f" (of the partner workspace {escape(content.author_team_id)})"
    return who


def _what_was_read(content: MessageContent) -> list[str]:
    """Lines saying what exactly was captured, where a person might expect otherwise."""
    notes = []
    if not content.had_text and content.file_names:
        files = ", ".join(truncate(escape(n), 80) for n in content.file_names[:10])
        notes.append(f"The message has no text, only files: I stored their names ({files}).")
    elif not content.had_text:
        notes.append("The message has no text of its own; I stored what Slack shows of it.")
    elif content.file_names:
        notes.append("Its files are not copied; the link to the message keeps them.")
    if content.edited:
        notes.append("It was edited: I stored it as it reads now.")
    if content.thread_ts:
        notes.append("It is a reply in a thread.")
    if content.bot_name is not None:
        notes.append("A bot wrote it, so you are its reporter of record.")
    return notes


def _origin(capture: Capture) -> str:
    where = channel_ref(capture.channel_id, otherwise="a channel")
    if capture.permalink:
        return link(capture.permalink, f"the message in {where}")
    return f"the message in {where}"


def _partner_line(capture: Capture) -> list[str]:
    if not capture.reactor_team_id:
        return []
    return [
        f"{user_ref(capture.reactor_id)} of the partner workspace "
        f"{escape(capture.reactor_team_id)} reacted :{escape(capture.emoji)}: in a shared "
        "channel; you hear about it as the process owner (they see nothing from Opsloop)."
    ]


def render_feedback_receipt(captured: CapturedMessage) -> tuple[str, list[Block]]:
    """The receipt of feedback captured by a reaction, with *Edit* and *Undo*."""
    capture, content = captured.capture, captured.content
    assert content is not None and captured.feedback_id is not None
    heading = (
        f":memo: Logged {_origin(capture)} by {_author(content)} as feedback "
        f"*#{captured.feedback_id}*:"
    )
    section = truncate(f"{heading}\n{quote(content.text, QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    minutes = int(UNDO_WINDOW.total_seconds() // 60)
    notes = [
        *_partner_line(capture),
        *_what_was_read(content),
        f"*Edit* adds the customer, tags and NPS; *Undo* removes it (for {minutes} minutes).",
    ]
    context = truncate("\n".join(notes), SECTION_TEXT_LIMIT)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=[MarkdownTextObject(text=context)]),
        ActionsBlock(
            elements=[
                ButtonElement(text="Edit", action_id=EDIT_ACTION, value=str(captured.feedback_id)),
                ButtonElement(text="Undo", action_id=UNDO_ACTION, value=str(capture.id)),
            ]
        ),
    ]
    fallback = (
        f"Logged a message by {_author(content)} as feedback #{captured.feedback_id}: "
        f"{truncate(escape(content.text), FALLBACK_QUOTE_LIMIT)}"
    )
    return fallback, blocks


def render_escalation_offer(captured: CapturedMessage) -> tuple[str, list[Block]]:
    """The private offer to raise an escalation from a message (a reaction has no trigger
    to open a form with, so a click on *Raise escalation* opens it)."""
    capture, content = captured.capture, captured.content
    assert content is not None
    heading = f":rotating_light: Raise an escalation from {_origin(capture)} by {_author(content)}?"
    section = truncate(f"{heading}\n{quote(content.text, QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    notes = [
        *_partner_line(capture),
        "The form opens with the message filled in and its link kept on the escalation.",
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=[MarkdownTextObject(text="\n".join(notes))]),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Raise escalation",
                    action_id=RAISE_ACTION,
                    value=str(capture.id),
                    style="danger",
                )
            ]
        ),
    ]
    fallback = (
        f"Raise an escalation from a message by {_author(content)}? "
        f"{truncate(escape(content.text), FALLBACK_QUOTE_LIMIT)}"
    )
    return fallback, blocks


# Why a message could not be read, as the reactor should hear it, by Slack's error.
_UNREADABLE = {
    "not_in_channel": (
        "I am not a member of {where}, so I cannot read its messages. Invite me with "
        "`/invite @Opsloop` there, then react again."
    ),
    "channel_not_found": (
        "I cannot see {where} (a private channel needs me invited with `/invite @Opsloop`). "
        "Invite me, then react again."
    ),
    "message_not_found": "That message is gone (deleted, or beyond the channel's history).",
    "thread_not_found": "That message is gone (deleted, or beyond the channel's history).",
    "missing_scope": (
        "Opsloop is missing the permission to read {where}'s history. An admin can add it by "
        "reinstalling the app from app.yaml; then react again."
    ),
    "is_archived": "{where} is archived, so I cannot read its messages.",
}


def render_unreadable(capture: Capture) -> tuple[str, list[Block]]:
    """Why nothing was captured: what Slack said, as a reason and what to do about it."""
    where = channel_ref(capture.channel_id, otherwise="that channel")
    error = capture.error or "message_not_found"
    reason = _UNREADABLE.get(error)
    if reason is None:
        said = escape(error)[:64]
        reason = f"Slack would not give me the message (it said `{said}`). React again to retry."
    what = "logged as feedback" if capture.kind == "feedback" else "used for an escalation"
    text = f":warning: Nothing was {what}: " + reason.format(where=where)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_already_captured(capture: Capture) -> tuple[str, list[Block]]:
    """A second reaction on a message already logged: nothing new is stored."""
    who = user_ref(capture.reactor_id)
    text = (
        f":memo: That message is already logged as feedback "
        f"*#{capture.feedback_id}* (captured when {who} reacted), so nothing new was stored."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_capture_in_progress(capture: Capture) -> tuple[str, list[Block]]:
    text = (
        f":memo: {user_ref(capture.reactor_id)} reacted just before you: that message is being "
        "logged as feedback, once."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_undone(capture: Capture) -> tuple[str, list[Block]]:
    text = (
        f":leftwards_arrow_with_hook: Undone: feedback *#{capture.feedback_id}* is removed. "
        "React again to log the message anew."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]
