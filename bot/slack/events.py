"""Deduplication of Events API deliveries across retries and replicas."""

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
