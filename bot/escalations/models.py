"""What the escalation services return: plain frozen data built from stored rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.escalations.sla import SlaClock

Refusal = Literal[
    "already_acknowledged", "already_resolved", "not_resolved", "same_owner", "same_severity"
]


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
    is_resolved: bool

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


def duration_seconds(delta: timedelta | None) -> int | None:
    """Whole seconds of a duration, for exports (None stays None)."""
    return None if delta is None else int(delta.total_seconds())


# What a new escalation's fields may hold (the modal's max_length and the service's checks).
TITLE_LIMIT = 150
CUSTOMER_LIMIT = 200
LINK_LIMIT = 1000
