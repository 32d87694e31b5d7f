"""The digest's accountability section: overdue items per owner, from every nudge source."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.services.digest import DigestSection, register_digest_section
from bot.services.nudges import list_overdue_items
from storage.db import SessionFactory

ACCOUNTABILITY_SECTION = "accountability"


def accountability_section(
    sessions: SessionFactory, team_id: str, week_start: datetime, week_end: datetime, now: datetime
) -> DigestSection:
    """Who has how many overdue items right now, most first."""
    counts = Counter(
        item.owner_id for item in list_overdue_items(sessions, team_id=team_id, now=now)
    )
    rows = [{"owner_id": owner, "count": count} for owner, count in counts.most_common()]
    return DigestSection(
        key=ACCOUNTABILITY_SECTION,
        title="Accountability",
        facts={"overdue_by_owner": rows, "total": sum(counts.values())},
        empty_text=None if rows else "Nothing overdue. Every owner is on time.",
    )


register_digest_section(ACCOUNTABILITY_SECTION, accountability_section)
