"""Block Kit on the wire: slack_sdk models turned into dicts, the ids buttons carry, and
the few dicts the ack path writes directly.

Action ids are `domain.verb` (`nudge.done`, `escalation.resolve`).

Most messages are built from slack_sdk's models, which check what they hold. A receipt is
the body of a command's ack, where turning a handful of models into dicts costs more than
storing the record (measured: 0.5 ms of a 3 ms `/feedback`), so receipts are written as
the same dicts directly with the builders below; the Block Kit limits test parses them
back with slack_sdk (`Block.parse`) and checks them like every other message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block


def as_dicts(blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as the JSON dicts Slack wants (validating slack_sdk models on the way)."""
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, *, accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(text)]}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def button(text: str, *, action: str, value: str) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action, "value": value}


def overflow(*, action: str, options: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """An overflow (⋯) menu of (label, value) options."""
    return {
        "type": "overflow",
        "action_id": action,
        "options": [{"text": plain(label), "value": value} for label, value in options],
    }


def action_id(current: str, *earlier: str) -> re.Pattern[str]:
    """A listener's action id, also matching the ids of buttons posted by earlier versions
    (a nudge DM or an escalation message stays clickable for weeks after an upgrade)."""
    return re.compile("^(?:" + "|".join(re.escape(i) for i in (current, *earlier)) + ")$")
