"""The operating model's people and owners, as data. No storage here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta


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


@dataclass(frozen=True)
class ReviewTarget:
    """A process whose SOP someone may mark reviewed: what the modal and the reminder show."""

    key: str
    name: str
    owner_id: str | None
    sop_url: str | None
    last_reviewed: date | None
    due: date | None  # None: never reviewed (due now)
    review_every_days: int = 90


@dataclass(frozen=True)
class ReviewRecorded:
    """A review stored: the process as it is now, who reviewed it and the note (may be "")."""

    target: ReviewTarget
    reviewed_by: str
    note: str


# Where *Mark reviewed* was pressed: it decides what is brought up to date after the review.
REVIEW_FROM_STATUS = "status"
REVIEW_FROM_HOME = "home"
REVIEW_FROM_REMINDER = "reminder"
REVIEW_ORIGINS = (REVIEW_FROM_STATUS, REVIEW_FROM_HOME, REVIEW_FROM_REMINDER)
# The longest note kept with a review (the modal's field allows as much).
REVIEW_NOTE_LIMIT = 2000
DEFAULT_REVIEW_REMINDER_DAYS = 7


def review_due_date(last_reviewed: date | None, review_every_days: int) -> date | None:
    """The day a process's SOP review falls due; None when never reviewed (due now)."""
    if last_reviewed is None:
        return None
    return last_reviewed + timedelta(days=review_every_days)


@dataclass(frozen=True)
class ReviewRef:
    """What a *Mark reviewed* button and its modal carry: the process, where it was pressed
    and (for a reminder DM) the message to update. Everything in it is re-checked."""

    process_key: str
    origin: str
    channel: str = ""
    ts: str = ""

    def to_value(self) -> str:
        return json.dumps(
            {"p": self.process_key, "o": self.origin, "c": self.channel, "t": self.ts},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, value: object) -> ReviewRef | None:
        """The reference in a button value or private_metadata; None when it is not one."""
        try:
            data = json.loads(str(value))
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        fields = [data.get(name, "") for name in ("p", "o", "c", "t")]
        if not all(isinstance(field, str) for field in fields) or fields[1] not in REVIEW_ORIGINS:
            return None
        return cls(*fields)
