"""Checklist templates (versioned), runs started from them, and the runs' items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base
from storage.types import UTCDateTime


class ChecklistTemplate(Base):
    """One version of a template; a changed template gets a new row, old rows stay."""

    __tablename__ = "checklist_templates"
    __table_args__ = (UniqueConstraint("team_id", "name", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # [{title, owner, due_days, help_url}] exactly as validated by ChecklistItemSpec.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    fingerprint: Mapped[str] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChecklistRun(Base):
    """A checklist started in a channel: a snapshot of its template and its progress."""

    __tablename__ = "checklist_runs"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        Index("ix_checklist_runs_team_id_status", "team_id", "status"),
        # the digest reads runs week by week (storage.checklists.list_runs_touching)
        Index("ix_checklist_runs_team_id_started_at", "team_id", "started_at"),
        Index("ix_checklist_runs_team_id_completed_at", "team_id", "completed_at"),
        Index("ix_checklist_runs_team_id_cancelled_at", "team_id", "cancelled_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    # Random public id carried in the message's block ids (known before the post).
    key: Mapped[str] = mapped_column(String(32))
    template_id: Mapped[int] = mapped_column(ForeignKey("checklist_templates.id"))
    template_name: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    channel_id: Mapped[str] = mapped_column(String(32))
    # None until the outbox delivered the run's message (see storage.outbox)
    message_ts: Mapped[str | None] = mapped_column(String(32))
    started_by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="active")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    cancelled_by: Mapped[str | None] = mapped_column(String(32))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on every change, so a stale chat.update can be detected and redone.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="run", order_by="ChecklistItem.position", lazy="selectin"
    )


class ChecklistItem(Base):
    """One item of a run, with its resolved owner and due time, and who ticked it when."""

    __tablename__ = "checklist_items"
    __table_args__ = (
        UniqueConstraint("run_id", "position"),
        Index("ix_checklist_items_team_id_due_at", "team_id", "due_at"),
        # Open items by due time: overdue lookups skip the ever-growing done history.
        Index("ix_checklist_items_team_id_done_at_due_at", "team_id", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    run_id: Mapped[int] = mapped_column(ForeignKey("checklist_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    owner_spec: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    help_url: Mapped[str | None] = mapped_column(String(1000))
    done_by: Mapped[str | None] = mapped_column(String(32))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    run: Mapped[ChecklistRun] = relationship(back_populates="items")
