"""The scheduler lease and nudge snoozes (scheduled posts themselves are in the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class SchedulerLease(Base):
    """Which scheduler process leads, until when. Process-wide, so it has no team_id."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NudgeSnooze(Base):
    """An overdue item its owner snoozed: nudges leave it out until `until`."""

    __tablename__ = "nudge_snoozes"
    __table_args__ = (UniqueConstraint("team_id", "item_key", "owner_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    item_key: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str] = mapped_column(String(32))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
