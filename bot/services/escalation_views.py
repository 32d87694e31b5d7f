"""What the escalation services return: plain frozen data built from stored rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.services.sla import SlaClock, evaluate_clock
from storage.escalations import RESOLVED
from storage.models.escalations import Escalation, EscalationEvent

Refusal = Literal["already_acknowledged", "already_resolved", "not_resolved", "same_owner"]


@dataclass(frozen=True)
class EscalationDraft:
    """What the reporter filled in (already validated by the caller)."""

    title: str
    severity: str
    owner_id: str
    customer: str = ""
    description: str = ""
    link: str | None = None


@dataclass(frozen=True)
class EscalationView:
    """An escalation as stored, with its two SLA clocks evaluated at `ack_clock.as_of`."""

    id: int
    team_id: str
    title: str
    customer: str
    severity: str
    description: str
    link: str | None
    owner_id: str
    reporter_id: str
    status: str
    version: int
    created_at: datetime
    ack_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    root_cause: str | None
    corrective_action: str | None
    channel_id: str | None
    message_ts: str | None
    permalink: str | None
    ack_clock: SlaClock
    resolve_clock: SlaClock

    @property
    def is_resolved(self) -> bool:
        return self.status == RESOLVED

    @property
    def breached(self) -> bool:
        return self.ack_clock.breached or self.resolve_clock.breached


@dataclass(frozen=True)
class TimelineEvent:
    """One change: who did what, when (detail: e.g. previous and new owner)."""

    escalation_id: int
    actor_id: str
    kind: str
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeOutcome:
    """The escalation after an attempted change; `event` None when nothing changed."""

    escalation: EscalationView
    event: TimelineEvent | None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class SlaBreach:
    """An SLA clock past its due time, for the digest and the nudges."""

    escalation_id: int
    title: str
    owner_id: str
    severity: str
    kind: Literal["ack", "resolve"]
    due_at: datetime
    stopped_at: datetime | None


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


def duration_seconds(delta: timedelta | None) -> int | None:
    """Whole seconds of a duration, for exports (None stays None)."""
    return None if delta is None else int(delta.total_seconds())
