"""`opsloop outbox`: what is waiting to be sent to Slack, what failed, and what to do."""

from __future__ import annotations

import click

from bot.cli.common import CliError, ready_deps
from bot.outbox.models import Delivery, OutboxEntry
from bot.outbox.service import counts, list_entries, resend, skip

PREVIEW = 60


@click.group(invoke_without_command=True)
@click.option("--failed", "only_failed", is_flag=True, help="Only what was given up on.")
@click.option("--all", "show_all", is_flag=True, help="Also what was sent or skipped.")
@click.option("--team", help="Only this Slack team id.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@click.pass_context
def outbox(
    context: click.Context, only_failed: bool, show_all: bool, team: str | None, limit: int
) -> None:
    """Show the outbox: pending and failed Slack messages, newest first."""
    if context.invoked_subcommand is not None:
        return
    deps = ready_deps()
    states: tuple[Delivery, ...] = (Delivery.PENDING, Delivery.SENDING, Delivery.FAILED)
    if only_failed:
        states = (Delivery.FAILED,)
    elif show_all:
        states = ()
    entries = list_entries(deps.sessions, team_id=team, states=states, limit=limit)
    totals = counts(deps.sessions)
    summary = ", ".join(f"{totals.get(s, 0)} {s}" for s in Delivery)
    click.echo(f"outbox: {summary}")
    for entry in entries:
        click.echo(_line(entry))
    if not entries:
        click.echo("nothing to show")


def _line(entry: OutboxEntry) -> str:
    text = " ".join(entry.text.split())
    text = text if len(text) <= PREVIEW else text[: PREVIEW - 1] + "…"
    parts = [
        f"{entry.id:>6}",
        f"{entry.state:<8}",
        entry.team_id,
        entry.method,
        f"→ {entry.channel}",
        entry.key,
        f"attempts {entry.attempts}",
    ]
    if entry.unsure:
        parts.append("(outcome unknown: looked for in Slack before any repost)")
    if entry.next_attempt_at and entry.state == Delivery.PENDING:
        parts.append(f"next {entry.next_attempt_at.isoformat(timespec='seconds')}")
    if entry.error:
        parts.append(f"error {entry.error[:80]}")
    if text:
        parts.append(f"“{text}”")
    return "  ".join(parts)


@outbox.command("resend")
@click.argument("message_id", type=click.IntRange(1, 2**31 - 1))
def resend_command(message_id: int) -> None:
    """Send a failed (or skipped) message again, with fresh attempts."""
    deps = ready_deps()
    if not resend(deps.sessions, message_id=message_id):
        raise CliError(
            f"outbox item {message_id} is not failed or skipped (see `opsloop outbox --all`)"
        )
    click.echo(f"outbox item {message_id} is pending again; the running sender delivers it")


@outbox.command("skip")
@click.argument("message_id", type=click.IntRange(1, 2**31 - 1))
def skip_command(message_id: int) -> None:
    """Give up on a pending or failed message on purpose (it is kept, as skipped)."""
    deps = ready_deps()
    if not skip(deps.sessions, message_id=message_id):
        raise CliError(
            f"outbox item {message_id} is not pending or failed (see `opsloop outbox --all`)"
        )
    click.echo(f"outbox item {message_id} skipped; it will not be sent")
