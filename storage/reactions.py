"""Query functions for reaction captures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models.reactions import ReactionCapture
from storage.upsert import insert_if_absent


def add_capture(
    session: Session, *, team_id: str, channel_id: str, message_ts: str, claim: str, **values: Any
) -> tuple[ReactionCapture, bool]:
    """The capture of one message for `claim`, added unless it exists; (row, True when new).

    The unique (team, channel, ts, claim) constraint is what makes a second reaction, or the
    same reaction delivered again to another replica, land on the first row."""
    key = {"team_id": team_id, "channel_id": channel_id, "message_ts": message_ts, "claim": claim}
    inserted = insert_if_absent(
        session,
        ReactionCapture.__table__,  # type: ignore[arg-type]
        {**key, **values},
    )
    row = session.scalar(
        select(ReactionCapture)
        .where(*(getattr(ReactionCapture, name) == value for name, value in key.items()))
        .with_for_update()
    )
    assert row is not None
    return row, inserted


def get_capture(session: Session, *, team_id: str, capture_id: int) -> ReactionCapture | None:
    """One capture of a team by id, locked for the change the caller is making."""
    return session.scalar(
        select(ReactionCapture)
        .where(ReactionCapture.team_id == team_id, ReactionCapture.id == capture_id)
        .with_for_update()
    )
