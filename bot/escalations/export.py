"""`opsloop export escalations`: every field, the SLA clocks and how long each step took."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.escalations import service
from bot.escalations.models import EscalationView, duration_seconds
from bot.exports import Export
from storage.db import SessionFactory

COLUMNS = [
    "id",
    "team_id",
    "title",
    "customer",
    "severity",
    "status",
    "description",
    "link",
    "owner_id",
    "reporter_id",
    "created_at",
    "ack_due_at",
    "acknowledged_at",
    "acknowledged_by",
    "time_to_acknowledge_seconds",
    "ack_sla",
    "ack_breached",
    "resolve_due_at",
    "resolved_at",
    "resolved_by",
    "time_to_resolve_seconds",
    "resolve_sla",
    "resolve_breached",
    "breached",
    "root_cause",
    "corrective_action",
    "channel_id",
    "message_ts",
    "permalink",
]


def escalation_row(e: EscalationView) -> dict[str, Any]:
    """One export row; SLA states are as of the export time."""
    return {
        "id": e.id,
        "team_id": e.team_id,
        "title": e.title,
        "customer": e.customer,
        "severity": e.severity,
        "status": e.status,
        "description": e.description,
        "link": e.link,
        "owner_id": e.owner_id,
        "reporter_id": e.reporter_id,
        "created_at": e.created_at,
        "ack_due_at": e.ack_due_at,
        "acknowledged_at": e.acknowledged_at,
        "acknowledged_by": e.acknowledged_by,
        "time_to_acknowledge_seconds": duration_seconds(e.ack_clock.elapsed),
        "ack_sla": str(e.ack_clock.state),
        "ack_breached": e.ack_clock.breached,
        "resolve_due_at": e.resolve_due_at,
        "resolved_at": e.resolved_at,
        "resolved_by": e.resolved_by,
        "time_to_resolve_seconds": duration_seconds(e.resolve_clock.elapsed),
        "resolve_sla": str(e.resolve_clock.state),
        "resolve_breached": e.resolve_clock.breached,
        "breached": e.breached,
        "root_cause": e.root_cause,
        "corrective_action": e.corrective_action,
        "channel_id": e.channel_id,
        "message_ts": e.message_ts,
        "permalink": e.permalink,
    }


def export_escalations(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None, now: datetime
) -> Export:
    """Every escalation (of one team, or all) created on or after `since`."""
    rows = service.export_escalations(sessions, team_id=team_id, since=since, now=now)
    return Export(columns=COLUMNS, rows=[escalation_row(e) for e in rows])
