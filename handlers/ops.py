"""`/ops`: help and the operation-wide subcommands (owners, status, previews)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.render.help import render_overview
from bot.render.text import escape, truncate
from handlers.context import deps_of
from handlers.errors import guarded
from handlers.replies import command_args, reply_ephemeral

OPS_COMMAND = "/ops"

OpsSubcommand = Callable[[Deps, str, dict[str, Any]], tuple[str, list[Block]]]

# Subcommand word → function(deps, rest_of_text, body) -> (text, blocks).
# Capabilities add theirs here (owners, owner, status, digest, nudge).
OPS_SUBCOMMANDS: dict[str, OpsSubcommand] = {}


def register(app: App) -> None:
    app.command(OPS_COMMAND)(guarded(handle_ops_command))


def handle_ops_command(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    word, rest = command_args(body.get("text"))
    subcommand = OPS_SUBCOMMANDS.get(word)
    if subcommand is None:
        note = None
        if word not in ("", "help"):
            typed = truncate(escape(body.get("text", "")), 100)
            note = f"I don't know `/ops {typed}`. Here is what I can do:"
        text, blocks = render_overview(note)
    else:
        text, blocks = subcommand(deps_of(context), rest, body)
    reply_ephemeral(respond, text, blocks)
