"""Scheduled posts: the send ledger, the scheduler lease and nudge snoozes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime

# Ledger states: a row is claimed before posting, then marked sent (with the Slack channel
# and ts) or failed. A failed row, or a claim left behind by a crash, can be claimed again.
SEND_CLAIMED = "claimed"
SEND_SENT = "sent"
SEND_FAILED = "failed"


class Send(Base):
    """One scheduled post (digest of a week, nudge of a day, …), unique per key."""

    __tablename__ = "sends"
    __table_args__ = (UniqueConstraint("team_id", "kind", "period", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


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
