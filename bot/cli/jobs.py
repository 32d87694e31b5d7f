"""`opsloop scheduler`, `opsloop digest`, `opsloop nudge`: the scheduled jobs from a shell."""

from __future__ import annotations

import signal
from datetime import datetime
from pathlib import Path

import click

from bot import periods
from bot.cli.common import CliError, parse_moment, print_blocks, reach_slack, ready_deps
from bot.deps import Deps
from bot.digest import service as digests
from bot.kpis.charts import alt_text, chart_filename
from bot.org import service as directory
from bot.org.service import list_scheduled_teams
from bot.outbox.models import Delivery
from bot.outbox.service import get_entry
from bot.wiring import make_sender
from schedules import digest_job, nudge_job
from schedules.runner import build_scheduler, stop

# How long `opsloop digest|nudge` wait for the outbox to deliver what they queued, and for
# a retry falling due (a Retry-After, the first backoffs); a later retry is left to the
# running sender or the next run, and the command says the post is still pending.
DELIVERY_WAIT_SECONDS = 60.0
RETRY_HORIZON_SECONDS = 5.0
_NOT_POSTED = (
    "{count} {what} could not be posted yet (Slack refused or did not answer; "
    "`opsloop outbox` shows why). A failed one is resent with `opsloop outbox resend ID`; "
    "a pending one goes out with the next run or the running sender"
)


def deliver(deps: Deps, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Send what the job queued (and anything else due) now; the state of each key."""
    sender = make_sender(deps)
    try:
        sender.drain(DELIVERY_WAIT_SECONDS, keys=keys, horizon=RETRY_HORIZON_SECONDS)
    finally:
        sender.stop()
    states = {}
    for team_id, key in keys:
        entry = get_entry(deps.sessions, team_id=team_id, key=key)
        states[(team_id, key)] = entry.state if entry is not None else "missing"
    return states


@click.command()
def scheduler() -> None:
    """Run the scheduler alone: SLA alerts, digests and nudges; one leader among processes."""
    deps = ready_deps(needs_token=True, service=True)
    running = build_scheduler(deps, blocking=True)
    sender = make_sender(deps)
    sender.start()

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
        sender.stop()


@click.command()
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: the week that just ended).")
@click.option("--team", help="Only this Slack team id (default: every team with settings).")
@click.option("--dry-run", is_flag=True, help="Print the digest instead of posting it.")
@click.option("--as-of", "as_of", help="Evaluate at this ISO time instead of now.")
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    help="With --dry-run: also draw the digest's charts as PNG files in this folder.",
)
def digest(
    week: str | None,
    team: str | None,
    dry_run: bool,
    as_of: str | None,
    charts_dir: Path | None,
) -> None:
    """Post (or print) the weekly review digest; a digest already posted is never repeated."""
    if charts_dir is not None and not dry_run:
        raise click.BadParameter(
            "draws the charts of a dry run; a posted digest uploads them to Slack",
            param_hint="--charts",
        )
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
    if not dry_run:
        reach_slack(deps)
    queued: list[tuple[str, str, str]] = []
    charts_keys: list[tuple[str, str]] = []
    for team_id in team_ids:
        tz = directory.team_timezone(deps.sessions, team_id=team_id, default=default_tz)
        team_week = week or digests.last_week(now, tz)
        if dry_run:
            text, blocks = digest_job.render_team_digest(
                deps, team_id=team_id, week=team_week, now=now
            )
            print_blocks(f"digest {team_week} · team {team_id}", text, blocks)
            if charts_dir is not None:
                folder = charts_dir / team_id if len(team_ids) > 1 else charts_dir
                _write_charts(deps, folder, team_id=team_id, week=team_week, now=now)
            continue
        schedule = digests.get_digest_schedule(
            deps.sessions, team_id=team_id, default_timezone=default_tz
        )
        if not schedule.channel:
            click.echo(f"team {team_id}: no digest channel set; skipped", err=True)
            continue
        digest_job.post_digest(
            deps, team_id=team_id, week=team_week, channel=schedule.channel, now=now
        )
        queued.append((team_id, digest_job.digest_key(team_week), schedule.channel))
        charts_keys.append((team_id, digest_job.charts_key(team_week)))
    if not queued:
        return
    # The digest, and its thread of charts when it has one (it waits for their uploads).
    charts = [
        (team_id, key)
        for team_id, key in charts_keys
        if get_entry(deps.sessions, team_id=team_id, key=key) is not None
    ]
    states = deliver(deps, [(team_id, key) for team_id, key, _ in queued] + charts)
    for team_id, key, channel in queued:
        click.echo(f"team {team_id}: {key} → {channel}: {states[(team_id, key)]}")
    for team_id, key in charts:
        click.echo(f"team {team_id}: {key} (its thread) → {states[(team_id, key)]}")
    failed = sum(state != Delivery.SENT for state in states.values())
    if failed:
        raise CliError(_NOT_POSTED.format(count=failed, what="digest(s)"))


def _write_charts(deps: Deps, folder: Path, *, team_id: str, week: str, now: datetime) -> None:
    """Draw the digest's charts into `folder` (one subfolder per team when there are
    several) and print each file's path with what it shows in words."""
    from bot.kpis.plot import render_png  # matplotlib: only when asked to draw

    built = digest_job.build_team_digest(deps, team_id=team_id, week=week, now=now)
    charts = digest_job.digest_charts(built)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot write charts to {folder}: {exc.strerror or exc}") from None
    if not charts:
        click.echo(f"team {team_id}: no KPIs, so no charts", err=True)
    for chart in charts:
        path = folder / chart_filename(chart)
        try:
            path.write_bytes(render_png(chart))
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
        click.echo(f"{path}  — {alt_text(chart)}")


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
        # Timezones from the people cache, else the team's: a dry run never asks Slack.
        due = nudge_job.due(deps, now=now, team_ids=team_ids, ask_slack=False)
        for item in due:
            text, blocks = nudge_job.render(item, now=now)
            print_blocks(f"{item.kind} → {item.user_id} ({item.period})", text, blocks)
        click.echo(f"{len(due)} nudge(s) due at {now.isoformat()}")
        return
    reach_slack(deps)
    results = nudge_job.run(deps, now=now, team_ids=team_ids)
    states = deliver(deps, [(r.team_id, r.key) for r in results]) if results else {}
    for result in results:
        state = states[(result.team_id, result.key)]
        click.echo(f"{result.kind} → {result.user_id} ({result.period}): {state}")
    click.echo(f"{len(results)} nudge(s) due at {now.isoformat()}")
    failed = sum(state != Delivery.SENT for state in states.values())
    if failed:
        raise CliError(_NOT_POSTED.format(count=failed, what="nudge(s)"))
