"""Subcommands contributed by capabilities (export, digest, nudge, playbook, …)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

import bot.checklist_export  # noqa: F401  (registers the `checklists` exporter)
from bot import (
    cli_playbook,
    escalations_export,  # noqa: F401  (registers the `escalations` exporter)
    feedback_export,  # noqa: F401  (registers the `feedback` exporter)
    kpi_export,  # noqa: F401  (registers the `kpis` exporter)
)
from bot.cli_schedule import register as register_schedule_commands
from bot.exporting import EXPORTERS, write_csv, write_json


def register(group: click.Group) -> None:
    """Add every capability's commands to the `opsloop` group."""
    group.add_command(export)
    cli_playbook.register(group)
    register_schedule_commands(group)


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date; use YYYY-MM-DD or an ISO timestamp", param_hint="--since"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.command()
@click.argument("kind")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--since", help="Only records created on or after this date (YYYY-MM-DD).")
@click.option("--team", help="Only this Slack team id (default: every team).")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def export(kind: str, fmt: str, since: str | None, team: str | None, output: Path | None) -> None:
    """Export every field of KIND (feedback, escalations, checklists, kpis) as CSV or JSON."""
    from bot.cli import CliError, settings_from_env
    from bot.runtime import make_deps, prepare_schema

    if kind not in EXPORTERS:
        known = ", ".join(sorted(EXPORTERS)) or "none yet"
        raise CliError(f"nothing to export called {kind!r}; choose one of: {known}")
    since_at = _parse_since(since)
    deps = make_deps(settings_from_env())
    prepare_schema(deps)
    data = EXPORTERS[kind](deps, team, since_at)
    writer = write_csv if fmt == "csv" else write_json
    if output is None:
        count = writer(data, sys.stdout)
    else:
        # utf-8-sig for CSV: the byte-order mark makes spreadsheets read UTF-8, not Latin-1.
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        with output.open("w", encoding=encoding, newline="") as stream:
            count = writer(data, stream)
    click.echo(f"exported {count} {kind} record(s)", err=True)
