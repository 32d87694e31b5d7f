"""Help texts: the shape of one command's help, and `/ops help` built from a list of them.

Each domain's render module owns its command's entry; `handlers.ops.COMMAND_HELP` lists them
all in the order `/ops help` shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)


@dataclass(frozen=True)
class CommandHelp:
    command: str
    summary: str
    usage: tuple[str, ...]


def render_command_help(entry: CommandHelp) -> tuple[str, list[Block]]:
    """Usage of one command."""
    lines = "\n".join(f"• {line}" for line in entry.usage)
    text = f"*{entry.command}* — {entry.summary}\n{lines}"
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_overview(
    entries: Sequence[CommandHelp], note: str | None = None
) -> tuple[str, list[Block]]:
    """`/ops help`: every command in `entries`, in that order, with its usage."""
    blocks: list[Block] = [HeaderBlock(text="Opsloop commands")]
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    parts = []
    for entry in entries:
        text, entry_blocks = render_command_help(entry)
        parts.append(text)
        blocks.extend(entry_blocks)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Every command also answers `help`, e.g. `/feedback help`.")
            ]
        )
    )
    fallback = ("" if not note else note + "\n\n") + "Opsloop commands\n\n" + "\n\n".join(parts)
    return fallback, blocks
