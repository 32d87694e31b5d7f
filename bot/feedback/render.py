"""Feedback messages: the receipt with its Edit button, detractor alerts, NPS and recent items.

Every user-derived value (text, customer, tags) goes through `escape`, so `<!channel>` or
`<https://evil|bank>` typed by someone shows as typed and never pings or disguises a link.
"""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.feedback.models import FeedbackRecord, RecentFeedback
from bot.feedback.nps import NpsReport, NpsSummary
from bot.feedback.parse import SOURCES
from bot.slack.help import CommandHelp, render_command_help
from bot.slack.mrkdwn import (
    SECTION_TEXT_LIMIT,
    channel_ref,
    escape,
    local_time,
    quote,
    truncate,
    user_ref,
)

FEEDBACK_HELP = CommandHelp(
    "/feedback",
    "Log customer feedback with tags and an NPS score, and see NPS.",
    (
        "`/feedback Acme: CSV export times out #reporting nps:6` — log it at once: an "
        "optional `Customer:` first, `#tags` anywhere, `nps:0` to `nps:10` (optional)",
        "`/feedback` — open the form (customer, NPS, tags, source)",
        "`/feedback nps` — NPS of the last 30 days; also `nps 7d` or `nps 90d`",
        "`/feedback recent` — the last 10 items; `recent #billing` or `recent Acme` to filter",
        "Message menu (⋯) → *Log as feedback* — capture a customer's message with its link",
        "React with :memo: on a message (unless your playbook's `capture:` says otherwise) — "
        "log it as feedback at once, once per message, with *Edit* and *Undo*",
        "`/feedback help` — this help",
    ),
)

EDIT_ACTION = "feedback.edit"
QUOTE_LIMIT = 2400  # leaves room in a 3,000-character section for the heading
RECENT_QUOTE_LIMIT = 280


def render_feedback_help(note: str | None = None) -> tuple[str, list[Block]]:
    """`/feedback help`, optionally after a line saying what was wrong."""
    text, blocks = render_command_help(FEEDBACK_HELP)
    if note:
        note_text = escape(note)
        return f"{note_text}\n\n{text}", [
            SectionBlock(text=MarkdownTextObject(text=note_text)),
            *blocks,
        ]
    return text, blocks


def render_logged(
    feedback: FeedbackRecord, *, edited: bool = False, notes: list[str] | None = None
) -> tuple[str, list[Block]]:
    """The receipt: what was stored, with an Edit button."""
    verb = "Updated" if edited else "Logged"
    customer = f" from *{escape(feedback.customer)}*" if feedback.customer else ""
    heading = f"{verb} feedback *#{feedback.id}*{customer}:"
    section = truncate(f"{heading}\n{quote(feedback.text, QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    details = _details(feedback)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=[MarkdownTextObject(text=details)]),
        ActionsBlock(
            elements=[ButtonElement(text="Edit", action_id=EDIT_ACTION, value=str(feedback.id))]
        ),
    ]
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="\n".join(notes))]))
    fallback = (
        f"{verb} feedback #{feedback.id}{customer}: "
        f"{truncate(escape(feedback.text), 300)}\n{details}"
    )
    return fallback, blocks


def render_detractor_alert(feedback: FeedbackRecord) -> tuple[str, list[Block]]:
    """Posted to the feedback channel and sent to the feedback owner for a 0-6 score."""
    customer = escape(feedback.customer) if feedback.customer else "an unnamed customer"
    heading = f":rotating_light: *Detractor:* NPS *{feedback.nps_score}* from *{customer}*"
    section = truncate(f"{heading}\n{quote(feedback.text, QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    context = f"Feedback #{feedback.id} · logged by {user_ref(feedback.reporter_id)}"
    if feedback.permalink:
        context += f" · <{escape(feedback.permalink)}|original message>"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=[MarkdownTextObject(text=context)]),
    ]
    fallback = (
        f"Detractor: NPS {feedback.nps_score} from {customer}: "
        f"{truncate(escape(feedback.text), 500)}"
    )
    return fallback, blocks


def alert_note(*, channel_id: str | None, owner_id: str | None) -> str:
    """One line for the receipt saying who is being told about a detractor."""
    target = channel_ref(channel_id) if channel_id else f"the feedback owner {user_ref(owner_id)}"
    return f":rotating_light: Detractor score: {target} is being told."


def render_nps_report(report: NpsReport) -> tuple[str, list[Block]]:
    """`/feedback nps`: score, the three groups, responses, change against the period before."""
    period = f"the last {report.days} days"
    current = report.current
    if current.score is None:
        text = f"No NPS responses in {period}. Add a score with `nps:0` to `nps:10` or the form."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    lines = [
        f"*NPS for {period}: {format_nps(current.score)}*",
        _counts(current),
        _change_line(report),
    ]
    text = "\n".join(lines)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_recent(recent: RecentFeedback) -> tuple[str, list[Block]]:
    """`/feedback recent`: the last items (newest first), each quoted and trimmed."""
    if recent.tag:
        what = f"tagged #{escape(recent.tag)}"
    elif recent.customer:
        what = f"for customers matching “{escape(recent.customer)}”"
    else:
        what = ""
    if not recent.items:
        text = f"No feedback {what} yet." if what else "No feedback logged yet."
        if recent.customer and " " in recent.customer.strip():
            text += (
                " (To log feedback that starts with “recent”, put the customer first: "
                "`/feedback Acme: recent …`.)"
            )
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    # The header is plain text, so the (escaped, user-typed) filter goes in a context line.
    blocks: list[Block] = [HeaderBlock(text="Latest feedback")]
    parts = ["Latest feedback"]
    if what:
        filter_line = f"Newest first, {what}:"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=filter_line)]))
        parts.append(filter_line)
    for item in recent.items:
        who = f" · *{escape(item.customer)}*" if item.customer else ""
        line = f"*#{item.id}*{who} · {local_time(item.created_at)} · {_details(item, short=True)}"
        body = truncate(f"{line}\n{quote(item.text, RECENT_QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=body)))
        parts.append(body)
    return "\n\n".join(parts), blocks


def format_nps(score: float) -> str:
    """An NPS as a signed whole number (half away from zero): +25, -10, 0."""
    rounded = int(abs(score) + 0.5) * (1 if score >= 0 else -1)
    return f"{rounded:+d}" if rounded else "0"


def _details(feedback: FeedbackRecord, *, short: bool = False) -> str:
    parts = []
    if not short:
        parts.append(f"ID #{feedback.id}")
        parts.append(f"Customer: {escape(feedback.customer) if feedback.customer else '—'}")
    tags = " ".join(f"#{escape(t)}" for t in feedback.tags)
    parts.append(f"Tags: {tags or '—'}")
    if feedback.nps_score is None:
        parts.append("NPS: —")
    else:
        parts.append(f"NPS: {feedback.nps_score} ({feedback.nps_category})")
    if feedback.source:
        parts.append(f"Source: {SOURCES.get(feedback.source, escape(feedback.source))}")
    if feedback.captured_by_id and not short:
        partner = (
            f" of the partner workspace {escape(feedback.captured_by_team_id)}"
            if feedback.captured_by_team_id
            else ""
        )
        parts.append(f"Captured by a reaction of {user_ref(feedback.captured_by_id)}{partner}")
    if feedback.permalink and not short:
        parts.append(f"<{escape(feedback.permalink)}|original message>")
    return " · ".join(parts)


def _counts(summary: NpsSummary) -> str:
    return (
        f"Promoters (9-10): {summary.promoters} · Passives (7-8): {summary.passives} · "
        f"Detractors (0-6): {summary.detractors} · Responses: {summary.responses}"
    )


def _change_line(report: NpsReport) -> str:
    previous = f"the {report.days} days before"
    if report.change is None:
        return f"No responses in {previous} to compare with."
    arrow = "▲" if report.change > 0 else "▼" if report.change < 0 else "▶"
    assert report.previous.score is not None
    return (
        f"{arrow} {format_nps(report.change)} against {previous} "
        f"(NPS {format_nps(report.previous.score)}, {report.previous.responses} responses)"
    )
