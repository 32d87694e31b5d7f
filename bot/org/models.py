"""The operating model's people and owners, as data. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class OwnerRow:
    key: str
    name: str
    owner_id: str | None
    owner_name: str | None
    owner_deleted: bool


@dataclass(frozen=True)
class OwnerChange:
    key: str
    name: str
    previous_id: str | None
    owner_id: str


@dataclass(frozen=True)
class PersonInfo:
    user_id: str
    display_name: str
    timezone: str | None
    is_deleted: bool


@dataclass(frozen=True)
class ProcessOwner:
    key: str
    name: str
    owner_id: str | None


def sop_review_due(last_reviewed_at: datetime | None, review_every_days: int) -> datetime | None:
    """When a process's SOP is next due for review; None when it was never reviewed (due now)."""
    if last_reviewed_at is None:
        return None
    return last_reviewed_at + timedelta(days=review_every_days)
