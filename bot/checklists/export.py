"""`opsloop export checklists`: runs and their items, one row per item with its run's fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.exports import Export
from storage import checklists as store
from storage.db import SessionFactory, transaction

EXPORT_COLUMNS = [
    "team_id",
    "run_key",
    "template",
    "template_version",
    "title",
    "subject",
    "channel_id",
    "message_ts",
    "started_by",
    "started_at",
    "status",
    "completed_at",
    "run_duration_seconds",
    "cancelled_by",
    "cancelled_at",
    "item_position",
    "item_title",
    "owner",
    "owner_id",
    "due_at",
    "done_by",
    "done_at",
    "item_duration_seconds",
]


def export_rows(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None
) -> list[dict[str, Any]]:
    """One row per item of every run (with its run's fields), for `opsloop export checklists`."""
    rows: list[dict[str, Any]] = []
    with transaction(sessions) as session:
        for run in store.list_runs_for_export(session, team_id=team_id, since=since):
            for item in sorted(run.items, key=lambda i: i.position):
                rows.append(
                    {
                        "team_id": run.team_id,
                        "run_key": run.key,
                        "template": run.template_name,
                        "template_version": run.template_version,
                        "title": run.title,
                        "subject": run.subject,
                        "channel_id": run.channel_id,
                        "message_ts": run.message_ts,
                        "started_by": run.started_by,
                        "started_at": run.started_at,
                        "status": run.status,
                        "completed_at": run.completed_at,
                        "run_duration_seconds": run.duration_seconds,
                        "cancelled_by": run.cancelled_by,
                        "cancelled_at": run.cancelled_at,
                        "item_position": item.position + 1,
                        "item_title": item.title,
                        "owner": item.owner_spec,
                        "owner_id": item.owner_id,
                        "due_at": item.due_at,
                        "done_by": item.done_by,
                        "done_at": item.done_at,
                        "item_duration_seconds": (
                            int((item.done_at - run.started_at).total_seconds())
                            if item.done_at
                            else None
                        ),
                    }
                )
    return rows


def export_checklists(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None, now: datetime
) -> Export:
    """Every item of every run (started on or after `since`), with its run's fields."""
    return Export(
        columns=list(EXPORT_COLUMNS),
        rows=export_rows(sessions, team_id=team_id, since=since),
    )
