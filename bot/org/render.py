"""`/ops owners` and `/ops owner`: who owns which process."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.org.models import OwnerChange, OwnerRow
from bot.slack.mrkdwn import escape, user_ref

MAX_ROWS = 45


def owner_row_line(row: OwnerRow) -> str:
    name = f"*{escape(row.name)}* (`{escape(row.key)}`)"
    if not row.owner_id:
        return f":warning: {name} — *no owner*"
    flag = " — :warning: deactivated in Slack" if row.owner_deleted else ""
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
