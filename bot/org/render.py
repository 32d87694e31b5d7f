"""`/ops owners` and `/ops owner`: who owns which process."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.org.models import (
    REVIEW_NOTE_LIMIT,
    OwnerChange,
    OwnerRow,
    ReviewRecorded,
    ReviewRef,
    ReviewTarget,
    review_due_date,
)
from bot.slack.mrkdwn import SECTION_TEXT_LIMIT, escape, link, quote, truncate, user_ref

MAX_ROWS = 45


def owner_row_line(row: OwnerRow) -> str:
    name = f"*{escape(row.name)}* (`{escape(row.key)}`)"
    if not row.owner_id:
        return f":warning: {name} — *no owner*"
    flag = " — :warning: deactivated or not in this Slack" if row.owner_deleted else ""
    return f"• {name} — {user_ref(row.owner_id)}{flag}"


def render_owners(rows: list[OwnerRow]) -> tuple[str, list[Block]]:
    if not rows:
        text = "There are no processes yet. An admin defines them in the playbook (`processes:`)."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    lines = [owner_row_line(row) for row in rows]
    blocks: list[Block] = [HeaderBlock(text="Process owners")]
    blocks += [SectionBlock(text=MarkdownTextObject(text=line)) for line in lines[:MAX_ROWS]]
    if len(lines) > MAX_ROWS:
        more = f"… and {len(lines) - MAX_ROWS} more"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    unowned = sum(1 for row in rows if not row.owner_id)
    footer = (
        f"{unowned} process(es) without an owner. An admin fixes that with "
        "`/ops owner <process> @someone`."
        if unowned
        else "Every process has an owner."
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return "Process owners\n" + "\n".join(lines) + "\n" + footer, blocks


def render_owner_changed(change: OwnerChange) -> tuple[str, list[Block]]:
    was = f" (was {user_ref(change.previous_id)})" if change.previous_id else " (it had no owner)"
    if change.previous_id == change.owner_id:
        was = " (unchanged)"
    text = f":white_check_mark: {user_ref(change.owner_id)} now owns *{escape(change.name)}*{was}."
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


# -- SOP reviews ---------------------------------------------------------------------------
MARK_REVIEWED_ACTION = "process.mark_reviewed"
REVIEW_CALLBACK = "process.review_form"
REVIEW_NOTE = "review_note"
REVIEW_NOTE_VALUE = "value"


def mark_reviewed_button(ref: ReviewRef) -> ButtonElement:
    """*Mark reviewed*: opens the review modal for the process in `ref`."""
    return ButtonElement(text="Mark reviewed", action_id=MARK_REVIEWED_ACTION, value=ref.to_value())


def _sop_name(target: ReviewTarget) -> str:
    name = f"*{escape(target.name)}*"
    return link(target.sop_url, name)


def review_state(target: ReviewTarget, today: date) -> str:
    """ "due in 5 days (2026-12-06)", "was due 2026-11-01", "never reviewed"."""
    if target.due is None:
        return "never reviewed"
    days = (target.due - today).days
    if days > 1:
        return f"due in {days} days ({target.due})"
    if days == 1:
        return f"due tomorrow ({target.due})"
    if days == 0:
        return f"due today ({target.due})"
    return f"was due {target.due}"


def render_review_modal(target: ReviewTarget, ref: ReviewRef, today: date) -> dict[str, Any]:
    """The small *Mark reviewed* modal: what is being reviewed, and an optional note."""
    last = f"last reviewed {target.last_reviewed}" if target.last_reviewed else "never reviewed"
    about = f"{_sop_name(target)} — {last}, {review_state(target, today)}."
    view = View(
        type="modal",
        callback_id=REVIEW_CALLBACK,
        private_metadata=ref.to_value(),
        title="Mark SOP reviewed",
        submit="Mark reviewed",
        close="Cancel",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=truncate(about, SECTION_TEXT_LIMIT))),
            InputBlock(
                block_id=REVIEW_NOTE,
                label="What changed? (optional)",
                optional=True,
                element=PlainTextInputElement(
                    action_id=REVIEW_NOTE_VALUE,
                    multiline=True,
                    max_length=REVIEW_NOTE_LIMIT,
                    placeholder="e.g. added the security questionnaire step",
                ),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"Marks the SOP reviewed today ({today}); the next review is "
                        f"then due {review_due_date(today, target.review_every_days)}."
                    )
                ]
            ),
        ],
    )
    return view.to_dict()


def render_reviewed(recorded: ReviewRecorded) -> tuple[str, list[Block]]:
    """What the reviewer (and the reminder it answers) says once the review is stored."""
    target = recorded.target
    text = (
        f":white_check_mark: {user_ref(recorded.reviewed_by)} marked the {_sop_name(target)} "
        f"SOP reviewed on {target.last_reviewed}; next review due {target.due}."
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    if recorded.note:
        noted = truncate(f"What changed:\n{quote(recorded.note, 2000)}", SECTION_TEXT_LIMIT)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=noted)))
        text += f"\nWhat changed: {escape(recorded.note)}"
    return truncate(text, 3900), blocks


def render_review_reminder(
    target: ReviewTarget, ref: ReviewRef, today: date
) -> tuple[str, list[Block]]:
    """The owner's reminder DM: which SOP, when it is due, and *Mark reviewed*."""
    text = (
        f":spiral_calendar_pad: The SOP review of {_sop_name(target)} is "
        f"{review_state(target, today)}. Read it through, fix what changed, then mark it "
        "reviewed."
    )
    return text, [
        SectionBlock(
            text=MarkdownTextObject(text=truncate(text, SECTION_TEXT_LIMIT)),
            accessory=mark_reviewed_button(ref),
        )
    ]
