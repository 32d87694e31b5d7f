"""The feedback modal: its block ids, its private_metadata model and the view itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as Bounded
from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticMultiSelectElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.feedback.parse import MAX_CUSTOMER_LENGTH, MAX_TAGS, SOURCES
from bot.ids import CHANNEL_ID_PATTERN
from bot.slack.limits import OPTION_TEXT_LIMIT, SELECT_MAX_OPTIONS
from bot.slack.limits import TEXT_INPUT_LIMIT as TEXT_INPUT_LIMIT
from bot.slack.metadata import ModalMetadata
from bot.slack.mrkdwn import truncate

MODAL_CALLBACK = "feedback.form"
NO_SCORE = "none"
MAX_TAG_OPTIONS = SELECT_MAX_OPTIONS


class Field(StrEnum):
    """Block ids of the modal; each input's action id is the same string."""

    TEXT = "feedback_text"
    CUSTOMER = "feedback_customer"
    NPS = "feedback_nps"
    KNOWN_TAGS = "feedback_tags_known"
    NEW_TAGS = "feedback_tags_new"
    SOURCE = "feedback_source"


# The parser's field names → the block that shows their error.
ERROR_BLOCKS: dict[str, Field] = {
    "text": Field.TEXT,
    "customer": Field.CUSTOMER,
    "nps": Field.NPS,
    "tags": Field.NEW_TAGS,
    "source": Field.SOURCE,
}


class MessageRef(BaseModel):
    """The Slack message a modal was opened from ("Log as feedback")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel_id: str
    ts: str
    author_id: str | None = None


class FeedbackModalMeta(ModalMetadata):
    """What the modal carries from opening to submission (private_metadata, < 3000 chars).

    `submission_key` is minted when the modal opens, so a double-clicked Save (the same
    view submitted twice) stores one record.
    """

    # Minted by Opsloop (`modal:<hex>`): anything else is a forged or broken metadata,
    # refused before it reaches a query.
    submission_key: str = Bounded(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    # a row id: outside INTEGER's range PostgreSQL fails the query instead of finding nothing
    feedback_id: int | None = Bounded(default=None, ge=1, le=2**31 - 1)
    reply_channel: str | None = Bounded(default=None, pattern=f"^{CHANNEL_ID_PATTERN}$")
    message: MessageRef | None = None


@dataclass(frozen=True)
class ModalPrefill:
    text: str = ""
    customer: str | None = None
    nps: int | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None
    # an edited record whose text is longer than a text input holds: shown, not editable
    text_locked: bool = False


def build_feedback_modal(
    *,
    meta: FeedbackModalMeta,
    known_tags: list[str],
    prefill: ModalPrefill | None = None,
    notes: list[str] | None = None,
) -> View:
    """The modal for new feedback (empty or pre-filled) or for editing a record."""
    prefill = prefill or ModalPrefill()
    title = "Edit feedback" if meta.feedback_id is not None else "Log feedback"
    blocks: list[Block] = []
    for note in notes or []:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(note, 2000))]))
    if prefill.text_locked:
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"The feedback text ({len(prefill.text):,} characters) is longer "
                        "than a form can hold, so it stays as it is; change the other fields "
                        "here."
                    )
                ]
            )
        )
    else:
        blocks.append(
            InputBlock(
                block_id=Field.TEXT,
                label="Feedback",
                element=PlainTextInputElement(
                    action_id=Field.TEXT,
                    multiline=True,
                    max_length=TEXT_INPUT_LIMIT,
                    initial_value=prefill.text[:TEXT_INPUT_LIMIT] or None,
                    placeholder="What did the customer say?",
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=Field.CUSTOMER,
            label="Customer or account",
            optional=True,
            element=PlainTextInputElement(
                action_id=Field.CUSTOMER,
                max_length=MAX_CUSTOMER_LENGTH,
                initial_value=prefill.customer or None,
                placeholder="e.g. Acme Corp",
            ),
        )
    )
    blocks.append(_nps_block(prefill.nps))
    known = known_tags[:MAX_TAG_OPTIONS]
    if known:
        chosen = [t for t in prefill.tags if t in known]
        blocks.append(
            InputBlock(
                block_id=Field.KNOWN_TAGS,
                label="Tags",
                optional=True,
                element=StaticMultiSelectElement(
                    action_id=Field.KNOWN_TAGS,
                    placeholder="Pick product areas",
                    options=[_option(t, t) for t in known],
                    initial_options=[_option(t, t) for t in chosen] or None,
                    max_selected_items=MAX_TAGS,
                ),
            )
        )
    other = [t for t in prefill.tags if t not in known]
    blocks.append(
        InputBlock(
            block_id=Field.NEW_TAGS,
            label="Other tags" if known else "Tags",
            optional=True,
            hint="Separate tags with commas or spaces.",
            element=PlainTextInputElement(
                action_id=Field.NEW_TAGS,
                max_length=1000,
                initial_value=", ".join(other) or None,
                placeholder="e.g. reporting, data-export",
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=Field.SOURCE,
            label="Source",
            optional=True,
            element=StaticSelectElement(
                action_id=Field.SOURCE,
                placeholder="Where did it come from?",
                options=[_option(value, label) for value, label in SOURCES.items()],
                initial_option=(
                    _option(prefill.source, SOURCES[prefill.source])
                    if prefill.source in SOURCES
                    else None
                ),
            ),
        )
    )
    return View(
        type="modal",
        callback_id=MODAL_CALLBACK,
        title=title,
        submit="Save",
        close="Cancel",
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def _nps_label(score: int) -> str:
    if score >= 9:
        return f"{score} (promoter)"
    if score >= 7:
        return f"{score} (passive)"
    return f"{score} (detractor)"


def _nps_block(score: int | None) -> InputBlock:
    options = [_option(NO_SCORE, "No score")] + [
        _option(str(n), _nps_label(n)) for n in range(10, -1, -1)
    ]
    initial = _option(str(score), _nps_label(score)) if score is not None else None
    return InputBlock(
        block_id=Field.NPS,
        label="NPS score (0-10)",
        optional=True,
        hint="How likely is the customer to recommend us? Leave empty if they did not say.",
        element=StaticSelectElement(
            action_id=Field.NPS,
            placeholder="No score",
            options=options,
            initial_option=initial,
        ),
    )


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=truncate(label, OPTION_TEXT_LIMIT))
