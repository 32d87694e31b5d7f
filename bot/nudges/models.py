"""Nudges as data: overdue items, the team's nudge settings, one DM's worth. No storage here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class OverdueItem:
    """Something an owner should have done by `due_at`."""

    source: str
    item_id: str
    title: str
    owner_id: str
    due_at: datetime
    process_key: str | None = None
    link: str | None = None
    # False: the nudge shows no *Done* button (closing it needs more than a click).
    can_mark_done: bool = True
    # A button opening the source's own small form for the item (a KPI's *Log value*).
    form_label: str | None = None
    # False: no *Snooze 1 day* either (a breached SEV1 / SEV2 keeps coming until dealt with).
    can_snooze: bool = True

    @property
    def key(self) -> str:
        return f"{self.source}:{self.item_id}"


@dataclass(frozen=True)
class NudgeSettings:
    at: time
    weekdays: tuple[int, ...]
    escalate_after: timedelta
    team_tz: ZoneInfo


@dataclass(frozen=True)
class Nudge:
    """One DM: an owner's overdue items, or (the owner report) items overdue past the threshold
    sent to the process owner. `period` is the recipient's local date."""

    team_id: str
    kind: str
    user_id: str
    period: str
    items: tuple[OverdueItem, ...]
    escalate_after_days: int
    # The recipient's timezone (IANA name): the times in the DM are labelled in it.
    timezone: str = "UTC"
