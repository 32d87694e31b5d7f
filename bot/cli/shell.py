"""`opsloop shell`: the local playground, with no Slack at all."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import settings_from_env
from bot.shell.example import example_playbook_path
from bot.shell.repl import run_shell


@click.command()
@click.option(
    "--database-url",
    default="sqlite:///opsloop-shell.db",
    show_default=True,
    help="Where the playground keeps its data.",
)
@click.option("--user", default="U0PLAYER", show_default=True, help="Your Slack user id here.")
@click.option(
    "--empty",
    is_flag=True,
    help="Start without a playbook (default: OPSLOOP_PLAYBOOK, else the example team's).",
)
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the KPI charts the bot uploads here (default: a new temporary folder).",
)
def shell(database_url: str, user: str, empty: bool, charts_dir: Path | None) -> None:
    """A local playground with no Slack: type /ops help and see what the bot would do.

    It opens on the example team (the packaged playbook.example.yaml: processes, KPIs, a
    customer-onboarding checklist and their people, @dana and co.) unless OPSLOOP_PLAYBOOK
    names another playbook or --empty is given.
    """
    settings = settings_from_env()
    playbook = None if empty else settings.opsloop_playbook or example_playbook_path()
    run_shell(database_url=database_url, user_id=user, playbook=playbook, charts_dir=charts_dir)
