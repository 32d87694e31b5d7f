"""`/ops`: help and the operation-wide subcommands — owners, status, digest and nudge previews.

`OPS_SUBCOMMANDS` is the whole command: each word with the function that answers it.
`COMMAND_HELP` is what `/ops help` lists, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot import periods
from bot.checklists.render import CHECKLIST_HELP
from bot.deps import Deps
from bot.digest import service as digests
from bot.digest.render import DIGEST_HELP, MAX_BLOCKS, render_digest
from bot.errors import UserError
from bot.escalations.render import ESCALATE_HELP
from bot.feedback.render import FEEDBACK_HELP
from bot.kpis.render import KPI_HELP
from bot.nudges import service as nudges
from bot.nudges.render import NUDGE_HELP, render_nudge
from bot.org import owners
from bot.org import service as directory
from bot.org.people import queue_stale_people
from bot.org.render import render_owner_changed, render_owners
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.help import CommandHelp, render_overview
from bot.slack.mrkdwn import channel_ref, escape, typed
from bot.slack.replies import answer, answer_body, command_args
from bot.status import service as status
from bot.status.render import render_status

log = logging.getLogger(__name__)

OPS_COMMAND = "/ops"
DIGEST_USAGE = "/ops digest preview [2026-W47]"
NUDGE_USAGE = "/ops nudge preview"

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

# Every command the app has, in the order `/ops help` lists them.
COMMAND_HELP: tuple[CommandHelp, ...] = (
    OPS_HELP,
    CHECKLIST_HELP,
    FEEDBACK_HELP,
    KPI_HELP,
    ESCALATE_HELP,
    DIGEST_HELP,
    NUDGE_HELP,
)

# Subcommands that show owners: their cached names are refreshed after the answer.
NAMES_OWNERS = frozenset({"owners", "owner", "status"})

# (deps, the text after the subcommand word, the request body) -> (text, blocks)
OpsSubcommand = Callable[[Deps, str, dict[str, Any]], tuple[str, list[Block]]]


def register(app: App) -> None:
    app.command(OPS_COMMAND)(guarded(handle_ops_command))


def unknown_command_answer(command: str) -> dict[str, Any]:
    """The answer to a slash command no listener handles (an app.yaml that declares a command
    this version does not have, a typo in the manifest): Opsloop's help, prefaced by what
    was typed, instead of Bolt's 404 (Slack's `dispatch_failed`)."""
    text, blocks = render_overview(
        COMMAND_HELP, f"Opsloop has no `{typed(command, 100)}` command. Here is what it can do:"
    )
    return answer_body(text, blocks)


def handle_ops_command(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Answered in the ack, after an owner change is stored."""
    word, rest = command_args(body.get("text"))
    subcommand = OPS_SUBCOMMANDS.get(word)
    if subcommand is None:
        note = None
        if word not in ("", "help"):
            shown = typed(body.get("text", ""), 100)
            note = f"I don't know `/ops {shown}`. Here is what I can do:"
        text, blocks = render_overview(COMMAND_HELP, note)
    else:
        text, blocks = subcommand(deps_of(context), rest, body)
    answer(ack, text, blocks)
    if word in NAMES_OWNERS:
        # Stale names are looked up by the outbox sender, never in a listener: what is
        # shown now comes from the cache (Slack renders the mentions anyway), and the next
        # answer has the fresh names and deactivations.
        deps, team_id = deps_of(context), team_of(body)
        try:
            owner_ids = owners.list_owner_ids(deps.sessions, team_id=team_id)
            queue_stale_people(deps.sessions, team_id=team_id, user_ids=owner_ids, now=deps.clock())
        except Exception:
            # The user has their answer; a failed refresh only leaves names as cached.
            log.exception("could not queue the refresh of cached people after /ops %s", word)


def ops_owners(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    team_id = team_of(body)
    return render_owners(owners.list_owners(deps.sessions, team_id=team_id))


def ops_owner(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    team_id = team_of(body)
    process, owner_id = owners.parse_owner_args(rest)
    change = owners.change_process_owner(
        deps.sessions,
        team_id=team_id,
        actor_id=user_of(body),
        process_ref=process,
        owner_id=owner_id,
        now=deps.clock(),
    )
    return render_owner_changed(change)


def ops_status(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    team_id = team_of(body)
    return render_status(status.operation_status(deps.sessions, team_id=team_id, now=deps.clock()))


def ops_digest(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    """Render the digest the channel would get, ephemerally."""
    words = rest.split()
    if not words or words[0].lower() != "preview" or len(words) > 2:
        raise UserError(
            "Try `/ops digest preview` to see last week's digest.", example=DIGEST_USAGE
        )
    team_id = team_of(body)
    now = deps.clock()
    default_tz = deps.settings.opsloop_timezone
    if len(words) == 2:
        try:
            week = periods.parse_week(words[1])
        except periods.WeekOutOfRangeError:
            raise UserError(
                f"`{escape(words[1][:20])}` is not a week Opsloop can show: use a year from"
                f" {periods.FIRST_YEAR} to {periods.LAST_YEAR}.",
                example="/ops digest preview 2026-W47",
            ) from None
        except ValueError:
            raise UserError(
                f"`{escape(words[1][:20])}` is not an ISO week.",
                example="/ops digest preview 2026-W47",
            ) from None
    else:
        tz = directory.team_timezone(deps.sessions, team_id=team_id, default=default_tz)
        week = digests.last_week(now, tz)
    digest = digests.build_digest(
        deps.sessions,
        sections=deps.digest_sections,
        nudge_sources=deps.nudge_sources,
        team_id=team_id,
        week=week,
        now=now,
        default_timezone=default_tz,
    )
    text, blocks = render_digest(digest, templates_dir=deps.settings.opsloop_templates_dir)
    where = f"{channel_ref(digest.channel)}" if digest.channel else "no digest channel set yet"
    note = f"Preview, only you see this. The digest goes to {where}."
    if len(blocks) < MAX_BLOCKS:
        blocks.insert(0, ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return f"{note}\n{text}", blocks


def ops_nudge(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    """The caller's own nudge as it would be sent now, whatever the hour."""
    if rest.strip().lower() != "preview":
        raise UserError(
            "Try `/ops nudge preview` to see your own overdue items.", example=NUDGE_USAGE
        )
    now = deps.clock()
    nudge = nudges.preview_nudge(
        deps.sessions,
        sources=deps.nudge_sources,
        team_id=team_of(body),
        user_id=user_of(body),
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
    )
    return render_nudge(nudge, now=now, note="Preview of your nudge, only you see this.")


OPS_SUBCOMMANDS: Mapping[str, OpsSubcommand] = {
    "owners": ops_owners,
    "owner": ops_owner,
    "status": ops_status,
    "digest": ops_digest,
    "nudge": ops_nudge,
}
