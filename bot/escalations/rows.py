"""Stored escalation rows as the models the use cases return, with their SLA clocks at `now`."""

from __future__ import annotations

from datetime import datetime

from bot.escalations.models import EscalationView, SlaBreach, TimelineEvent
from bot.escalations.sla import SlaClock, evaluate_clock
from storage.escalations import RESOLVED
from storage.models.escalations import Escalation, EscalationEvent


def clocks_of(row: Escalation, now: datetime) -> tuple[SlaClock, SlaClock]:
    ack = evaluate_clock(
        "ack",
        started_at=row.created_at,
        due_at=row.ack_due_at,
        stopped_at=row.acknowledged_at,
        now=now,
    )
    resolve = evaluate_clock(
        "resolve",
        started_at=row.created_at,
        due_at=row.resolve_due_at,
        stopped_at=row.resolved_at,
        now=now,
    )
    return ack, resolve


def breach_of(row: Escalation, clock: SlaClock) -> SlaBreach:
    return SlaBreach(
        escalation_id=row.id,
        title=row.title,
        owner_id=row.owner_id,
        severity=row.severity,
        kind=clock.kind,
        due_at=clock.due_at,
        stopped_at=clock.stopped_at,
    )


def view_of(row: Escalation, now: datetime) -> EscalationView:
    ack, resolve = clocks_of(row, now)
    return EscalationView(
        id=row.id,
        team_id=row.team_id,
        title=row.title,
        customer=row.customer,
        severity=row.severity,
        description=row.description,
        link=row.link,
        owner_id=row.owner_id,
        reporter_id=row.reporter_id,
        status=row.status,
        is_resolved=row.status == RESOLVED,
        version=row.version,
        created_at=row.created_at,
        ack_due_at=row.ack_due_at,
        resolve_due_at=row.resolve_due_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        root_cause=row.root_cause,
        corrective_action=row.corrective_action,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        permalink=row.permalink,
        ack_clock=ack,
        resolve_clock=resolve,
    )


def event_of(event: EscalationEvent) -> TimelineEvent:
    return TimelineEvent(event.escalation_id, event.actor_id, event.kind, event.at, event.detail)
