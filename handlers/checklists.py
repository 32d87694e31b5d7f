"""`/checklist` and the checklist message's checkboxes and menu."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.checklists import render
from bot.checklists import service as checklists
from bot.checklists.templates import list_templates
from bot.deps import Deps
from bot.errors import PermissionDeniedError, UserError
from bot.org import service as directory
from bot.slack.context import clicked_message, deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.help import render_command_help
from bot.slack.mrkdwn import escape, typed
from bot.slack.replies import answer, command_args

log = logging.getLogger(__name__)

CHECKLIST_COMMAND = "/checklist"


def register(app: App) -> None:
    # guarded: errors are answered inside the listener (see bot.slack.errors.guarded)
    app.command(CHECKLIST_COMMAND)(guarded(handle_checklist_command))
    app.action(render.TICK_ACTION)(guarded(handle_checklist_tick))
    app.action(render.MENU_ACTION)(guarded(handle_checklist_menu))


def _timezone(deps: Deps, team_id: str) -> str:
    return directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )


def handle_checklist_command(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Answered in the ack, after a started checklist (and its message) is stored."""
    deps = deps_of(context)
    team_id, user_id = team_of(body), user_of(body)
    word, rest = command_args(body.get("text"))
    if word in ("", "help"):
        text, blocks = render_command_help(render.CHECKLIST_HELP)
    elif word == "templates":
        text, blocks = render.templates_reply(list_templates(deps.sessions, team_id=team_id))
    elif word == "list":
        scope = rest.lower() or "all"
        if scope not in ("mine", "all"):
            raise UserError(
                f"`/checklist list` takes `mine` or `all`, not `{typed(rest, 50)}`.",
                example="/checklist list mine",
            )
        runs = checklists.list_active_runs(
            deps.sessions, team_id=team_id, user_id=user_id, mine_only=scope == "mine"
        )
        text, blocks = render.runs_reply(
            runs, now=deps.clock(), tz=_timezone(deps, team_id), mine_only=scope == "mine"
        )
    elif word == "start":
        text, blocks = _start(deps, body, rest, team_id=team_id, user_id=user_id), []
    else:
        shown = typed(body.get("text", ""), 100)
        text, blocks = render_command_help(render.CHECKLIST_HELP)
        text = f"I don't know `/checklist {shown}`.\n" + text
        blocks = []
    answer(ack, text, blocks)


def _start(deps: Deps, body: dict[str, Any], rest: str, *, team_id: str, user_id: str) -> str:
    template, _, subject = rest.partition(" ")
    if not template:
        names = [t.name for t in list_templates(deps.sessions, team_id=team_id)]
        known = ", ".join(f"`{escape(n)}`" for n in names) or "none yet"
        raise UserError(
            f"Say which template to start. Templates: {known}.",
            example=f"/checklist start {names[0] if names else 'customer-onboarding'} Acme",
        )
    run = checklists.start_checklist(
        deps.sessions,
        team_id=team_id,
        template_name=template,
        subject=subject,
        channel_id=str(body.get("channel_id", "")),
        user_id=user_id,
        now=deps.clock(),
        timezone=_timezone(deps, team_id),
    )
    return render.started_reply(run)


def _shown_positions(message: Any, block_id: str) -> frozenset[int] | None:
    """The group's ticked items in the message the user clicked (None when unknown)."""
    if not isinstance(message, dict):
        return None
    for block in message.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == block_id:
            for element in block.get("elements") or []:
                if isinstance(element, dict) and element.get("type") == "checkboxes":
                    values = [str(o.get("value", "")) for o in element.get("initial_options") or []]
                    return render.parse_positions(values)
    return None


def _refused() -> PermissionDeniedError:
    return PermissionDeniedError("That checklist action is not valid; nothing was changed.")


def handle_checklist_tick(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
) -> None:
    deps = deps_of(context)
    block_id = str(action.get("block_id", ""))
    ref = render.GroupRef.parse(block_id)
    selected = render.parse_positions(
        [str(o.get("value", "")) for o in action.get("selected_options") or []]
    )
    if ref is None or selected is None:
        raise _refused()
    channel_id, message_ts = clicked_message(body)
    result = checklists.apply_checkbox_state(
        deps.sessions,
        team_id=team_of(body),
        run_key=ref.run_key,
        group=ref.group,
        selected=selected,
        shown=_shown_positions(body.get("message"), block_id),
        channel_id=channel_id,
        message_ts=message_ts,
        user_id=user_of(body),
        now=deps.clock(),
    )
    ack()  # after the change (and its message refresh) is stored
    log.debug("checklist %s: %d item(s) changed", result.run.key, len(result.changed))


def handle_checklist_menu(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: BoltContext,
) -> None:
    deps = deps_of(context)
    choice = render.MenuChoice.parse(str((action.get("selected_option") or {}).get("value", "")))
    if choice is None:
        raise _refused()
    channel_id, message_ts = clicked_message(body)
    run = checklists.cancel_run(
        deps.sessions,
        team_id=team_of(body),
        run_key=choice.run_key,
        channel_id=channel_id,
        message_ts=message_ts,
        user_id=user_of(body),
        now=deps.clock(),
    )
    ack()
    log.debug("checklist %s cancelled", run.key)
