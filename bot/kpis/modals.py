"""The *Log value* form of a KPI owed (opened from its nudge): the value and an optional
note, read by the same parser as `/kpi log`. When the period already has a value, the form
shows it and asks for a tick before replacing it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field as Bounded
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.ids import CHANNEL_ID_PATTERN
from bot.kpis.models import LogForm
from bot.kpis.render import format_target, format_value
from bot.slack.metadata import ModalMetadata
from bot.slack.mrkdwn import escape, local_time, truncate, user_ref

LOG_CALLBACK = "kpi.log_form"
REPLACE = "replace"
NOTE_LIMIT = 1000


class LogField(StrEnum):
    """Block ids of the form; each input's action id is the same string."""

    VALUE = "kpi_value"
    NOTE = "kpi_note"
    REPLACE = "kpi_replace"


class LogFormMeta(ModalMetadata):
    """The KPI and the nudge message the form was opened from (to bring it up to date)."""

    kpi: str = Bounded(pattern=r"^[a-z][a-z0-9_-]{0,63}$")
    channel: str | None = Bounded(default=None, pattern=f"^{CHANNEL_ID_PATTERN}$")
    ts: str | None = Bounded(default=None, pattern=r"^\d{1,12}\.\d{1,8}$")


def build_log_modal(
    form: LogForm,
    meta: LogFormMeta,
    *,
    note: str | None = None,
    typed_value: str | None = None,
    typed_note: str | None = None,
) -> View:
    """Value and note (pre-filled with what was typed when the form is shown again); with a
    value already logged for the period, it and a *Replace* tick that must be ticked."""
    kpi = form.kpi
    unit = f" ({escape(kpi.unit)})" if kpi.unit else ""
    heading = (
        f"*{truncate(escape(kpi.name), 150)}*{unit} for *{form.period}* · {format_target(kpi)}"
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=heading))]
    if note and note.strip():  # Slack refuses a context block with blank text
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(note, 1000))]))
    blocks += [
        InputBlock(
            block_id=LogField.VALUE,
            label="Value",
            hint="As with /kpi log: 27, 27%, 3.5d, 1,250",
            element=PlainTextInputElement(
                action_id=LogField.VALUE, max_length=60, initial_value=typed_value or None
            ),
        ),
        InputBlock(
            block_id=LogField.NOTE,
            label="Note (optional)",
            optional=True,
            element=PlainTextInputElement(
                action_id=LogField.NOTE,
                multiline=True,
                max_length=NOTE_LIMIT,
                initial_value=typed_note or None,
            ),
        ),
    ]
    if form.current is not None:
        current = form.current
        shown = (
            f":warning: {form.period} already has a value: "
            f"{format_value(current.value, kpi.unit)} logged by {user_ref(current.by_id)} "
            f"{local_time(current.at)}"
        )
        if current.note:
            shown += f" (“{truncate(escape(current.note), 200)}”)"
        blocks += [
            SectionBlock(text=MarkdownTextObject(text=shown)),
            InputBlock(
                block_id=LogField.REPLACE,
                label="Replace it?",
                element=CheckboxesElement(
                    action_id=LogField.REPLACE,
                    options=[
                        Option(
                            value=REPLACE,
                            text=MarkdownTextObject(
                                text=f"Replace {format_value(current.value, kpi.unit)} "
                                "with the new value"[:75]
                            ),
                        )
                    ],
                ),
            ),
        ]
    return View(
        type="modal",
        callback_id=LOG_CALLBACK,
        title="Log KPI value",
        submit="Log",
        close="Cancel",
        private_metadata=meta.dump(),
        blocks=blocks,
    )
