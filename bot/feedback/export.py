"""`opsloop export feedback`: every field of every feedback record, full text."""

from __future__ import annotations

from datetime import datetime

from bot.exports import Export
from bot.feedback.models import CLOSED, TRIAGED, FeedbackRecord
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
    "assignee_id",
    "escalation_id",
    "triaged_at",
    "triaged_by",
    "closed_at",
    "closed_by",
    "status_history",
    "deleted_at",
    "deleted_by",
]
# Filled from the status history, not read off the record.
_FROM_HISTORY = ("triaged_at", "triaged_by", "closed_at", "closed_by", "status_history")


def export_feedback(
    sessions: SessionFactory,
    *,
    team_id: str | None,
    since: datetime | None,
    now: datetime,
    include_deleted: bool = False,
) -> Export:
    """Feedback records (of one team or all) created on or after `since`, oldest first;
    deleted ones only with `include_deleted`. Each status step is in `status_history`
    (status, who, when, note), the latest triage and close also in their own columns."""
    records = list_feedback_records(
        sessions, team_id=team_id, since=since, include_deleted=include_deleted
    )
    rows = [_row(record) for record in records]
    return Export(columns=COLUMNS, rows=rows)


def _row(record: FeedbackRecord) -> dict[str, object]:
    row: dict[str, object] = {
        name: getattr(record, name) for name in COLUMNS if name not in ("tags", *_FROM_HISTORY)
    }
    row["tags"] = list(record.tags)
    row["status_history"] = [
        {"status": step.status, "by": step.actor_id, "at": step.at.isoformat(), "note": step.note}
        for step in record.history
    ]
    for status in (TRIAGED, CLOSED):
        last = next((s for s in reversed(record.history) if s.status == status), None)
        row[f"{status}_at"] = last.at if last else None
        row[f"{status}_by"] = last.actor_id if last else None
    return row
