"""The operating model: processes with exactly one owner, and the admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class Process(Base):
    """A core process (customer onboarding, escalation handling, …) and its one owner."""

    __tablename__ = "processes"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[str | None] = mapped_column(String(32))
    sop_url: Mapped[str | None] = mapped_column(String(1000))
    review_every_days: Mapped[int] = mapped_column(Integer, default=90)
    last_reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Admin(Base):
    """A Slack user allowed to change owners, targets and other people's records."""

    __tablename__ = "admins"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))


class TeamSetting(Base):
    """A per-team setting from the playbook or set from Slack (channels, timezone, …)."""

    __tablename__ = "team_settings"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)


class ProcessReview(Base):
    """One SOP review recorded from Slack: who reviewed which process, when, what changed."""

    __tablename__ = "process_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    process_key: Mapped[str] = mapped_column(String(64))
    reviewed_by: Mapped[str] = mapped_column(String(32))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")


class PlaybookImport(Base):
    """A playbook as it was imported (normalised JSON, owners resolved to user ids): the
    common ancestor the next import merges from, so changes made in Slack since are kept."""

    __tablename__ = "playbook_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[str] = mapped_column(String(32))
    snapshot: Mapped[str] = mapped_column(Text)
