"""`opsloop scheduler`, `opsloop digest`, `opsloop nudge`: the scheduled jobs from a shell."""

from __future__ import annotations

import signal

import click

from bot import periods
from bot.cli.common import CliError, parse_moment, print_blocks, ready_deps
from bot.digest import service as digests
from bot.org import service as directory
from bot.org.service import list_scheduled_teams
from bot.slack.ledger import Outcome
from schedules import digest_job, nudge_job
from schedules.runner import build_scheduler, stop

# A post Slack did not accept or answer stays in the send ledger and is retried.
_NOT_POSTED = (
    "{count} {what} could not be posted (Slack refused or did not answer; the log says "
    "why); the next run or scheduler tick tries again"
)


@click.command()
def scheduler() -> None:
    """Run the scheduler alone: digests and nudges, one leader among several processes."""
    deps = ready_deps(needs_token=True)
    running = build_scheduler(deps, blocking=True)

    def _terminate(signum: int, frame: object) -> None:
        raise SystemExit(0)

    # `docker stop` / systemd send SIGTERM: stop cleanly so the lease is handed over.
    signal.signal(signal.SIGTERM, _terminate)
    click.echo("scheduler running (Ctrl-C to stop)", err=True)
    try:
        running.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        stop(running)


@click.command()
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: the week that just ended).")
@click.option("--team", help="Only this Slack team id (default: every team with settings).")
@click.option("--dry-run", is_flag=True, help="Print the digest instead of posting it.")
@click.option("--as-of", "as_of", help="Evaluate at this ISO time instead of now.")
def digest(week: str | None, team: str | None, dry_run: bool, as_of: str | None) -> None:
    """Post (or print) the weekly review digest; a digest already posted is never repeated."""
    if week is not None:
        try:
            week = periods.parse_week(week)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--week") from None
    moment = parse_moment(as_of, option="--as-of")
    deps = ready_deps(needs_token=not dry_run)
    now = moment or deps.clock()
    default_tz = deps.settings.opsloop_timezone
    team_ids = [team] if team else list_scheduled_teams(deps.sessions)
    if not team_ids:
        raise CliError("no team has settings yet; import a playbook first (opsloop playbook)")
    failed = 0
    for team_id in team_ids:
        tz = directory.team_timezone(deps.sessions, team_id=team_id, default=default_tz)
        team_week = week or digests.last_week(now, tz)
        if dry_run:
            text, blocks = digest_job.render_team_digest(
                deps, team_id=team_id, week=team_week, now=now
            )
            print_blocks(f"digest {team_week} · team {team_id}", text, blocks)
            continue
        schedule = digests.get_digest_schedule(
            deps.sessions, team_id=team_id, default_timezone=default_tz
        )
        if not schedule.channel:
            click.echo(f"team {team_id}: no digest channel set; skipped", err=True)
            continue
        outcome = digest_job.post_digest(
            deps, team_id=team_id, week=team_week, channel=schedule.channel, now=now
        )
        click.echo(f"team {team_id}: digest {team_week} → {schedule.channel}: {outcome.value}")
        failed += outcome is Outcome.FAILED
    if failed:
        raise CliError(_NOT_POSTED.format(count=failed, what="digest(s)"))


@click.command()
@click.option("--as-of", "as_of", help="Evaluate at this ISO time instead of now.")
@click.option("--team", help="Only this Slack team id (default: every team with settings).")
@click.option("--dry-run", is_flag=True, help="Print the nudges instead of sending them.")
def nudge(as_of: str | None, team: str | None, dry_run: bool) -> None:
    """Send (or print) the nudges due now: each owner at most once per local day."""
    moment = parse_moment(as_of, option="--as-of")
    deps = ready_deps(needs_token=not dry_run)
    now = moment or deps.clock()
    team_ids = [team] if team else list_scheduled_teams(deps.sessions)
    if dry_run:
        due = nudge_job.due(deps, now=now, team_ids=team_ids)
        for item in due:
            text, blocks = nudge_job.render(item, now=now)
            print_blocks(f"{item.kind} → {item.user_id} ({item.period})", text, blocks)
        click.echo(f"{len(due)} nudge(s) due at {now.isoformat()}")
        return
    results = nudge_job.run(deps, now=now, team_ids=team_ids)
    for result in results:
        click.echo(f"{result.kind} → {result.user_id} ({result.period}): {result.outcome.value}")
    click.echo(f"{len(results)} nudge(s) due at {now.isoformat()}")
    failed = sum(result.outcome is Outcome.FAILED for result in results)
    if failed:
        raise CliError(_NOT_POSTED.format(count=failed, what="nudge(s)"))
