"""`/ops nudge preview` and the *Done* / *Snooze 1 day* buttons of a nudge DM."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.capabilities import load_capabilities
from bot.deps import Deps
from bot.errors import UserError
from bot.render.nudges import DONE_ACTION, SNOOZE_ACTION, ItemRef, render_nudge
from bot.services import checklists, nudges
from bot.services.checklist_nudges import CHECKLIST_SOURCE
from handlers.checklists import announce
from handlers.context import deps_of, team_of, user_of
from handlers.errors import guarded
from handlers.ops import OPS_SUBCOMMANDS
from handlers.replies import as_dicts

USAGE = "/ops nudge preview"

# source → what to do in Slack after *Done* closed an item of that source (e.g. update the
# checklist message), given the deps, the client and what the source's done() returned.
AfterDone = Callable[[Deps, WebClient, Any], None]
AFTER_DONE: dict[str, AfterDone] = {}


def _after_checklist_done(deps: Deps, client: WebClient, result: Any) -> None:
    if isinstance(result, checklists.TickResult) and result.changed:
        announce(deps, client, result)


def register(app: App) -> None:
    load_capabilities()
    OPS_SUBCOMMANDS["nudge"] = ops_nudge
    AFTER_DONE[CHECKLIST_SOURCE] = _after_checklist_done
    # guarded: errors are answered inside the listener (see handlers.errors.guarded)
    app.action(DONE_ACTION)(guarded(handle_nudge_done))
    app.action(SNOOZE_ACTION)(guarded(handle_nudge_snooze))


def ops_nudge(deps: Deps, rest: str, body: dict[str, Any]) -> tuple[str, list[Block]]:
    """The caller's own nudge as it would be sent now, whatever the hour."""
    if rest.strip().lower() != "preview":
        raise UserError("Try `/ops nudge preview` to see your own overdue items.", example=USAGE)
    now = deps.clock()
    nudge = nudges.preview_nudge(
        deps.sessions,
        team_id=team_of(body),
        user_id=user_of(body),
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
    )
    return render_nudge(nudge, now=now, note="Preview of your nudge, only you see this.")


def _item_ref(body: dict[str, Any]) -> ItemRef:
    actions = body.get("actions") or [{}]
    try:
        return ItemRef.from_value(str(actions[0].get("value", "")))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError):
        raise UserError("That button is out of date; run `/ops nudge preview`.") from None


def _refresh(deps: Deps, body: dict[str, Any], respond: Respond, note: str) -> None:
    """Replace the nudge message with the owner's current list and what just happened."""
    now = deps.clock()
    nudge = nudges.preview_nudge(
        deps.sessions,
        team_id=team_of(body),
        user_id=user_of(body),
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
    )
    text, blocks = render_nudge(nudge, now=now, note=note)
    respond(text=text, blocks=as_dicts(blocks), replace_original=True)


def handle_nudge_done(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext, client: WebClient
) -> None:
    ack()
    deps = deps_of(context)
    ref = _item_ref(body)
    result = nudges.mark_item_done(
        deps.sessions,
        team_id=team_of(body),
        source=ref.source,
        item_id=ref.item_id,
        user_id=user_of(body),
        now=deps.clock(),
    )
    after = AFTER_DONE.get(ref.source)
    if after is not None:
        after(deps, client, result)
    _refresh(deps, body, respond, ":white_check_mark: Marked done.")


def handle_nudge_snooze(
    ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    ack()
    deps = deps_of(context)
    ref = _item_ref(body)
    until = nudges.snooze_item(
        deps.sessions,
        team_id=team_of(body),
        source=ref.source,
        item_id=ref.item_id,
        user_id=user_of(body),
        now=deps.clock(),
        default_timezone=deps.settings.opsloop_timezone,
    )
    stamp = int(until.timestamp())
    when = f"<!date^{stamp}^{{date_short_pretty}}|{until:%Y-%m-%d}>"
    _refresh(deps, body, respond, f":zzz: Snoozed: left out of nudges until {when}.")
