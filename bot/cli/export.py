"""`opsloop export <kind>`: every field of every record of one kind, as CSV or JSON."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Protocol

import click

from bot.checklists.export import export_checklists
from bot.cli.common import CliError, parse_moment, ready_deps
from bot.escalations.export import export_escalations
from bot.exports import Export, write_csv, write_json
from bot.feedback.export import export_feedback
from bot.kpis.export import export_kpis
from storage.db import SessionFactory


class Exporter(Protocol):
    """One kind's export: the records of `team_id` (None: every team) since `since`."""

    def __call__(
        self,
        sessions: SessionFactory,
        *,
        team_id: str | None,
        since: datetime | None,
        now: datetime,
    ) -> Export: ...


# Every kind `opsloop export` knows, in the order its help lists them.
EXPORTERS: Mapping[str, Exporter] = {
    "feedback": export_feedback,
    "escalations": export_escalations,
    "checklists": export_checklists,
    "kpis": export_kpis,
}


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
@click.option(
    "--include-deleted",
    is_flag=True,
    help="feedback: also the items deleted from Slack (with deleted_at and deleted_by).",
)
def export(
    kind: str,
    fmt: str,
    since: str | None,
    team: str | None,
    output: Path | None,
    include_deleted: bool,
) -> None:
    """Export every field of KIND (feedback, escalations, checklists, kpis) as CSV or JSON."""
    exporter = EXPORTERS.get(kind)
    if exporter is None:  # checked before the database is touched: a typo is a typo
        raise CliError(f"nothing to export called {kind!r}; choose one of: {', '.join(EXPORTERS)}")
    if include_deleted and kind != "feedback":
        raise CliError("--include-deleted is for feedback, the one kind that can be deleted")
    since_at = parse_moment(since, option="--since")
    deps = ready_deps()
    if include_deleted:
        data = export_feedback(
            deps.sessions, team_id=team, since=since_at, now=deps.clock(), include_deleted=True
        )
    else:
        data = exporter(deps.sessions, team_id=team, since=since_at, now=deps.clock())
    writer = write_csv if fmt == "csv" else write_json
    if output is None:
        count = writer(data, sys.stdout)
    else:
        # utf-8-sig for CSV: the byte-order mark makes spreadsheets read UTF-8, not Latin-1.
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        with output.open("w", encoding=encoding, newline="") as stream:
            count = writer(data, stream)
    click.echo(f"exported {count} {kind} record(s)", err=True)
