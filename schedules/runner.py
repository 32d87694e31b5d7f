"""The scheduler: one tick job that runs what is due, led by one process at a time.

APScheduler is configured so its defaults cannot bite: UTC, coalesce, one instance, an
hour of misfire grace, and an in-memory job store per process (a shared job store runs
jobs twice). The tick also runs once at start, so anything missed while down is made up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.deps import Deps
from bot.escalations.breaches import SlaAlert
from bot.nudges.service import forget_expired_snoozes
from bot.org.service import list_scheduled_teams
from bot.outbox.models import Queued
from schedules import digest_job, nudge_job, review_job, sla_job
from schedules.leader import Leader

log = logging.getLogger(__name__)

# Every minute: an SLA breach is shown and announced within a minute of its deadline.
TICK_MINUTES = 1
TICK_JOB_ID = "opsloop-tick"
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


@dataclass(frozen=True)
class TickReport:
    """What one tick did; `led` is False when another scheduler holds the lease."""

    led: bool
    digests: list[digest_job.DigestResult] = field(default_factory=list)
    nudges: list[nudge_job.NudgeResult] = field(default_factory=list)
    review_reminders: list[review_job.ReminderResult] = field(default_factory=list)
    sla_alerts: list[SlaAlert] = field(default_factory=list)


def run_once(deps: Deps, now: datetime, *, leader: Leader | None = None) -> TickReport:
    """One tick: if leading (or no leader is used), queue every SLA alert, digest and nudge
    due at `now`.

    A failure in one job is logged and does not stop the other; what was queued is in the
    outbox (delivered by the sender), and a job that failed runs again at the next tick.
    """
    if leader is not None and not leader.acquire(now):
        return TickReport(led=False)
    team_ids = list_scheduled_teams(deps.sessions)
    digests: list[digest_job.DigestResult] = []
    nudges: list[nudge_job.NudgeResult] = []
    sla_alerts: list[SlaAlert] = []
    try:
        # First: the one job whose promise is counted in minutes.
        sla_alerts = sla_job.run(deps, now=now, team_ids=team_ids)
    except Exception:
        log.exception("the SLA job failed; it runs again at the next tick")
    try:
        digests = digest_job.run(deps, now=now, team_ids=team_ids)
    except Exception:
        log.exception("the digest job failed; it runs again at the next tick")
    try:
        nudges = nudge_job.run(deps, now=now, team_ids=team_ids)
    except Exception:
        log.exception("the nudge job failed; it runs again at the next tick")
    reminders: list[review_job.ReminderResult] = []
    try:
        reminders = review_job.run(deps, now=now, team_ids=team_ids)
    except Exception:
        log.exception("the SOP review reminder job failed; it runs again at the next tick")
    try:
        # Housekeeping: a run-out snooze hides nothing any more, so its row can go.
        forget_expired_snoozes(deps.sessions, now=now)
    except Exception:
        log.exception("could not delete expired snoozes; tried again at the next tick")
    return TickReport(
        led=True,
        digests=digests,
        nudges=nudges,
        review_reminders=reminders,
        sla_alerts=sla_alerts,
    )


def build_scheduler(
    deps: Deps,
    *,
    blocking: bool = False,
    leader: Leader | None = None,
    tick_minutes: int = TICK_MINUTES,
) -> Any:
    """A Background- (or Blocking-) Scheduler with the tick job, first run at start."""
    leader = leader or Leader(deps.sessions)
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(
        timezone=UTC,
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=dict(JOB_DEFAULTS),
    )

    def tick() -> None:
        report = run_once(deps, deps.clock(), leader=leader)
        if report.led:
            outcomes = [r.outcome for r in report.digests] + [r.outcome for r in report.nudges]
            outcomes += [r.outcome for r in report.review_reminders]
            log.debug("tick: %d post(s) queued", outcomes.count(Queued.QUEUED))

    scheduler.add_job(
        tick,
        IntervalTrigger(minutes=tick_minutes, timezone=UTC),
        id=TICK_JOB_ID,
        name="opsloop tick (SLA clocks, digests, nudges)",
        next_run_time=datetime.now(UTC),
        replace_existing=True,
    )
    # A clean shutdown hands the lead over at once instead of after the lease runs out.
    scheduler.add_listener(lambda _event: leader.release(), EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


def start_background(deps: Deps) -> Any:
    """Start the scheduler in background threads (for `opsloop run` / `serve`)."""
    scheduler = build_scheduler(deps)
    scheduler.start()
    log.info("scheduler started (tick every %d minutes)", TICK_MINUTES)
    return scheduler


def stop(scheduler: Any) -> None:
    """Stop the scheduler; its lease is released so another process can lead at once."""
    if scheduler.running:
        scheduler.shutdown(wait=True)
