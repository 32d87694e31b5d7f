"""Customer feedback: the text as given, who/where it came from, tags and an NPS score."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
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


class Feedback(Base):
    """One piece of customer feedback. `text` and `customer` are stored exactly as typed."""

    __tablename__ = "feedback"
    __table_args__ = (
        # One modal submission (however often Slack or the user repeats it) is one row.
        UniqueConstraint("team_id", "submission_key"),
        CheckConstraint("nps_score IS NULL OR (nps_score >= 0 AND nps_score <= 10)", "nps_range"),
        CheckConstraint("status IN ('new', 'triaged', 'closed')", "status_known"),
        Index("ix_feedback_team_id_created_at", "team_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    submission_key: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    customer: Mapped[str | None] = mapped_column(String(255))
    # casefolded customer, for case-insensitive search on every backend
    customer_key: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(32))
    nps_score: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="new")
    reporter_id: Mapped[str] = mapped_column(String(32))
    # set when captured from a Slack message ("Log as feedback")
    author_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(1000))
    # set when captured by a reaction: who reacted, and their workspace when it is a
    # Slack Connect partner's (the reporter of record is then the message's author)
    captured_by_id: Mapped[str | None] = mapped_column(String(32))
    captured_by_team_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Triage: who is looking into it, the escalation it became (an id; the escalations
    # domain shows the link through a query on this column), and a soft delete.
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    escalation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_by: Mapped[str | None] = mapped_column(String(32))

    tags: Mapped[list[FeedbackTag]] = relationship(
        back_populates="feedback",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="FeedbackTag.id",
    )
    status_changes: Mapped[list[FeedbackStatusChange]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="[FeedbackStatusChange.at, FeedbackStatusChange.id]",
    )


class FeedbackTag(Base):
    """A normalised (lower-case) tag of one feedback item; a row each so tags are queryable."""

    __tablename__ = "feedback_tags"
    __table_args__ = (
        UniqueConstraint("feedback_id", "tag"),
        Index("ix_feedback_tags_team_id_tag", "team_id", "tag"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    tag: Mapped[str] = mapped_column(String(64))

    feedback: Mapped[Feedback] = relationship(back_populates="tags")


class FeedbackStatusChange(Base):
    """One step of a feedback item's status (new → triaged → closed): who, when, and why."""

    __tablename__ = "feedback_status_changes"
    __table_args__ = (
        CheckConstraint("status IN ('new', 'triaged', 'closed')", "status_known"),
        Index("ix_feedback_status_changes_feedback_id_at", "feedback_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
