"""The checklist message in Slack, as the outbox sender renders it: always from the database
at the moment it is sent, so it shows the newest state however many ticks came first."""

from __future__ import annotations

from bot.checklists import render
from bot.checklists import service as checklists
from bot.deps import Deps
from bot.errors import NotFoundError
from bot.org import service as directory
from bot.slack.blocks import as_dicts
from bot.slack.sender import Rendered, Renderer


def _timezone(deps: Deps, team_id: str) -> str:
    return directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )


def run_renderer(deps: Deps) -> Renderer:
    """Subject `checklist:<run key>`: the run's channel message."""

    def render_run(team_id: str, run_key: str) -> Rendered:
        try:
            run = checklists.get_run(deps.sessions, team_id=team_id, run_key=run_key)
        except NotFoundError:
            return None
        text, blocks = render.run_message(run, now=deps.clock(), tz=_timezone(deps, team_id))
        return text, as_dicts(blocks)

    return render_run


def note_renderer(deps: Deps) -> Renderer:
    """Subject `checklist-note:<run key>:completed|reopened`: the note in its thread."""

    def render_note(team_id: str, ident: str) -> Rendered:
        run_key, _, what = ident.partition(":")
        try:
            run = checklists.get_run(deps.sessions, team_id=team_id, run_key=run_key)
        except NotFoundError:
            return None
        note = render.completion_note(run) if what == "completed" else render.reopened_note(run)
        return note, []

    return render_note
