"""Queries behind the App Home that read other capabilities' tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models.checklists import ChecklistItem, ChecklistRun


def list_open_checklist_items(
    session: Session, *, team_id: str, owner_id: str
) -> list[tuple[ChecklistItem, ChecklistRun]]:
    """Undone items owned by `owner_id` in active runs, soonest due first."""
    statement = (
        select(ChecklistItem, ChecklistRun)
        .join(ChecklistRun, ChecklistItem.run_id == ChecklistRun.id)
        .where(
            ChecklistItem.team_id == team_id,
            ChecklistItem.owner_id == owner_id,
            ChecklistItem.done_at.is_(None),
            ChecklistRun.status == "active",
        )
        .order_by(ChecklistItem.due_at, ChecklistItem.id)
    )
    return [(row[0], row[1]) for row in session.execute(statement)]
