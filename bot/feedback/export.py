"""`opsloop export feedback`: every field of every feedback record, full text."""

from __future__ import annotations

from datetime import datetime

from bot.exports import Export
from bot.feedback.service import list_feedback_records
from storage.db import SessionFactory

COLUMNS = [
    "id",
    "team_id",
    "created_at",
    "updated_at",
    "status",
    "text",
    "customer",
    "source",
    "tags",
    "nps_score",
    "nps_category",
    "reporter_id",
    "author_id",
    "channel_id",
    "message_ts",
    "permalink",
    "submission_key",
    "captured_by_id",
    "captured_by_team_id",
]


def export_feedback(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None, now: datetime
) -> Export:
    """Feedback records (of one team or all) created on or after `since`, oldest first."""
    records = list_feedback_records(sessions, team_id=team_id, since=since)
    rows = [
        {
            **{name: getattr(record, name) for name in COLUMNS if name != "tags"},
            "tags": list(record.tags),
        }
        for record in records
    ]
    return Export(columns=COLUMNS, rows=rows)
