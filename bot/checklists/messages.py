"""The checklist message in Slack: rebuilt from the database after every change.

A tick updates the run's message in place (`chat.update`) and notes completion or reopening
in its thread.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.checklists import render
from bot.checklists import service as checklists
from bot.deps import Deps
from bot.org import service as directory
from bot.slack.replies import as_dicts

log = logging.getLogger(__name__)

# How often a message is re-rendered when the run changed while it was being updated.
MAX_REFRESHES = 5


def _timezone(deps: Deps, team_id: str) -> str:
    return directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )


def update_run_message(deps: Deps, client: WebClient, run: checklists.RunView) -> bool:
    """Rebuild the run's message from the database; False when Slack refused the update.

    After each update the run is read again: if it changed meanwhile (someone else ticked),
    the message is rebuilt once more, so the last update Slack applies is never stale.
    """
    tz = _timezone(deps, run.team_id)
    for _ in range(MAX_REFRESHES):
        text, blocks = render.run_message(run, now=deps.clock(), tz=tz)
        try:
            client.chat_update(
                channel=run.channel_id, ts=run.message_ts, text=text, blocks=as_dicts(blocks)
            )
        except SlackApiError as exc:
            log.warning("could not update checklist %s: %s", run.key, exc.response.get("error"))
            return False
        except OSError as exc:  # timed out or dropped; the tick itself is stored
            log.warning("could not update checklist %s: %r", run.key, exc)
            return False
        latest = checklists.get_run(deps.sessions, team_id=run.team_id, run_key=run.key)
        if latest.revision == run.revision:
            return True
        run = latest
    return True


def announce(deps: Deps, client: WebClient, result: checklists.TickResult) -> bool:
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
