"""`opsloop playbook check|import|export`: the operating model as a YAML file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.deps import Deps

# The team `opsloop shell` plays in (bot/playground/shell.py drives the app as this team).
PLAYGROUND_TEAM = "T0PLAYGROUND"


def register(group: click.Group) -> None:
    from bot.playground.shell import STARTUP_HOOKS

    group.add_command(playbook)
    if load_playbook_in_shell not in STARTUP_HOOKS:
        STARTUP_HOOKS.append(load_playbook_in_shell)


def load_playbook_in_shell(deps: Deps) -> None:
    """`opsloop shell` startup hook: import OPSLOOP_PLAYBOOK for the playground team."""
    from bot.services.playbook import apply_playbook_at_start

    summary = apply_playbook_at_start(deps, team_id=PLAYGROUND_TEAM)
    if summary is not None:
        click.echo(f"playbook {deps.settings.opsloop_playbook}: {summary.describe()}")


@click.group()
def playbook() -> None:
    """Check, import and export the playbook (processes, owners, KPIs, schedules)."""


def _ready_deps() -> Deps:
    from bot.cli import CliError, friendly_errors, settings_from_env
    from bot.runtime import SchemaOutdatedError, make_deps, prepare_schema

    deps = friendly_errors(lambda: make_deps(settings_from_env()))()
    try:
        prepare_schema(deps)
    except SchemaOutdatedError as exc:
        raise CliError(str(exc)) from None
    return deps


def _resolve_team(deps: Deps, team: str | None) -> str:
    from bot.cli import CliError

    if team:
        return team
    if deps.settings.slack_bot_token is None:
        raise CliError(
            "which workspace? Pass --team T0123ABCD (your Slack team id) or set SLACK_BOT_TOKEN"
        )
    try:
        return str(deps.client.auth_test()["team_id"])
    except Exception as exc:  # any Slack or network failure
        raise CliError(f"could not ask Slack for the workspace id ({exc}); pass --team") from None


@playbook.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Validate FILE without touching the database."""
    from bot.cli import CliError
    from bot.services.playbook import load_playbook_file
    from bot.services.playbook_schema import PlaybookInvalidError

    try:
        parsed = load_playbook_file(file)
    except PlaybookInvalidError as exc:
        raise CliError(str(exc)) from None
    click.echo(
        f"{file}: ok — {len(parsed.processes)} process(es), {len(parsed.kpis)} KPI(s), "
        f"{len(parsed.checklists)} checklist template(s), {len(parsed.admins)} admin(s)"
    )


@playbook.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--team", help="Slack team id (default: the bot token's workspace).")
def import_(file: Path, team: str | None) -> None:
    """Validate FILE and write it into the database (idempotent)."""
    from bot.cli import CliError
    from bot.services.playbook import import_playbook, load_playbook_file
    from bot.services.playbook_schema import PlaybookInvalidError

    try:
        parsed = load_playbook_file(file)
    except PlaybookInvalidError as exc:
        raise CliError(str(exc)) from None
    deps = _ready_deps()
    team_id = _resolve_team(deps, team)
    summary = import_playbook(deps.sessions, team_id, parsed, deps.clock(), actor_id="cli")
    click.echo(f"imported {file}: {summary.describe()}")


@playbook.command("export")
@click.option("--team", help="Slack team id (default: the bot token's workspace).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export(team: str | None, output: Path | None) -> None:
    """Write the current processes, owners, KPIs and settings as playbook YAML."""
    from bot.services.playbook import export_playbook

    deps = _ready_deps()
    text = export_playbook(deps.sessions, team_id=_resolve_team(deps, team))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
