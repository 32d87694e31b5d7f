"""`opsloop playbook check|import|export`: the operating model as a YAML file."""

from __future__ import annotations

from pathlib import Path

import click

from bot.cli.common import CliError, ready_deps
from bot.deps import Deps
from bot.playbook.service import (
    export_playbook,
    import_playbook,
    load_playbook_file,
    playbook_fingerprint,
)
from bot.wiring import resolve_playbook_owners


@click.group()
def playbook() -> None:
    """Check, import and export the playbook (processes, owners, KPIs, schedules)."""


def _resolve_team(deps: Deps, team: str | None) -> str:
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
    parsed = load_playbook_file(file)
    click.echo(
        f"{file}: ok — {len(parsed.processes)} process(es), {len(parsed.kpis)} KPI(s), "
        f"{len(parsed.checklists)} checklist template(s), {len(parsed.admins)} admin(s)"
    )


@playbook.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--team", help="Slack team id (default: the bot token's workspace).")
def import_(file: Path, team: str | None) -> None:
    """Validate FILE and merge it into the database (idempotent).

    Owners, targets and reviews changed in Slack since the last import are kept unless the
    file changed the same field; each such override is printed (and audited). Owners may
    be user ids or e-mail addresses (looked up in Slack; nothing is imported when one is
    unknown).
    """
    parsed = load_playbook_file(file)
    deps = ready_deps()
    team_id = _resolve_team(deps, team)
    resolved = resolve_playbook_owners(deps, parsed, source=str(file))
    summary = import_playbook(
        deps.sessions,
        team_id,
        resolved,
        deps.clock(),
        actor_id="cli",
        fingerprint=playbook_fingerprint(parsed),
    )
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
    deps = ready_deps()
    text = export_playbook(deps.sessions, team_id=_resolve_team(deps, team))
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
