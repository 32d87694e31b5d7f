"""Query functions for checklist templates, runs and items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models.checklists import ChecklistItem, ChecklistRun, ChecklistTemplate


def list_current_templates(session: Session, *, team_id: str) -> list[ChecklistTemplate]:
    """The newest version of every template still offered, by name."""
    statement = (
        select(ChecklistTemplate)
        .where(ChecklistTemplate.team_id == team_id, ChecklistTemplate.is_current.is_(True))
        .order_by(ChecklistTemplate.name)
    )
    return list(session.scalars(statement))


def get_current_template(session: Session, *, team_id: str, name: str) -> ChecklistTemplate | None:
    """The current version of one template, by name (case-insensitive)."""
    statement = select(ChecklistTemplate).where(
        ChecklistTemplate.team_id == team_id,
        ChecklistTemplate.name == name.lower(),
        ChecklistTemplate.is_current.is_(True),
    )
    return session.scalar(statement)


def next_template_version(session: Session, *, team_id: str, name: str) -> int:
    """1 + the highest version stored for a template name."""
    highest = session.scalar(
        select(func.max(ChecklistTemplate.version)).where(
            ChecklistTemplate.team_id == team_id, ChecklistTemplate.name == name
        )
    )
    return (highest or 0) + 1


def add_template_version(
    session: Session,
    *,
    team_id: str,
    name: str,
    title: str,
    description: str,
    items: list[dict[str, Any]],
    fingerprint: str,
    version: int,
    created_at: datetime,
) -> ChecklistTemplate:
    """Store a new current version of a template."""
    template = ChecklistTemplate(
        team_id=team_id,
        name=name,
        version=version,
        title=title,
        description=description,
        items=items,
        fingerprint=fingerprint,
        is_current=True,
        created_at=created_at,
    )
    session.add(template)
    session.flush()
    return template


def add_run(session: Session, *, run: ChecklistRun, items: list[ChecklistItem]) -> ChecklistRun:
    """Store a run and its items in one go."""
    run.items = items
    session.add(run)
    session.flush()
    return run


def get_run(
    session: Session, *, team_id: str, key: str, for_update: bool = False
) -> ChecklistRun | None:
    """One run by its public key, locked against concurrent changes when `for_update`."""
    statement = select(ChecklistRun).where(ChecklistRun.team_id == team_id, ChecklistRun.key == key)
    if for_update:
        # PostgreSQL serialises tick transactions of one run here; SQLite already holds
        # the write lock from BEGIN IMMEDIATE.
        statement = statement.with_for_update()
    return session.scalar(statement)


def get_run_key_of_item(session: Session, *, team_id: str, item_id: int) -> str | None:
    """The key of the run an item belongs to, only within `team_id`."""
    return session.scalar(
        select(ChecklistRun.key)
        .join(ChecklistItem, ChecklistItem.run_id == ChecklistRun.id)
        .where(ChecklistItem.team_id == team_id, ChecklistItem.id == item_id)
    )


def list_runs(session: Session, *, team_id: str, status: str | None = None) -> list[ChecklistRun]:
    """Runs of a team (optionally with one status), oldest first."""
    statement = select(ChecklistRun).where(ChecklistRun.team_id == team_id)
    if status is not None:
        statement = statement.where(ChecklistRun.status == status)
    return list(session.scalars(statement.order_by(ChecklistRun.started_at, ChecklistRun.id)))


def list_runs_touching(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> list[ChecklistRun]:
    """Runs started in [start, end), active at `end`, or ended since `start`, oldest first.

    Four index range reads rather than every run ever: the digest's cost follows the
    week's runs and the open ones, not the history. "Started before `end`" is checked here
    rather than in the last three queries: given it as a second range, SQLite's planner
    (with statistics, from about a thousand runs) read it off the started_at index, which
    walks every run ever started.
    """
    base = select(ChecklistRun).where(ChecklistRun.team_id == team_id)
    queries = (
        base.where(ChecklistRun.started_at >= start, ChecklistRun.started_at < end),
        base.where(ChecklistRun.status == "active"),
        base.where(ChecklistRun.completed_at >= start),
        base.where(ChecklistRun.cancelled_at >= start),
    )
    runs = {
        run.id: run for query in queries for run in session.scalars(query) if run.started_at < end
    }
    return sorted(runs.values(), key=lambda run: (run.started_at, run.id))


def list_overdue_items(session: Session, *, team_id: str, now: datetime) -> list[ChecklistItem]:
    """Open items of active runs whose due time has passed, oldest due first."""
    statement = (
        select(ChecklistItem)
        .join(ChecklistRun, ChecklistItem.run_id == ChecklistRun.id)
        .where(
            ChecklistItem.team_id == team_id,
            ChecklistRun.status == "active",
            ChecklistItem.done_at.is_(None),
            ChecklistItem.due_at < now,
        )
        .order_by(ChecklistItem.due_at, ChecklistItem.id)
    )
    return list(session.scalars(statement))


def list_runs_for_export(
    session: Session, *, team_id: str | None, since: datetime | None
) -> list[ChecklistRun]:
    """Runs (all teams when `team_id` is None) started on or after `since`."""
    statement = select(ChecklistRun)
    if team_id is not None:
        statement = statement.where(ChecklistRun.team_id == team_id)
    if since is not None:
        statement = statement.where(ChecklistRun.started_at >= since)
    return list(session.scalars(statement.order_by(ChecklistRun.team_id, ChecklistRun.started_at)))


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
