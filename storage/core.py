"""Query functions for people, processed events and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import AuditEntry, Person, ProcessedEvent
from storage.upsert import insert_if_absent


def claim_event(session: Session, *, team_id: str, event_id: str, now: datetime) -> bool:
    """Record an Events API delivery; False when it was already handled."""
    return insert_if_absent(
        session,
        ProcessedEvent.__table__,  # type: ignore[arg-type]
        {"team_id": team_id, "event_id": event_id, "received_at": now},
    )


def release_event(session: Session, *, team_id: str, event_id: str) -> None:
    """Forget a delivery whose handling failed, so Slack's retry of it is handled."""
    session.execute(
        delete(ProcessedEvent).where(
            ProcessedEvent.team_id == team_id, ProcessedEvent.event_id == event_id
        )
    )


def add_audit_entry(
    session: Session,
    *,
    team_id: str,
    actor_id: str,
    action: str,
    subject: str,
    at: datetime,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one line to the audit log."""
    entry = AuditEntry(
        team_id=team_id,
        actor_id=actor_id,
        action=action,
        subject=subject,
        at=at,
        detail=detail or {},
    )
    session.add(entry)
    return entry


def list_audit_entries(session: Session, *, team_id: str, limit: int = 50) -> list[AuditEntry]:
    """Newest audit entries first."""
    statement = (
        select(AuditEntry)
        .where(AuditEntry.team_id == team_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def get_person(session: Session, *, team_id: str, user_id: str) -> Person | None:
    """The cached profile of one Slack user, if known."""
    return session.scalar(
        select(Person).where(Person.team_id == team_id, Person.user_id == user_id)
    )


def upsert_person(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    display_name: str,
    timezone: str | None,
    is_deleted: bool,
    refreshed_at: datetime,
) -> Person:
    """Create or refresh the cached profile of a Slack user."""
    insert_if_absent(
        session,
        Person.__table__,  # type: ignore[arg-type]
        {"team_id": team_id, "user_id": user_id, "display_name": display_name, "is_deleted": False},
    )
    person = get_person(session, team_id=team_id, user_id=user_id)
    assert person is not None
    person.display_name = display_name
    person.timezone = timezone
    person.is_deleted = is_deleted
    person.refreshed_at = refreshed_at
    return person
