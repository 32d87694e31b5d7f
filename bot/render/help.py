"""The help every command answers with. One entry per command the app registers."""

from __future__ import annotations

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


OPS_HELP = CommandHelp(
    "/ops",
    "Run the operation: help, owners, status, digest and nudge previews.",
    (
        "`/ops help` — this overview",
        "`/ops owners` — who owns each process; processes without an owner are flagged",
        "`/ops owner <process> @someone` — change a process owner (admins)",
        "`/ops status` — what is missing: owners, KPI data, SOP reviews",
    ),
)

# Each capability adds its entry here; `/ops help` lists them in this order.
ALL_COMMANDS: list[CommandHelp] = [OPS_HELP]

CHECKLIST_HELP = CommandHelp(
    "/checklist",
    "Run onboarding checklists in a channel: one checkbox per item, owners and due dates.",
    (
        "`/checklist start <template> [subject]` — post a checklist here, "
        "e.g. `/checklist start onboarding Acme`",
        "`/checklist list [mine|all]` — active checklists with progress and overdue items",
        "`/checklist templates` — the templates you can start",
        "`/checklist help` — this help",
    ),
)
ALL_COMMANDS.append(CHECKLIST_HELP)

FEEDBACK_HELP = CommandHelp(
    "/feedback",
    "Log customer feedback with tags and an NPS score, and see NPS.",
    (
        "`/feedback Acme: CSV export times out #reporting nps:6` — log it at once: an "
        "optional `Customer:` first, `#tags` anywhere, `nps:0` to `nps:10` (optional)",
        "`/feedback` — open the form (customer, NPS, tags, source)",
        "`/feedback nps` — NPS of the last 30 days; also `nps 7d` or `nps 90d`",
        "`/feedback recent` — the last 10 items; `recent #billing` or `recent Acme` to filter",
        "Message menu (⋯) → *Log as feedback* — capture a customer's message with its link",
        "`/feedback help` — this help",
    ),
)
ALL_COMMANDS.append(FEEDBACK_HELP)

KPI_HELP = CommandHelp(
    "/kpi",
    "Log and review the team's KPIs against their targets.",
    (
        "`/kpi log <kpi> <value> [note]` — log this week's value (KPI owner or admins), "
        "e.g. `/kpi log activation 27% after pricing change`",
        "`/kpi show <kpi>` — the last 8 weeks, the target and the status",
        "`/kpi list` — every KPI with its current value and status",
        "`/kpi target <kpi> <value>` — change a target (admins)",
    ),
)
ALL_COMMANDS.append(KPI_HELP)


def render_command_help(entry: CommandHelp) -> tuple[str, list[Block]]:
    """Usage of one command."""
    lines = "\n".join(f"• {line}" for line in entry.usage)
    text = f"*{entry.command}* — {entry.summary}\n{lines}"
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def render_overview(note: str | None = None) -> tuple[str, list[Block]]:
    """`/ops help`: every command the bot has, with its usage."""
    blocks: list[Block] = [HeaderBlock(text="Opsloop commands")]
    if note:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    parts = []
    for entry in ALL_COMMANDS:
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


ESCALATE_HELP = CommandHelp(
    "/escalate",
    "Raise an escalation with an owner and SLA clocks; acknowledge, reassign and resolve it "
    "from its message.",
    (
        "`/escalate` — open the form (title, customer, severity, description, owner, link)",
        "`/escalate <title>` — the same form with the title filled in",
        "`/escalate list [open|mine|all]` — open escalations, yours, or every recent one",
        "`/escalate help` — this help",
    ),
)
ALL_COMMANDS.append(ESCALATE_HELP)
ALL_COMMANDS.append(
    CommandHelp(
        "/ops digest",
        "The weekly review digest (posted to the digest channel every week).",
        (
            "`/ops digest preview` — last week's digest, only for you",
            "`/ops digest preview 2026-W47` — the digest of another week",
        ),
    )
)
ALL_COMMANDS.append(
    CommandHelp(
        "/ops nudge",
        "Overdue nudges (a DM each weekday morning, in your own timezone).",
        ("`/ops nudge preview` — your own overdue items, with Done / Snooze buttons",),
    )
)
