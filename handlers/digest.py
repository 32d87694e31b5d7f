"""`/ops digest preview`: the weekly review digest of last week, only for the caller."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.capabilities import load_capabilities
from bot.deps import Deps
from bot.errors import UserError
from bot.render.digest import MAX_BLOCKS, render_digest
from bot.render.text import escape
from bot.services import digest as digests
from bot.services import periods
from handlers.context import team_of
from handlers.ops import OPS_SUBCOMMANDS

USAGE = "/ops digest preview [2026-W47]"


def register(app: App) -> None:
    load_capabilities()
    OPS_SUBCOMMANDS["digest"] = ops_digest


def ops_digest(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    """Render the digest the channel would get, ephemerally."""
    words = rest.split()
    if not words or words[0].lower() != "preview" or len(words) > 2:
        raise UserError("Try `/ops digest preview` to see last week's digest.", example=USAGE)
    team_id = team_of(body)
    now = deps.clock()
    default_tz = deps.settings.opsloop_timezone
    if len(words) == 2:
        try:
            week = periods.parse_week(words[1])
        except ValueError:
            raise UserError(
                f"`{escape(words[1][:20])}` is not an ISO week.",
                example="/ops digest preview 2026-W47",
            ) from None
    else:
        tz = digests.team_timezone(deps.sessions, team_id=team_id, default_timezone=default_tz)
        week = digests.last_week(now, tz)
    digest = digests.build_digest(
        deps.sessions, team_id=team_id, week=week, now=now, default_timezone=default_tz
    )
    text, blocks = render_digest(digest, templates_dir=deps.settings.opsloop_templates_dir)
    where = f"<#{digest.channel}>" if digest.channel else "no digest channel set yet"
    note = f"Preview, only you see this. The digest goes to {where}."
    if len(blocks) < MAX_BLOCKS:
        blocks.insert(0, ContextBlock(elements=[MarkdownTextObject(text=note)]))
    return f"{note}\n{text}", blocks
