"""Checklist items as a nudge source: overdue items are nudged, *Done* ticks the item."""

from __future__ import annotations

from datetime import datetime

from bot.errors import NotFoundError
from bot.services import checklists
from bot.services.directory import ONBOARDING_PROCESS
from bot.services.nudges import OverdueItem, register_nudge_source
from storage.db import SessionFactory

CHECKLIST_SOURCE = "checklist_item"


def list_overdue_checklist_items(
    sessions: SessionFactory, team_id: str, now: datetime
) -> list[OverdueItem]:
    """Open items of active checklist runs past their due time that have an owner."""
    items = []
    for item in checklists.list_overdue_items(sessions, team_id=team_id, now=now):
        if not item.owner_id:
            continue  # a role nobody holds: the process owner sees it in the digest instead
        context = f"{item.run_title}: {item.subject}" if item.subject else item.run_title
        items.append(
            OverdueItem(
                source=CHECKLIST_SOURCE,
                item_id=str(item.item_id),
                title=f"{item.title} ({context})",
                owner_id=item.owner_id,
                due_at=item.due_at,
                # Checklist runs are the onboarding process's; its owner hears of late items.
                process_key=ONBOARDING_PROCESS,
            )
        )
    return items


def mark_checklist_item_done(
    sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
) -> checklists.TickResult:
    """Tick the item, as if in the checklist message; the caller refreshes that message."""
    if not item_id.isdigit():
        raise NotFoundError("That checklist item does not exist; nothing was changed.")
    return checklists.mark_item_done(
        sessions, team_id=team_id, item_id=int(item_id), user_id=user_id, now=now
    )


register_nudge_source(CHECKLIST_SOURCE, list_overdue_checklist_items, mark_checklist_item_done)
