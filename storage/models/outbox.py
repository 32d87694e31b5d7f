"""The outbox: every Slack side effect of a change, stored in the change's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime

# A row is `pending` until a sender claims it (`sending`), then `sent`, or `failed` once
# the sender gave up (kept, shown by `opsloop outbox --failed`), or `skipped` by a person.
OUTBOX_PENDING = "pending"
OUTBOX_SENDING = "sending"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"
OUTBOX_SKIPPED = "skipped"


class OutboxMessage(Base):
    """One call to make to Slack, unique per (team, key) so a repeated change adds nothing."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "key"),
        # what the sender reads every poll: the due rows, oldest first
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        # what every sender asks before posting to a channel: was anything posted there
        # a moment ago, by any replica (storage.outbox.channels_posting)
        Index("ix_outbox_team_id_channel_sent_at", "team_id", "channel", "sent_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    # chat.postMessage, chat.update, chat.postEphemeral or views.publish
    method: Mapped[str] = mapped_column(String(32))
    # A channel id, or a user id for a DM (and for views.publish, the user whose Home it is).
    channel: Mapped[str] = mapped_column(String(32))
    # The user an ephemeral is shown to.
    user_id: Mapped[str | None] = mapped_column(String(32))
    # The key of the message this one updates or replies to in its thread; its channel and
    # ts are known once that message is delivered.
    parent_key: Mapped[str | None] = mapped_column(String(200))
    # The ts of the message to update, when it was known at the change.
    ts: Mapped[str | None] = mapped_column(String(32))
    # JSON: text, blocks, view — exactly what is sent.
    payload: Mapped[str] = mapped_column(Text)
    # What the delivered message belongs to ("escalation:12", "checklist:ab12"), so its
    # channel and ts are stored on that record in the transaction that marks it sent.
    subject: Mapped[str | None] = mapped_column(String(64))
    # Who is told when the sender gives up (else the team's admins).
    notify_user: Mapped[str | None] = mapped_column(String(32))
    # An ephemeral that cannot be shown (the bot is not in the channel) goes by DM instead.
    fallback_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=OUTBOX_PENDING)
    # Bumped whenever the payload is replaced (a newer version of a message update), so a
    # send of the older version does not mark the newer one sent.
    revision: Mapped[int] = mapped_column(Integer, default=1)
    claimed_revision: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A send whose outcome is unknown (timed out, or its sender died): looked for in the
    # channel's history before it is ever posted again.
    unsure: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_channel: Mapped[str | None] = mapped_column(String(32))
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
