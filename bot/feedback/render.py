"""Feedback messages: the receipt with its Edit button, detractor alerts, NPS and recent items.

Every user-derived value (text, customer, tags) goes through `escape`, so `<!channel>` or
`<https://evil|bank>` typed by someone shows as typed and never pings or disguises a link.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.feedback.models import (
    CLOSED,
    NEW,
    TRIAGED,
    FeedbackRecord,
    RecentFeedback,
    TriagedFeedback,
)
from bot.feedback.nps import NpsReport, NpsSummary
from bot.feedback.parse import SOURCES, RecentQuery
from bot.slack import blocks as kit
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
        "`/feedback recent` — the last 10 items (*More* for older); `recent #billing`, "
        "`recent Acme`, `recent status:new tag:billing` (`triaged`, `closed`), `page:2`",
        "Triage from the ⋯ menu of a receipt, a detractor alert or `/feedback recent`: "
        "*Mark triaged*, *Close*, *Note, assign, link…* (a note, a person, an escalation #), "
        "*Delete…* (yours within 15 minutes; admins any time)",
        "Message menu (⋯) → *Log as feedback* — capture a customer's message with its link",
        "React with :memo: on a message (unless your playbook's `capture:` says otherwise) — "
        "log it as feedback at once, once per message, with *Edit* and *Undo*",
        "`/feedback help` — this help",
    ),
)

EDIT_ACTION = "feedback.edit"
TRIAGE_ACTION = "feedback.triage"  # the ⋯ menu: option values are `<verb>:<id>:<place>`
MORE_ACTION = "feedback.recent_more"
# the ⋯ menu's verbs: a status to set, the triage form, the delete confirmation
FORM_VERB, DELETE_VERB = "form", "delete"
# Where a ⋯ menu is (the third part of its option values), so a click updates that view:
# a receipt or `/feedback recent` list or a triage card (ephemeral, through the click's
# response_url), a detractor alert or an assignment DM (a real message, through the outbox).
RECEIPT, ALERT, ASSIGNMENT_DM, RECENT_LIST, CARD = "r", "a", "d", "l", "c"
MENU_PLACES = (RECEIPT, ALERT, ASSIGNMENT_DM, RECENT_LIST, CARD)
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
) -> tuple[str, list[dict[str, Any]]]:
    """The receipt: what was stored, with an Edit button. Written as dicts: it is the ack
    body of every `/feedback` (see bot.slack.blocks)."""
    verb = "Updated" if edited else "Logged"
    customer = f" from *{escape(feedback.customer)}*" if feedback.customer else ""
    heading = f"{verb} feedback *#{feedback.id}*{customer}:"
    text = truncate(f"{heading}\n{quote(feedback.text, QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    details = _details(feedback)
    blocks = [
        kit.section(text),
        kit.context(details),
        kit.actions(
            kit.button("Edit", action=EDIT_ACTION, value=str(feedback.id)),
            triage_menu(feedback, RECEIPT),
        ),
    ]
    if notes:
        blocks.append(kit.context("\n".join(notes)))
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
    context += f" · {status_line(feedback)}"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=[MarkdownTextObject(text=context)]),
        ActionsBlock(elements=[triage_menu(feedback, ALERT)]),
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
    """`/feedback recent`: a page of items (newest first), each quoted and trimmed, with its
    triage menu; *More* when there is a next page."""
    filters = []
    if recent.status:
        filters.append(f"status *{escape(recent.status)}*")
    if recent.tag:
        filters.append(f"tagged #{escape(recent.tag)}")
    if recent.customer:
        filters.append(f"for customers matching “{escape(recent.customer)}”")
    what = ", ".join(filters)
    if not recent.items:
        if recent.page > 1:
            text = f"No more feedback{' ' + what if what else ''} (page {recent.page} is empty)."
        else:
            text = f"No feedback {what} yet." if what else "No feedback logged yet."
        if recent.customer and " " in recent.customer.strip():
            text += (
                " (To log feedback that starts with “recent”, put the customer first: "
                "`/feedback Acme: recent …`.)"
            )
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    # The header is plain text, so the (escaped, user-typed) filter goes in a context line.
    title = "Latest feedback" + (f" (page {recent.page})" if recent.page > 1 else "")
    blocks: list[Block] = [HeaderBlock(text=title)]
    parts = [title]
    if what:
        filter_line = f"Newest first, {what}:"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=filter_line)]))
        parts.append(filter_line)
    for item in recent.items:
        who = f" · *{escape(item.customer)}*" if item.customer else ""
        line = (
            f"*#{item.id}*{who} · {local_time(item.created_at)} · {_details(item, short=True)}"
            f"\n{status_line(item)}"
        )
        body = truncate(f"{line}\n{quote(item.text, RECENT_QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=body),
                accessory=triage_menu(item, RECENT_LIST),
            )
        )
        parts.append(body)
    if recent.has_more:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(text="More", action_id=MORE_ACTION, value=more_value(recent))
                ]
            )
        )
        parts.append(f"More: `/feedback recent {more_value(recent)}`")
    return "\n\n".join(parts), blocks


def more_value(recent: RecentFeedback) -> str:
    """The next page's query, as `/feedback recent` reads it (the *More* button's value)."""
    query = RecentQuery(
        tag=recent.tag, status=recent.status, customer=recent.customer, page=recent.page + 1
    )
    return query.to_text()[:2000]


def status_line(feedback: FeedbackRecord) -> str:
    """`Status: triaged by @dana (note) · Assigned to @lee · Escalation #3`."""
    step = feedback.last_step
    line = f"Status: *{feedback.status}*"
    if step is not None:
        line += f" by {user_ref(step.actor_id)} {local_time(step.at)}"
        if step.note:
            line += f" — “{truncate(escape(' '.join(step.note.split())), 200)}”"
    if feedback.assignee_id:
        line += f" · Assigned to {user_ref(feedback.assignee_id)}"
    if feedback.escalation_id:
        line += f" · Escalation #{feedback.escalation_id}"
    return line


def triage_menu(feedback: FeedbackRecord, place: str) -> dict[str, Any]:
    """The ⋯ menu: the next statuses, the triage form and the delete confirmation."""
    statuses = {
        NEW: [("Mark triaged", TRIAGED), ("Close", CLOSED)],
        TRIAGED: [("Close", CLOSED), ("Back to new", NEW)],
        CLOSED: [("Reopen", NEW)],
    }.get(feedback.status, [])
    choices = [
        *statuses,
        ("Note, assign, link…", FORM_VERB),
        ("Delete…", DELETE_VERB),
    ]
    return kit.overflow(
        action=TRIAGE_ACTION,
        options=[(label, f"{verb}:{feedback.id}:{place}") for label, verb in choices],
    )


def render_triaged(result: TriagedFeedback) -> tuple[str, list[Block]]:
    """What a triage action changed, as a card of the record (or that nothing changed)."""
    feedback = result.feedback
    if not result.changed_anything:
        text = f"Feedback #{feedback.id} already is like that; nothing was changed."
    else:
        text = f":white_check_mark: Feedback *#{feedback.id}* — {status_line(feedback)}"
    section = truncate(f"{text}\n{quote(feedback.text, RECENT_QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section), accessory=triage_menu(feedback, CARD))
    ]
    return truncate(text, 1000), blocks


def render_deleted(feedback: FeedbackRecord) -> tuple[str, list[Block]]:
    """What a message that quoted deleted feedback says instead (blocks too: an update
    without blocks would leave the old ones, quote and all, in place)."""
    text = (
        f":wastebasket: Feedback #{feedback.id} was deleted by {user_ref(feedback.deleted_by)}: "
        "it no longer counts in NPS, KPIs, the digest or exports."
    )
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_assignment_dm(feedback: FeedbackRecord, *, by: str) -> tuple[str, list[Block]]:
    """The DM telling a person a feedback item is now theirs to look into."""
    customer = f" from *{escape(feedback.customer)}*" if feedback.customer else ""
    heading = f":inbox_tray: {user_ref(by)} assigned feedback *#{feedback.id}*{customer} to you:"
    section = truncate(f"{heading}\n{quote(feedback.text, QUOTE_LIMIT)}", SECTION_TEXT_LIMIT)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=[MarkdownTextObject(text=_details(feedback))]),
        ContextBlock(elements=[MarkdownTextObject(text=status_line(feedback))]),
        ActionsBlock(elements=[triage_menu(feedback, ASSIGNMENT_DM)]),
    ]
    fallback = f"{user_ref(by)} assigned feedback #{feedback.id}{customer} to you: " + truncate(
        escape(feedback.text), 300
    )
    return fallback, blocks


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
    if not short:
        parts.append(status_line(feedback))
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
