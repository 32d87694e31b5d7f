"""Messages captured by a reaction: what was asked (feedback, an escalation), by whom, and
what Slack said the message was once the outbox looked it up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class ReactionCapture(Base):
    """One capture of one message. `claim` is what makes it unique: `feedback` (a message
    is logged as feedback once, however many people react) or `escalate:<user>` (each
    person who reacts is offered to raise an escalation)."""

    __tablename__ = "reaction_captures"
    __table_args__ = (
        UniqueConstraint("team_id", "channel_id", "message_ts", "claim"),
        CheckConstraint(
            "state IN ('fetching', 'captured', 'unavailable', 'undone')", "state_known"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    claim: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # feedback | escalate
    state: Mapped[str] = mapped_column(String(16), default="fetching")
    # Who reacted, and their workspace when it is not ours (a Slack Connect partner).
    reactor_id: Mapped[str] = mapped_column(String(32))
    reactor_team_id: Mapped[str | None] = mapped_column(String(32))
    # Who is told privately (the reactor, or for a partner's reaction our process owner).
    notify_id: Mapped[str | None] = mapped_column(String(32))
    emoji: Mapped[str] = mapped_column(String(100))
    # A Slack Connect channel: nothing Opsloop says about the capture is posted in it.
    shared_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    # Each lookup of the message gets its own outbox key (a reaction after "I am not in
    # this channel" asks again).
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    # What the message was, once looked up.
    text: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    permalink: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(String(64))
    feedback_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
