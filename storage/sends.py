"""Query functions for nudge snoozes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models.sends import NudgeSnooze
from storage.upsert import insert_if_absent


def snooze_item(
    session: Session, *, team_id: str, item_key: str, owner_id: str, until: datetime
) -> None:
    """Create or move the snooze of one item for one owner."""
    values = {"team_id": team_id, "item_key": item_key, "owner_id": owner_id, "until": until}
    if not insert_if_absent(session, NudgeSnooze.__table__, values):  # type: ignore[arg-type]
        session.execute(
            update(NudgeSnooze)
            .where(
                NudgeSnooze.team_id == team_id,
                NudgeSnooze.item_key == item_key,
                NudgeSnooze.owner_id == owner_id,
            )
            .values(until=until)
            .execution_options(synchronize_session=False)
        )


def list_snoozed_keys(session: Session, *, team_id: str, now: datetime) -> set[tuple[str, str]]:
    """(item_key, owner_id) pairs whose snooze has not run out at `now`."""
    rows = session.execute(
        select(NudgeSnooze.item_key, NudgeSnooze.owner_id).where(
            NudgeSnooze.team_id == team_id, NudgeSnooze.until > now
        )
    )
    return {(key, owner) for key, owner in rows}


def delete_expired_snoozes(session: Session, *, before: datetime) -> int:
    """Forget snoozes that ran out before `before`; returns how many."""
    result = session.execute(delete(NudgeSnooze).where(NudgeSnooze.until < before))
    return int(getattr(result, "rowcount", 0) or 0)
