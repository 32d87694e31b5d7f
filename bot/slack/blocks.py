"""Block Kit on the wire: slack_sdk models turned into dicts, and the ids buttons carry.

Action ids are `domain.verb` (`nudge.done`, `escalation.resolve`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block


def as_dicts(blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as the JSON dicts Slack wants (validating slack_sdk models on the way)."""
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


def action_id(current: str, *earlier: str) -> re.Pattern[str]:
    """A listener's action id, also matching the ids of buttons posted by earlier versions
    (a nudge DM or an escalation message stays clickable for weeks after an upgrade)."""
    return re.compile("^(?:" + "|".join(re.escape(i) for i in (current, *earlier)) + ")$")
