"""`opsloop shell`: the local playground, with no Slack at all."""

from __future__ import annotations

from pathlib import Path

import click

from bot.deps import Deps
from bot.shell.repl import PLAYGROUND_TEAM, run_shell
from bot.wiring import import_playbook_at_start


def load_playbook_in_shell(deps: Deps) -> None:
    """Import OPSLOOP_PLAYBOOK for the playground team once the database is ready."""
    summary = import_playbook_at_start(deps, team_id=PLAYGROUND_TEAM)
    if summary is not None:
        click.echo(f"playbook {deps.settings.opsloop_playbook}: {summary.describe()}")


@click.command()
@click.option(
    "--database-url",
    default="sqlite:///opsloop-shell.db",
    show_default=True,
    help="Where the playground keeps its data.",
)
@click.option("--user", default="U0PLAYER", show_default=True, help="Your Slack user id here.")
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the KPI charts the bot uploads here (default: a new temporary folder).",
)
def shell(database_url: str, user: str, charts_dir: Path | None) -> None:
    """A local playground with no Slack: type /ops help and see what the bot would do."""
    run_shell(
        database_url=database_url,
        user_id=user,
        on_start=load_playbook_in_shell,
        charts_dir=charts_dir,
    )
