"""Checklist messages, replies and the ids carried in their blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    CheckboxesElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from bot.checklists.models import CANCELLED, COMPLETED, ItemView, RunView, TemplateSummary
from bot.periods import duration_text, overdue_text
from bot.slack.help import CommandHelp
from bot.slack.limits import HEADER_TEXT_LIMIT, OPTION_TEXT_LIMIT
from bot.slack.mrkdwn import SECTION_TEXT_LIMIT, channel_ref, escape, link, truncate, user_ref

CHECKLIST_HELP = CommandHelp(
    "/checklist",
    "Run onboarding checklists in a channel: one checkbox per item, owners and due dates.",
    (
        "`/checklist start <template> [subject]` — post a checklist here, "
        "e.g. `/checklist start customer-onboarding Acme` (`/checklist templates` lists them)",
        "`/checklist list [mine|all]` — active checklists with progress and overdue items",
        "`/checklist templates` — the templates you can start",
        "`/checklist help` — this help",
    ),
)

TICK_ACTION = "checklist.tick"
MENU_ACTION = "checklist.menu"
CANCEL = "cancel"
_PREFIX = "cl"
MAX_LISTED_RUNS = 20


@dataclass(frozen=True)
class GroupRef:
    """Which run and which group of (up to 10) items a checkbox element shows."""

    run_key: str
    group: int

    def block_id(self) -> str:
        return f"{_PREFIX}:{self.run_key}:{self.group}"

    @classmethod
    def parse(cls, block_id: str) -> GroupRef | None:
        parts = block_id.split(":")
        if len(parts) != 3 or parts[0] != _PREFIX or not parts[2].isdigit():
            return None
        if not parts[1].isalnum() or len(parts[1]) > 32:
            return None
        return cls(parts[1], int(parts[2]))


@dataclass(frozen=True)
class MenuChoice:
    """An overflow menu choice: what to do with which run."""

    action: str
    run_key: str

    def value(self) -> str:
        return f"{self.action}:{self.run_key}"

    @classmethod
    def parse(cls, value: str) -> MenuChoice | None:
        action, _, key = value.partition(":")
        if action != CANCEL or not key.isalnum() or len(key) > 32:
            return None
        return cls(action, key)


def parse_positions(values: Sequence[str]) -> frozenset[int] | None:
    """Option values (item positions) as ints, or None when any is not one."""
    if not all(v.isdigit() and len(v) <= 4 for v in values):
        return None
    return frozenset(int(v) for v in values)


# -- formatting -----------------------------------------------------------------------------
def _local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


def due_text(item: ItemView, *, now: datetime, tz: str) -> str:
    """`due Fri 20 Nov (in 2 days)`, `(today)`, `(overdue 11 h)`, `(overdue 3 d)`."""
    due = _local(item.due_at, tz)
    absolute = due.strftime("%a %d %b")
    if item.done:
        return f"due {absolute}"
    days = (due.date() - _local(now, tz).date()).days
    if item.due_at < now:
        relative = overdue_text(item.due_at, now)
    elif days == 0:
        relative = "today"
    elif days == 1:
        relative = "tomorrow"
    else:
        relative = f"in {days} days"
    return f"due {absolute} ({relative})"


def owner_text(item: ItemView) -> str:
    if item.owner_id:
        return f"{user_ref(item.owner_id)}"
    return f"no owner ({escape(item.owner_spec)})"


def _fit(parts: list[str], limit: int = OPTION_TEXT_LIMIT) -> str:
    """Join parts with ` · `, dropping trailing parts (never cutting a mention) to fit."""
    while len(parts) > 1 and len(" · ".join(parts)) > limit:
        parts = parts[:-1]
    return truncate(" · ".join(parts), limit)


def _guides(links: list[str]) -> str:
    """`Guides: a · b`, as many whole links as fit in a context text (cutting one would show
    its markup)."""
    text = "Guides: " + links[0]
    for more in links[1:]:
        if len(text) + 3 + len(more) > SECTION_TEXT_LIMIT:
            break
        text += " · " + more
    return text


def _option(item: ItemView, *, now: datetime, tz: str) -> Option:
    if item.done and item.done_at is not None:
        done_at = _local(item.done_at, tz).strftime("%d %b %H:%M")
        parts = [
            f"✓ {user_ref(item.done_by)} {done_at}",
            owner_text(item),
            due_text(item, now=now, tz=tz),
        ]
    else:
        warn = ":warning: " if item.is_overdue(now) else ""
        parts = [owner_text(item), warn + due_text(item, now=now, tz=tz)]
    return Option(
        value=str(item.position),
        text=MarkdownTextObject(text=truncate(escape(item.title), OPTION_TEXT_LIMIT)),
        description=MarkdownTextObject(text=_fit(parts)),
    )


def _groups(run: RunView) -> list[list[ItemView]]:
    return [[item for item in run.items if item.group == g] for g in range(run.group_count)]


def progress_text(run: RunView) -> str:
    return f"{run.done_count}/{len(run.items)} done"


def run_message(run: RunView, *, now: datetime, tz: str) -> tuple[str, list[Block]]:
    """The checklist message in the channel, rebuilt from the run's stored state."""
    heading = truncate(run.heading, HEADER_TEXT_LIMIT)
    status = f"*{progress_text(run)}* · started by {user_ref(run.started_by)}"
    if run.status == COMPLETED and run.duration_seconds is not None:
        status = (
            f":white_check_mark: *Completed* in {duration_text(run.duration_seconds)} · " + status
        )
    elif run.status == CANCELLED:
        status = f":no_entry_sign: *Cancelled* by {user_ref(run.cancelled_by)} · " + status
    overdue = run.overdue(now) if run.status != CANCELLED else []
    if overdue:
        status += f" · :warning: {len(overdue)} overdue"
    menu = None
    if run.status != CANCELLED:
        menu = OverflowMenuElement(
            action_id=MENU_ACTION,
            confirm=ConfirmObject(
                title="Cancel checklist?",
                text="Nobody will be able to tick its items any more.",
                confirm="Cancel it",
                deny="Keep it",
            ),
            options=[
                Option(
                    value=MenuChoice(CANCEL, run.key).value(),
                    text=PlainTextObject(text="Cancel checklist"),
                )
            ],
        )
    blocks: list[Block] = [
        HeaderBlock(text=heading),
        SectionBlock(
            block_id=f"{_PREFIX}:{run.key}:status",
            text=MarkdownTextObject(text=status),
            accessory=menu,
        ),
    ]
    for index, group in enumerate(_groups(run)):
        if run.status == CANCELLED:
            lines = [f"{'✓' if i.done else '☐'} {truncate(escape(i.title), 200)}" for i in group]
            blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines))))
            continue
        options = [_option(item, now=now, tz=tz) for item in group]
        ticked = [opt for opt, item in zip(options, group, strict=True) if item.done]
        blocks.append(
            ActionsBlock(
                block_id=GroupRef(run.key, index).block_id(),
                elements=[
                    CheckboxesElement(
                        action_id=TICK_ACTION, options=options, initial_options=ticked or None
                    )
                ],
            )
        )
        links = [link(i.help_url, truncate(escape(i.title), 60)) for i in group if i.help_url]
        if links:
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_guides(links))]))
    version = f"template `{escape(run.template_name)}` v{run.template_version}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=version)]))
    # The fallback text is mrkdwn (and shown in notifications): escaped like the rest, and
    # cut after escaping, as a typed subject can be thousands of `&`s long.
    text = f"{truncate(escape(run.heading), SECTION_TEXT_LIMIT)}: {progress_text(run)}"
    return text, blocks


def completion_note(run: RunView) -> str:
    """The thread reply when the last item is ticked."""
    took = duration_text(run.duration_seconds or 0)
    return f":tada: *{escape(run.heading)}* is complete: all {len(run.items)} items done in {took}."


def reopened_note(run: RunView) -> str:
    return (
        f":leftwards_arrow_with_hook: *{escape(run.heading)}* was reopened ({progress_text(run)})."
    )


def started_reply(run: RunView) -> str:
    return f"Started *{escape(run.heading)}* here with {len(run.items)} items."


def templates_reply(templates: Sequence[TemplateSummary]) -> tuple[str, list[Block]]:
    """`/checklist templates`: what can be started, with item counts."""
    if not templates:
        text = (
            "There are no checklist templates yet. An Opsloop admin adds them in the "
            "playbook under `checklists:`."
        )
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    lines = []
    for t in templates:
        count = f"{t.item_count} item{'' if t.item_count == 1 else 's'}"
        line = f"• `{escape(t.name)}` — {escape(t.title)} ({count})"
        if t.description:
            line += f"\n   _{truncate(escape(t.description), 200)}_"
        lines.append(line)
    body = truncate("*Checklist templates*\n" + "\n".join(lines), SECTION_TEXT_LIMIT)
    hint = f"Start one with `/checklist start {escape(templates[0].name)} <subject>`."
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=body)),
        ContextBlock(elements=[MarkdownTextObject(text=hint)]),
    ]
    return body + "\n" + hint, blocks


def runs_reply(
    runs: Sequence[RunView], *, now: datetime, tz: str, mine_only: bool
) -> tuple[str, list[Block]]:
    """`/checklist list`: active runs with progress and their overdue items."""
    title = "Your active checklists" if mine_only else "Active checklists"
    if not runs:
        text = (
            "You have no active checklists." if mine_only else "There are no active checklists."
        ) + " Start one with `/checklist start <template> [subject]`."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    blocks: list[Block] = [HeaderBlock(text=title)]
    parts = [title]
    for run in runs[:MAX_LISTED_RUNS]:
        overdue = run.overdue(now)
        line = f"*{escape(run.heading)}* in {channel_ref(run.channel_id)} · `{progress_text(run)}`"
        if overdue:
            line += f" · :warning: {len(overdue)} overdue"
        for item in overdue[:5]:
            due = due_text(item, now=now, tz=tz)
            line += f"\n   • {truncate(escape(item.title), 100)} — {owner_text(item)}, {due}"
        if len(overdue) > 5:
            line += f"\n   • and {len(overdue) - 5} more overdue"
        line = truncate(line, SECTION_TEXT_LIMIT)
        parts.append(line)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    if len(runs) > MAX_LISTED_RUNS:
        more = f"…and {len(runs) - MAX_LISTED_RUNS} more."
        parts.append(more)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    return "\n".join(parts), blocks
