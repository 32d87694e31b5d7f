"""Stored checklist rows as the models the use cases return."""

from __future__ import annotations

from bot.checklists.models import ItemView, RunView
from storage.models.checklists import ChecklistItem, ChecklistRun


def item_view(item: ChecklistItem) -> ItemView:
    return ItemView(
        id=item.id,
        position=item.position,
        title=item.title,
        owner_spec=item.owner_spec,
        owner_id=item.owner_id,
        due_at=item.due_at,
        help_url=item.help_url,
        done_by=item.done_by,
        done_at=item.done_at,
    )


def run_view(run: ChecklistRun) -> RunView:
    return RunView(
        key=run.key,
        team_id=run.team_id,
        title=run.title,
        subject=run.subject,
        template_name=run.template_name,
        template_version=run.template_version,
        channel_id=run.channel_id,
        message_ts=run.message_ts,
        started_by=run.started_by,
        started_at=run.started_at,
        status=run.status,
        completed_at=run.completed_at,
        duration_seconds=run.duration_seconds,
        cancelled_by=run.cancelled_by,
        cancelled_at=run.cancelled_at,
        revision=run.revision,
        items=tuple(item_view(item) for item in sorted(run.items, key=lambda i: i.position)),
    )
