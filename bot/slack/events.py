"""Deduplication of Events API deliveries across retries and replicas.

A delivery is claimed (a unique row) before its listener runs, so a redelivery to another
replica is dropped; if the listener then fails, the claim is released, so Slack's retry of
that event is handled instead of dropped.
"""

from __future__ import annotations

from datetime import datetime

from storage import core
from storage.db import SessionFactory, transaction


def claim_event_delivery(
    sessions: SessionFactory, *, team_id: str, event_id: str, now: datetime
) -> bool:
    """True the first time an event id is seen for a team; False for Slack's redeliveries."""
    with transaction(sessions) as session:
        return core.claim_event(session, team_id=team_id, event_id=event_id, now=now)


def release_event_delivery(sessions: SessionFactory, *, team_id: str, event_id: str) -> None:
    """Undo `claim_event_delivery` after the handling failed."""
    with transaction(sessions) as session:
        core.release_event(session, team_id=team_id, event_id=event_id)
