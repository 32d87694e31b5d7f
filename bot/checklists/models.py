"""Plain data the checklist services return: runs, items, tick results, overdue items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Slack allows 10 options per checkbox element: items are shown in groups of this size.
GROUP_SIZE = 10
ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"


@dataclass(frozen=True)
class ItemView:
    id: int
    position: int
    title: str
    owner_spec: str
    owner_id: str | None
    due_at: datetime
    help_url: str | None
    done_by: str | None
    done_at: datetime | None

    @property
    def done(self) -> bool:
        return self.done_at is not None

    @property
    def group(self) -> int:
        return self.position // GROUP_SIZE

    def is_overdue(self, now: datetime) -> bool:
        return not self.done and self.due_at < now


@dataclass(frozen=True)
class RunView:
    key: str
    team_id: str
    title: str
    subject: str
    template_name: str
    template_version: int
    channel_id: str
    message_ts: str | None
    started_by: str
    started_at: datetime
    status: str
    completed_at: datetime | None
    duration_seconds: int | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    revision: int
    items: tuple[ItemView, ...]

    @property
    def heading(self) -> str:
        return f"{self.title} — {self.subject}" if self.subject else self.title

    @property
    def done_count(self) -> int:
        return sum(1 for item in self.items if item.done)

    @property
    def group_count(self) -> int:
        return (len(self.items) + GROUP_SIZE - 1) // GROUP_SIZE

    def overdue(self, now: datetime) -> list[ItemView]:
        return [item for item in self.items if item.is_overdue(now)]


@dataclass(frozen=True)
class TickResult:
    run: RunView
    changed: tuple[int, ...]  # positions whose state changed
    completed: bool  # this change completed the run
    reopened: bool  # this change reopened a completed run


@dataclass(frozen=True)
class OverdueChecklistItem:
    item_id: int
    title: str
    owner_id: str | None
    due_at: datetime
    run_key: str
    run_title: str
    subject: str
    channel_id: str
    message_ts: str | None


@dataclass(frozen=True)
class TemplateSummary:
    name: str
    title: str
    description: str
    version: int
    item_count: int
