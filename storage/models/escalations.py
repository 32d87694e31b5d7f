"""Escalations, their timeline and the per-team severity SLAs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class Escalation(Base):
    """Something that went wrong for a customer: open → acknowledged → resolved (reopenable).

    `version` grows with every state change, so the Slack message can be re-rendered until
    what it shows is the newest state even when two people act at once.
    """

    __tablename__ = "escalations"
    # The digest and the KPIs read one week at a time: each time column they filter on is
    # indexed with team_id, so their cost follows the week's rows, not the table's.
    __table_args__ = (
        Index("ix_escalations_team_id_status", "team_id", "status"),
        Index("ix_escalations_team_id_created_at", "team_id", "created_at"),
        Index("ix_escalations_team_id_resolved_at", "team_id", "resolved_at"),
        Index("ix_escalations_team_id_ack_due_at", "team_id", "ack_due_at"),
        Index("ix_escalations_team_id_resolve_due_at", "team_id", "resolve_due_at"),
        # One modal submission (however often Slack or a double click repeats it) is one
        # escalation. NULL (escalations stored before keys) never conflicts.
        UniqueConstraint("team_id", "submission_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    customer: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(1000))
    owner_id: Mapped[str] = mapped_column(String(32))
    reporter_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolve_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    root_cause: Mapped[str | None] = mapped_column(Text)
    corrective_action: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(1000))
    submission_key: Mapped[str | None] = mapped_column(String(128))


class EscalationEvent(Base):
    """One line of an escalation's timeline: who did what, when."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SeveritySlaOverride(Base):
    """A team's own response-time promise for one severity (the defaults live in code)."""

    __tablename__ = "escalation_slas"
    __table_args__ = (UniqueConstraint("team_id", "severity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    ack_seconds: Mapped[int] = mapped_column(Integer)
    resolve_seconds: Mapped[int] = mapped_column(Integer)
