"""The escalation capability's records as KPI values (see `bot.services.kpi_compute`)."""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy.orm import Session

from bot.escalations.rows import clocks_of
from storage import checklists as checklist_store
from storage import escalations as store


def median_time_to_ack(
    session: Session, team_id: str, start: datetime, end: datetime
) -> float | None:
    """Median minutes from opening to acknowledging, for escalations opened in the period."""
    minutes = [
        (row.acknowledged_at - row.created_at).total_seconds() / 60
        for row in store.list_opened_between(session, team_id=team_id, start=start, end=end)
        if row.acknowledged_at is not None
    ]
    return statistics.median(minutes) if minutes else None


def median_time_to_resolve(
    session: Session, team_id: str, start: datetime, end: datetime
) -> float | None:
    """Median hours from opening to resolving, for escalations resolved in the period."""
    hours = [
        (row.resolved_at - row.created_at).total_seconds() / 3600
        for row in store.list_resolved_between(session, team_id=team_id, start=start, end=end)
        if row.resolved_at is not None
    ]
    return statistics.median(hours) if hours else None


def sla_breaches(session: Session, team_id: str, start: datetime, end: datetime) -> float | None:
    """SLA clocks (acknowledge or resolve) due in the period and missed, as of its end."""
    count = 0
    for row in store.list_due_between(session, team_id=team_id, start=start, end=end):
        count += sum(1 for c in clocks_of(row, end) if c.breached and start <= c.due_at < end)
    return float(count)


def overdue_items(session: Session, team_id: str, start: datetime, end: datetime) -> float | None:
    """Checklist items and escalation clocks still running past due at the period's end."""
    checklist_items = len(checklist_store.list_overdue_items(session, team_id=team_id, now=end))
    escalation_clocks = sum(
        1
        for row in store.list_unresolved_past_due(session, team_id=team_id, now=end)
        for clock in clocks_of(row, end)
        if clock.breached and clock.stopped_at is None
    )
    return float(checklist_items + escalation_clocks)
