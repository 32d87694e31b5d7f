"""The digest's onboarding section: checklists started / completed, time to complete, stuck.

Counted as of the end of the digest's week. A run is *stuck* when it was active at the
week's end with an open item overdue by more than the team's nudge threshold
(`nudge.overdue_threshold_days`, default 3) — the same rule that makes the nudges tell the
process owner. "No tick for 7 days" is not used: a run waiting on a far-off item is fine.
The most overdue runs are named first, at most `LISTED_STUCK`.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from bot.services import directory, nudges
from bot.services.digest import DigestSection, register_digest_section
from storage import checklists as checklist_store
from storage import kpis as kpi_store
from storage.db import SessionFactory, transaction
from storage.models.checklists import ChecklistRun

ONBOARDING_SECTION = "onboarding"
EMPTY_TEXT = "No onboarding checklists this week"
LISTED_STUCK = 5
DAY = timedelta(days=1)


def _active_at(run: ChecklistRun, at: datetime) -> bool:
    if run.started_at >= at:
        return False
    ended = run.completed_at or run.cancelled_at
    return ended is None or ended >= at


def _overdue(run: ChecklistRun, at: datetime) -> timedelta:
    """How late the run's most overdue open item was at `at` (zero: none late)."""
    late = [
        at - item.due_at
        for item in run.items
        if item.due_at < at and (item.done_at is None or item.done_at >= at)
    ]
    return max(late, default=timedelta(0))


def onboarding_section(
    sessions: SessionFactory, team_id: str, week_start: datetime, week_end: datetime, now: datetime
) -> DigestSection:
    """Checklist runs started / completed in [week_start, week_end) and those stuck at its end."""
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    settings = nudges.get_nudge_settings(sessions, team_id=team_id, default_timezone=tz)
    with transaction(sessions) as session:
        runs = checklist_store.list_runs_touching(
            session, team_id=team_id, start=week_start, end=week_end
        )
        completed = kpi_store.count_completed_checklists(
            session, team_id=team_id, start=week_start, end=week_end
        )
        durations = kpi_store.list_completed_run_durations(
            session, team_id=team_id, start=week_start, end=week_end, template_like=""
        )
        started = sum(1 for r in runs if week_start <= r.started_at < week_end)
        stuck: list[tuple[timedelta, int, str]] = []
        for run in runs:
            late = _overdue(run, week_end) if _active_at(run, week_end) else timedelta(0)
            if late > settings.escalate_after:
                stuck.append((late, run.id, run.subject or run.title))
    if not started and not completed and not stuck:
        return DigestSection(ONBOARDING_SECTION, "Onboarding", empty_text=EMPTY_TEXT)
    stuck.sort(key=lambda s: (-s[0], s[1]))  # the most overdue first
    median = statistics.median(durations) / DAY.total_seconds() if durations else None
    facts = {
        "started": started,
        "completed": completed,
        "median_days_to_complete": None if median is None else round(median, 1),
        "stuck": [{"subject": name, "days": late.days} for late, _, name in stuck[:LISTED_STUCK]],
        "stuck_count": len(stuck),
    }
    return DigestSection(ONBOARDING_SECTION, "Onboarding", facts)


register_digest_section(ONBOARDING_SECTION, onboarding_section)
