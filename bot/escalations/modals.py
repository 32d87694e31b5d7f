"""The modals of escalations: raise one, reassign it, resolve it, reopen it."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.escalations.models import CUSTOMER_LIMIT, TITLE_LIMIT, EscalationView
from bot.escalations.render import (
    EscalationRef,
    NewEscalationMeta,
    is_valid_link,
    severity_label,
)
from bot.escalations.sla import SEVERITIES, SEVERITY_MEANINGS
from bot.slack.limits import OPTION_TEXT_LIMIT, TEXT_INPUT_LIMIT
from bot.slack.mrkdwn import escape, truncate

NEW_CALLBACK = "escalation.new_form"
REASSIGN_CALLBACK = "escalation.reassign_form"
RESOLVE_CALLBACK = "escalation.resolve_form"
REOPEN_CALLBACK = "escalation.reopen_form"

# Block ids of the inputs; each input's action id is VALUE.
TITLE = "title"
CUSTOMER = "customer"
SEVERITY = "severity"
DESCRIPTION = "description"
OWNER = "owner"
LINK = "link"
NEW_OWNER = "new_owner"
ROOT_CAUSE = "root_cause"
CORRECTIVE_ACTION = "corrective_action"
REOPEN_REASON = "reopen_reason"
VALUE = "value"

TEXT_LIMIT = TEXT_INPUT_LIMIT


def severity_options() -> list[Option]:
    return [
        Option(
            value=s,
            text=f"{severity_label(s)} — {SEVERITY_MEANINGS[s].split(':')[0]}",
            description=truncate(SEVERITY_MEANINGS[s], OPTION_TEXT_LIMIT),
        )
        for s in SEVERITIES
    ]


def render_new_escalation_modal(
    *,
    typed: str,
    owner_id: str | None,
    channel_id: str | None,
    description: str | None = None,
    link: str | None = None,
) -> dict[str, Any]:
    """The `/escalate` modal, prefilled with what was typed after the command and the owner
    (or, raised from a message, its first line as the title, the message as the description
    and its permalink as the link).

    Text too long for a title becomes the description too, so nothing typed is lost.
    """
    title, long_text = typed.strip(), ""
    if len(title) > TITLE_LIMIT:
        long_text = title[:TEXT_LIMIT]
        title = title[: TITLE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    description = (description or long_text)[:TEXT_LIMIT]
    owner_hint = (
        "Defaults to the escalation process owner."
        if owner_id
        else "No escalation process owner is set; pick who owns this."
    )
    view = View(
        type="modal",
        callback_id=NEW_CALLBACK,
        private_metadata=NewEscalationMeta(
            channel_id=channel_id,
            source_link=link if link and is_valid_link(link) and len(link) <= 1000 else None,
        ).encode(),
        title="New escalation",
        submit="Escalate",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=TITLE,
                label="Title",
                element=PlainTextInputElement(
                    action_id=VALUE,
                    initial_value=title[:TITLE_LIMIT] or None,
                    max_length=TITLE_LIMIT,
                    placeholder="What is going wrong, in one line",
                ),
            ),
            InputBlock(
                block_id=CUSTOMER,
                label="Customer",
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE, max_length=CUSTOMER_LIMIT, placeholder="Account affected"
                ),
            ),
            InputBlock(
                block_id=SEVERITY,
                label="Severity",
                element=StaticSelectElement(
                    action_id=VALUE, placeholder="How bad is it?", options=severity_options()
                ),
            ),
            InputBlock(
                block_id=DESCRIPTION,
                label="Description",
                optional=True,
                element=PlainTextInputElement(
                    action_id=VALUE,
                    multiline=True,
                    max_length=TEXT_LIMIT,
                    initial_value=description or None,
                ),
            ),
            InputBlock(
                block_id=OWNER,
                label="Owner",
                hint=owner_hint,
                element=UserSelectElement(action_id=VALUE, initial_user=owner_id),
            ),
            InputBlock(
                block_id=LINK,
                label="Link",
                optional=True,
                element=UrlInputElement(
                    action_id=VALUE,
                    placeholder="Ticket, thread or dashboard",
                    initial_value=link if link and is_valid_link(link) else None,
                ),
            ),
        ],
    )
    return view.to_dict()


def _about(e: EscalationView) -> ContextBlock:
    title = truncate(escape(e.title), 150)
    return ContextBlock(
        elements=[
            MarkdownTextObject(text=f"{severity_label(e.severity)} escalation #{e.id}: *{title}*")
        ]
    )


def render_reassign_modal(e: EscalationView) -> dict[str, Any]:
    """Pick the new owner of an escalation."""
    view = View(
        type="modal",
        callback_id=REASSIGN_CALLBACK,
        private_metadata=EscalationRef(id=e.id).encode(),
        title="Reassign escalation",
        submit="Reassign",
        close="Cancel",
        blocks=[
            _about(e),
            InputBlock(
                block_id=NEW_OWNER,
                label="New owner",
                hint="They get a DM with a link to the escalation.",
                element=UserSelectElement(action_id=VALUE, initial_user=e.owner_id),
            ),
        ],
    )
    return view.to_dict()


def render_resolve_modal(e: EscalationView) -> dict[str, Any]:
    """Root cause and corrective action, both required, to resolve an escalation."""
    view = View(
        type="modal",
        callback_id=RESOLVE_CALLBACK,
        private_metadata=EscalationRef(id=e.id).encode(),
        title="Resolve escalation",
        submit="Resolve",
        close="Cancel",
        blocks=[
            _about(e),
            InputBlock(
                block_id=ROOT_CAUSE,
                label="Root cause",
                hint="Why did it happen? Not what you saw, but what caused it.",
                element=PlainTextInputElement(
                    action_id=VALUE, multiline=True, max_length=TEXT_LIMIT
                ),
            ),
            InputBlock(
                block_id=CORRECTIVE_ACTION,
                label="Corrective action",
                hint="What was done, or will be done, so it does not happen again.",
                element=PlainTextInputElement(
                    action_id=VALUE, multiline=True, max_length=TEXT_LIMIT
                ),
            ),
        ],
    )
    return view.to_dict()


def render_reopen_modal(e: EscalationView) -> dict[str, Any]:
    """Why a resolved escalation is reopened (required); its resolution stays visible."""
    cause = truncate(escape(e.root_cause or "—"), 1500)
    view = View(
        type="modal",
        callback_id=REOPEN_CALLBACK,
        private_metadata=EscalationRef(id=e.id).encode(),
        title="Reopen escalation",
        submit="Reopen",
        close="Cancel",
        blocks=[
            _about(e),
            ContextBlock(elements=[MarkdownTextObject(text=f"*Root cause so far:* {cause}")]),
            InputBlock(
                block_id=REOPEN_REASON,
                label="Why is it reopened?",
                hint="What came back, or what the fix missed. The previous root cause stays "
                "on the message.",
                element=PlainTextInputElement(
                    action_id=VALUE, multiline=True, max_length=TEXT_LIMIT
                ),
            ),
        ],
    )
    return view.to_dict()
