"""The checklist message in Slack: rebuilt from the database after every change.

A tick updates the run's message in place (`chat.update`) and notes completion or reopening
in its thread.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.checklists import render
from bot.checklists import service as checklists
from bot.checklists.models import RunView, TickResult
from bot.deps import Deps
from bot.org import service as directory
from bot.slack.post import update_message, update_until_current

log = logging.getLogger(__name__)


def _timezone(deps: Deps, team_id: str) -> str:
    return directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )


def update_run_message(deps: Deps, client: WebClient, run: RunView) -> bool:
    """Rebuild the run's message from the database; False when Slack refused the update."""
    tz = _timezone(deps, run.team_id)

    def update(current: RunView) -> bool:
        text, blocks = render.run_message(current, now=deps.clock(), tz=tz)
        return update_message(
            client, channel=current.channel_id, ts=current.message_ts, text=text, blocks=blocks
        )

    def reload() -> RunView:
        return checklists.get_run(deps.sessions, team_id=run.team_id, run_key=run.key)

    return update_until_current(run, update=update, reload=reload, version=lambda r: r.revision)


def announce(deps: Deps, client: WebClient, result: TickResult) -> bool:
    """Update the message after a tick, and note completion or reopening in its thread."""
    updated = update_run_message(deps, client, result.run)
    note = None
    if result.completed:
        note = render.completion_note(result.run)
    elif result.reopened:
        note = render.reopened_note(result.run)
    if note:
        client.chat_postMessage(
            channel=result.run.channel_id, thread_ts=result.run.message_ts, text=note
        )
    return updated
