"""The triage modals: *Note, assign, link…* (status, note, assignee, escalation #) and the
delete confirmation. Their private_metadata names the record and the message the menu was
in; every id in it is checked again on submission."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field as Bounded
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.feedback.models import MAX_NOTE_LENGTH, STATUSES, FeedbackRecord
from bot.ids import CHANNEL_ID_PATTERN, MAX_RECORD_ID
from bot.slack.metadata import ModalMetadata
from bot.slack.mrkdwn import escape, quote, truncate

TRIAGE_CALLBACK = "feedback.triage_form"
DELETE_CALLBACK = "feedback.delete_form"
STATUS_LABELS = {"new": "New", "triaged": "Triaged", "closed": "Closed"}


class TriageField(StrEnum):
    """Block ids of the triage form; each input's action id is the same string."""

    STATUS = "triage_status"
    NOTE = "triage_note"
    ASSIGNEE = "triage_assignee"
    ESCALATION = "triage_escalation"
    REASON = "delete_reason"


class TriageModalMeta(ModalMetadata):
    """The record and where its menu was clicked (to bring that message up to date)."""

    feedback_id: int = Bounded(ge=1, le=MAX_RECORD_ID)
    channel: str | None = Bounded(default=None, pattern=f"^{CHANNEL_ID_PATTERN}$")
    ts: str | None = Bounded(default=None, pattern=r"^\d{1,12}\.\d{1,8}$")
    ephemeral: bool = False


def _heading(feedback: FeedbackRecord) -> SectionBlock:
    customer = f" from *{escape(feedback.customer)}*" if feedback.customer else ""
    return SectionBlock(
        text=MarkdownTextObject(
            text=truncate(f"Feedback *#{feedback.id}*{customer}\n{quote(feedback.text, 600)}", 2900)
        )
    )


def build_triage_modal(feedback: FeedbackRecord, meta: TriageModalMeta) -> View:
    """Status, an optional note, who looks into it, and the escalation it belongs to."""
    options = [Option(text=STATUS_LABELS[s], value=s) for s in STATUSES]
    current = next(o for o in options if o.value == feedback.status)
    blocks: list[Block] = [
        _heading(feedback),
        InputBlock(
            block_id=TriageField.STATUS,
            label="Status",
            element=StaticSelectElement(
                action_id=TriageField.STATUS, options=options, initial_option=current
            ),
        ),
        InputBlock(
            block_id=TriageField.NOTE,
            label="Note (optional)",
            optional=True,
            element=PlainTextInputElement(
                action_id=TriageField.NOTE,
                multiline=True,
                max_length=MAX_NOTE_LENGTH,
                placeholder="What you found or decided",
            ),
        ),
        InputBlock(
            block_id=TriageField.ASSIGNEE,
            label="Assigned to (optional)",
            optional=True,
            hint="They are told in a DM.",
            element=UserSelectElement(
                action_id=TriageField.ASSIGNEE,
                initial_user=feedback.assignee_id,
                placeholder="Nobody",
            ),
        ),
        InputBlock(
            block_id=TriageField.ESCALATION,
            label="Escalation # (optional)",
            optional=True,
            hint="The escalation this feedback belongs to; empty removes the link.",
            element=PlainTextInputElement(
                action_id=TriageField.ESCALATION,
                initial_value=str(feedback.escalation_id) if feedback.escalation_id else None,
                max_length=12,
                placeholder="12",
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=TRIAGE_CALLBACK,
        title="Triage feedback",
        submit="Save",
        close="Cancel",
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def build_delete_modal(feedback: FeedbackRecord, meta: TriageModalMeta) -> View:
    """The confirmation: what deleting does, and an optional reason for the audit log."""
    blocks: list[Block] = [
        _heading(feedback),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Deleted feedback no longer counts in NPS, KPIs, the digest or "
                    "exports. It is kept (and audited): an admin can still export it with "
                    "`opsloop export feedback --include-deleted`."
                )
            ]
        ),
        InputBlock(
            block_id=TriageField.REASON,
            label="Why (optional)",
            optional=True,
            element=PlainTextInputElement(action_id=TriageField.REASON, max_length=MAX_NOTE_LENGTH),
        ),
    ]
    return View(
        type="modal",
        callback_id=DELETE_CALLBACK,
        title="Delete feedback?",
        submit="Delete",
        close="Keep it",
        private_metadata=meta.dump(),
        blocks=blocks,
    )
