"""Query functions for scheduler leases: one leader at a time, taken over when it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from storage.models.sends import SchedulerLease
from storage.upsert import insert_if_absent

_EXPIRED = datetime(1970, 1, 1, tzinfo=UTC)


def claim_lease(session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `holder`; False while someone else holds it.

    Both paths are single atomic statements (INSERT … ON CONFLICT DO NOTHING, then a
    conditional UPDATE), so two schedulers racing for an expired lease cannot both win.
    """
    expires_at = now + ttl
    values = {"name": name, "holder": holder, "expires_at": expires_at}
    if insert_if_absent(session, SchedulerLease.__table__, values):  # type: ignore[arg-type]
        return True
    result = session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder == holder, SchedulerLease.expires_at <= now),
        )
        .values(holder=holder, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def release_lease(session: Session, *, name: str, holder: str) -> None:
    """Give the lease up at once (a clean shutdown), if `holder` has it."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(expires_at=_EXPIRED)
        .execution_options(synchronize_session=False)
    )


def get_lease(session: Session, *, name: str) -> SchedulerLease | None:
    """The lease row `name` (who holds it, until when), if anyone ever took it."""
    return session.get(SchedulerLease, name)
