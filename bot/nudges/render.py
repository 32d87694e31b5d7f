"""Overdue nudges as DMs: the owner's list with Done / Snooze buttons, and the report to a
process owner about items overdue past the threshold."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.nudges.models import Nudge, OverdueItem
from bot.periods import overdue_text, zone
from bot.slack.help import CommandHelp
from bot.slack.mrkdwn import (
    MESSAGE_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    escape,
    link,
    local_time,
    truncate,
    user_ref,
)

NUDGE_HELP = CommandHelp(
    "/ops nudge",
    "Overdue nudges (a DM each weekday morning, in your own timezone).",
    ("`/ops nudge preview` — your own overdue items, with Done / Snooze buttons",),
)

DONE_ACTION = "nudge.done"
SNOOZE_ACTION = "nudge.snooze"
FORM_ACTION = "nudge.open_form"  # an item's own form, e.g. a KPI's *Log value*
# Two blocks per item (text + buttons); 20 items keep a nudge well under 50 blocks.
MAX_ITEMS = 20
TITLE_LIMIT = 200


@dataclass(frozen=True)
class ItemRef:
    """What a Done / Snooze button carries: which item of which source."""

    source: str
    item_id: str

    def to_value(self) -> str:
        return json.dumps({"s": self.source, "i": self.item_id}, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str) -> ItemRef:
        data = json.loads(value)
        return cls(str(data["s"]), str(data["i"]))


def _item_line(
    item: OverdueItem, now: datetime, reader_tz: ZoneInfo, *, with_owner: bool = False
) -> str:
    title = truncate(escape(" ".join(item.title.split())), TITLE_LIMIT)
    title = link(item.link, title)  # only a linkable URL, and one that fits the section
    owner = f" · {user_ref(item.owner_id)}" if with_owner else ""
    due = local_time(item.due_at, reader_tz)
    return f"*{title}*{owner}\nDue {due} · {overdue_text(item.due_at, now)}"


def render_nudge(
    nudge: Nudge, *, now: datetime, note: str | None = None
) -> tuple[str, list[Block]]:
    """An owner's nudge: one section and a Done / Snooze 1 day pair per item."""
    reader_tz = zone(nudge.timezone)
    count = len(nudge.items)
    if not count:
        text = "Nothing of yours is overdue. :tada:"
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
        if note:
            blocks.insert(0, ContextBlock(elements=[MarkdownTextObject(text=note)]))
        return (f"{note}\n{text}" if note else text), blocks
    intro = f"You have *{count}* overdue item{'s' if count != 1 else ''}:"
    blocks = []
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=intro)))
    lines = [intro]
    for index, item in enumerate(nudge.items[:MAX_ITEMS]):
        line = _item_line(item, now, reader_tz)
        value = ItemRef(item.source, item.item_id).to_value()
        buttons = []
        if item.can_snooze:
            buttons.append(ButtonElement(text="Snooze 1 day", action_id=SNOOZE_ACTION, value=value))
        else:
            line += "\n_A breached SEV1 or SEV2 cannot be snoozed._"
        if item.can_mark_done:
            done = ButtonElement(text="Done", action_id=DONE_ACTION, value=value, style="primary")
            buttons.insert(0, done)
        elif item.form_label:
            form = ButtonElement(
                text=item.form_label, action_id=FORM_ACTION, value=value, style="primary"
            )
            buttons.insert(0, form)
        lines.append("• " + line.replace("\n", " — "))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
        if buttons:
            blocks.append(ActionsBlock(block_id=f"nudge_item_{index}", elements=buttons))
    if count > MAX_ITEMS:
        more = f"…and {count - MAX_ITEMS} more. Use `/ops nudge preview` after clearing some."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
        lines.append(more)
    text = (f"{note}\n" if note else "") + "\n".join(lines)
    return truncate(text, MESSAGE_TEXT_LIMIT), blocks


def render_owner_report(nudge: Nudge, *, now: datetime) -> tuple[str, list[Block]]:
    """The process owner's report: items overdue for more than the threshold, by owner."""
    reader_tz = zone(nudge.timezone)
    count = len(nudge.items)
    intro = (
        f"*{count}* item{'s' if count != 1 else ''} in processes you own "
        f"{'are' if count != 1 else 'is'} overdue by more than {nudge.escalate_after_days} "
        "days:"
    )
    lines = [
        "• " + _item_line(item, now, reader_tz, with_owner=True).replace("\n", " — ")
        for item in nudge.items
    ]
    body = "\n".join(lines)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=intro))]
    pieces: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_TEXT_LIMIT:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    for piece in pieces[:40]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=piece)))
    return truncate(f"{intro}\n{body}", MESSAGE_TEXT_LIMIT), blocks
