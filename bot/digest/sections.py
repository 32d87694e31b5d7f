"""The whole weekly review digest, in order: one provider per section.

Each provider computes its section of one team's week (`DigestWeek`) from the records of
its domain; `SECTIONS` is the digest, passed in through `Deps.digest_sections`. The
built-in templates in `bot/digest/templates/<key>.j2` render the facts listed in
`bot.digest.service`.

Everything is counted as of the end of the digest's week, or `now` for a running week
(`DigestWeek.as_of`): a digest posted late, or previewed later, still reports that week, and a
week still running counts nothing before it is due. The KPI section's computed values
(SLA breaches, overdue items) are read at the same moment, so they agree with the sections.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime, timedelta

from bot.digest.models import DigestSection
from bot.digest.service import DigestWeek, SectionProvider
from bot.escalations import kpis as escalation_kpis
from bot.escalations.rows import clocks_of
from bot.escalations.sla import SEVERITIES
from bot.feedback.models import FeedbackRecord
from bot.feedback.nps import is_detractor, summarize_scores
from bot.feedback.service import list_feedback_records
from bot.kpis import service as kpis
from bot.kpis.charts import CHART_PERIODS, Chart, overview_chart, trend_chart
from bot.kpis.models import kpi_status
from bot.nudges import service as nudges
from bot.org import service as directory
from bot.periods import week_of, zone
from storage import checklists as checklist_store
from storage import escalations as store
from storage import kpis as kpi_store
from storage.db import transaction
from storage.models.checklists import ChecklistRun

KPI_SECTION = "kpis"


def kpi_section(
    scope: DigestWeek,
) -> DigestSection:
    """Every KPI of the team for the digest's week and the week before."""
    tz = directory.team_timezone(scope.sessions, team_id=scope.team_id, default="UTC")
    # The middle of the digest's week names it in any timezone a few hours off.
    middle = scope.start + (scope.end - scope.start) / 2
    week = week_of(middle, zone(tz))
    # As many weeks as a trend chart shows; the lines compare the last two.
    reports = kpis.list_kpi_reports(
        scope.sessions,
        team_id=scope.team_id,
        now=middle,
        tz=tz,
        weeks=CHART_PERIODS,
        as_of=scope.now,
    )
    rows = []
    for report in reports:
        last, this = report.weeks[-2].value, report.weeks[-1].value
        info = report.kpi
        rows.append(
            {
                "name": info.name,
                "unit": info.unit,
                "this_week": this,
                "last_week": last,
                "target": info.target,
                "direction": info.direction,
                "status": kpi_status(this, info.target, info.direction).replace(" ", "_"),
                "owner_id": info.owner_id,
                "week": week,
                # a monthly KPI's values are this month's and last month's
                "last_label": f"last {info.period_word}",
            }
        )
    empty = None if rows else "No KPIs are set up yet: define them in the playbook."
    charts: tuple[Chart, ...] = ()
    if reports:
        charts = (
            overview_chart(reports, period=week),
            *(trend_chart(report, last=week) for report in reports),
        )
    return DigestSection(KPI_SECTION, "KPIs", {"kpis": rows}, empty, charts=charts)


FEEDBACK_SECTION = "feedback"
TOP_TAGS = 3
QUOTES = 3


def _nps(records: list[FeedbackRecord]) -> float | None:
    scores = Counter(r.nps_score for r in records if r.nps_score is not None)
    return summarize_scores(scores).score


def feedback_section(
    scope: DigestWeek,
) -> DigestSection:
    """Feedback logged in the week, NPS against the week before."""
    previous_start = scope.start - (scope.end - scope.start)
    records = list_feedback_records(scope.sessions, team_id=scope.team_id, since=previous_start)
    week = [r for r in records if scope.start <= r.created_at < scope.end]
    before = [r for r in records if previous_start <= r.created_at < scope.start]
    if not week:
        return DigestSection(FEEDBACK_SECTION, "Feedback", empty_text="No feedback this week")
    nps, previous_nps = _nps(week), _nps(before)
    tags = Counter(tag for r in week for tag in r.tags)
    # Lowest scores first: the quotes a product-ops lead most needs to read.
    detractors = sorted(
        (r for r in week if is_detractor(r.nps_score)), key=lambda r: r.nps_score or 0
    )
    facts = {
        "count": len(week),
        "nps": None if nps is None else round(nps),
        "nps_change": None if nps is None or previous_nps is None else round(nps - previous_nps),
        "top_tags": [{"tag": t, "count": c} for t, c in tags.most_common(TOP_TAGS)],
        "detractor_quotes": [
            {"text": r.text, "customer": r.customer or ""} for r in detractors[:QUOTES]
        ],
    }
    return DigestSection(FEEDBACK_SECTION, "Feedback", facts)


ESCALATION_SECTION = "escalations"
NO_ESCALATIONS = "No escalations this week"
# The missed clocks named in the section (the count covers them all).
LISTED_BREACHES = 5


def escalation_section(
    scope: DigestWeek,
) -> DigestSection:
    """Escalation activity in the week and what was still open at its end."""
    as_of = scope.as_of
    with transaction(scope.sessions) as session:
        opened = store.list_opened_between(
            session, team_id=scope.team_id, start=scope.start, end=as_of
        )
        resolved = store.list_resolved_between(
            session, team_id=scope.team_id, start=scope.start, end=as_of
        )
        still_open = store.list_open_at(session, team_id=scope.team_id, at=as_of)
        # Counted exactly as the `sla_breaches` KPI counts them (due and missed by `as_of`).
        missed = [
            {"id": row.id, "title": row.title, "severity": row.severity, "kind": clock.kind}
            for row in store.list_due_between(
                session, team_id=scope.team_id, start=scope.start, end=as_of
            )
            for clock in clocks_of(row, as_of)
            if clock.breached and scope.start <= clock.due_at < as_of
        ]
        median_ack = escalation_kpis.median_time_to_ack(
            session, scope.team_id, scope.start, scope.end
        )
    if not opened and not resolved and not still_open and not missed:
        return DigestSection(ESCALATION_SECTION, "Escalations", empty_text=NO_ESCALATIONS)
    counts = Counter(row.severity for row in still_open)
    order = [s for s in SEVERITIES if s in counts] + sorted(set(counts) - set(SEVERITIES))
    missed.sort(key=lambda b: (str(b["severity"]), int(b["id"]), str(b["kind"])))
    facts = {
        "opened": len(opened),
        "resolved": len(resolved),
        "open_by_severity": {severity: counts[severity] for severity in order},
        "sla_breaches": len(missed),
        "median_ack_minutes": median_ack,
        "breaches": missed[:LISTED_BREACHES],
    }
    return DigestSection(ESCALATION_SECTION, "Escalations", facts)


ONBOARDING_SECTION = "onboarding"
NO_ONBOARDING = "No onboarding checklists this week"
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
    scope: DigestWeek,
) -> DigestSection:
    """Checklist runs started / completed in the week and those stuck at its end."""
    tz = directory.team_timezone(scope.sessions, team_id=scope.team_id, default="UTC")
    settings = nudges.get_nudge_settings(scope.sessions, team_id=scope.team_id, default_timezone=tz)
    with transaction(scope.sessions) as session:
        runs = checklist_store.list_runs_touching(
            session, team_id=scope.team_id, start=scope.start, end=scope.end
        )
        completed = kpi_store.count_completed_checklists(
            session, team_id=scope.team_id, start=scope.start, end=scope.end
        )
        durations = kpi_store.list_completed_run_durations(
            session, team_id=scope.team_id, start=scope.start, end=scope.end, template_like=""
        )
        started = sum(1 for r in runs if scope.start <= r.started_at < scope.end)
        stuck: list[tuple[timedelta, int, str]] = []
        as_of = scope.as_of
        for run in runs:
            late = _overdue(run, as_of) if _active_at(run, as_of) else timedelta(0)
            if late > settings.escalate_after:
                stuck.append((late, run.id, run.subject or run.title))
    if not started and not completed and not stuck:
        return DigestSection(ONBOARDING_SECTION, "Onboarding", empty_text=NO_ONBOARDING)
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


ACCOUNTABILITY_SECTION = "accountability"


def accountability_section(
    scope: DigestWeek,
) -> DigestSection:
    """Who has how many overdue items as of the digest's moment, most first; checklist items
    whose role nobody holds are counted apart (the `overdue_items` KPI counts them too)."""
    counts = Counter(
        item.owner_id
        for item in nudges.list_overdue_items(
            scope.sessions, sources=scope.nudge_sources, team_id=scope.team_id, now=scope.as_of
        )
    )
    with transaction(scope.sessions) as session:
        unowned = sum(
            1
            for item in checklist_store.list_overdue_items(
                session, team_id=scope.team_id, now=scope.as_of
            )
            if not item.owner_id
        )
    rows = [{"owner_id": owner, "count": count} for owner, count in counts.most_common()]
    return DigestSection(
        key=ACCOUNTABILITY_SECTION,
        title="Accountability",
        facts={
            "overdue_by_owner": rows,
            "unowned": unowned,
            "total": sum(counts.values()) + unowned,
        },
        empty_text=None if rows or unowned else "Nothing overdue. Every owner is on time.",
    )


# The digest, in the order the weekly review reads it.
SECTIONS: tuple[SectionProvider, ...] = (
    SectionProvider(KPI_SECTION, "KPIs", kpi_section),
    SectionProvider(FEEDBACK_SECTION, "Feedback", feedback_section),
    SectionProvider(ESCALATION_SECTION, "Escalations", escalation_section),
    SectionProvider(ONBOARDING_SECTION, "Onboarding", onboarding_section),
    SectionProvider(ACCOUNTABILITY_SECTION, "Accountability", accountability_section),
)
