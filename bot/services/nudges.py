"""Overdue nudges: who is owed a reminder at `now`, and the Done / Snooze actions.

Capabilities register a `NudgeSource` in `NUDGE_SOURCES`: `list_overdue(sessions, team_id,
now) -> list[OverdueItem]` and `done(sessions, team_id, item_id, user_id, now)` (called by
the *Done* button; raise a `UserError` to refuse). A nudge is due for an owner on a nudge
weekday from the team's nudge hour in the owner's own timezone (their Slack timezone, else
the team's) until `NUDGE_WINDOW_HOURS` later, so a bot that was down at 10:00 still nudges
at 11:00 but never at midnight; the send ledger keeps it to one DM per person per day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import NotFoundError
from bot.services import directory, periods
from storage import core
from storage import sends as ledger_rows
from storage.db import SessionFactory, transaction

log = logging.getLogger(__name__)

NUDGE_KIND = "nudge"
ESCALATION_KIND = "nudge_escalation"
# Per-team settings (the playbook's `nudge:` block writes them).
NUDGE_HOUR = "nudge.time"  # "10:00" or "10"
NUDGE_WEEKDAYS = "nudge.weekdays"
NUDGE_ESCALATE_AFTER_DAYS = "nudge.overdue_threshold_days"
DEFAULT_HOUR = 10
DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)
DEFAULT_ESCALATE_AFTER_DAYS = 3
NUDGE_WINDOW_HOURS = 8


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

    @property
    def key(self) -> str:
        return f"{self.source}:{self.item_id}"


OverdueProvider = Callable[[SessionFactory, str, datetime], list[OverdueItem]]
# Returns whatever the source wants its after-done hook (handlers) to see, e.g. a run.
DoneCallback = Callable[[SessionFactory, str, str, str, datetime], object]


@dataclass(frozen=True)
class NudgeSource:
    key: str
    list_overdue: OverdueProvider
    done: DoneCallback


NUDGE_SOURCES: dict[str, NudgeSource] = {}


def register_nudge_source(key: str, list_overdue: OverdueProvider, done: DoneCallback) -> None:
    """Add (or replace) a kind of overdue item, e.g. `checklist_item` or `escalation`."""
    NUDGE_SOURCES[key] = NudgeSource(key, list_overdue, done)


@dataclass(frozen=True)
class NudgeSettings:
    at: time
    weekdays: tuple[int, ...]
    escalate_after: timedelta
    team_tz: ZoneInfo


@dataclass(frozen=True)
class Nudge:
    """One DM: an owner's overdue items, or (escalation) items overdue past the threshold
    sent to the process owner. `period` is the recipient's local date."""

    team_id: str
    kind: str
    user_id: str
    period: str
    items: tuple[OverdueItem, ...]
    escalate_after_days: int


def get_nudge_settings(
    sessions: SessionFactory, *, team_id: str, default_timezone: str
) -> NudgeSettings:
    """The team's nudge hour, weekdays, escalation threshold and timezone."""

    def setting(key: str) -> str | None:
        return directory.get_team_setting(sessions, team_id=team_id, key=key)

    days_text = setting(NUDGE_ESCALATE_AFTER_DAYS)
    days = int(days_text) if days_text and days_text.strip().isdigit() else 0
    return NudgeSettings(
        at=periods.parse_clock(setting(NUDGE_HOUR), time(DEFAULT_HOUR)),
        weekdays=periods.parse_weekdays(setting(NUDGE_WEEKDAYS), DEFAULT_WEEKDAYS),
        escalate_after=timedelta(days=days or DEFAULT_ESCALATE_AFTER_DAYS),
        team_tz=periods.zone(setting(directory.TEAM_TIMEZONE), default_timezone),
    )


def list_overdue_items(
    sessions: SessionFactory, *, team_id: str, now: datetime
) -> list[OverdueItem]:
    """Every overdue item of the team from every registered source, oldest due first."""
    items: list[OverdueItem] = []
    for key, source in list(NUDGE_SOURCES.items()):
        try:
            items.extend(source.list_overdue(sessions, team_id, now))
        except Exception:
            # A broken source must not silence every other owner's nudge.
            log.exception("nudge source %s failed for team %s", key, team_id)
    return sorted(items, key=lambda i: (i.due_at, i.key))


# (team_id, user_id) -> (display name, IANA timezone), e.g. from Slack's users.info; None
# when the user cannot be looked up. Jobs pass one so owners never seen before get their
# own timezone rather than the team's.
ProfileLookup = Callable[[str, str], tuple[str, str | None] | None]


def _timezone_of(
    sessions: SessionFactory,
    *,
    team_id: str,
    user_id: str,
    fallback: ZoneInfo,
    lookup: ProfileLookup | None = None,
    now: datetime | None = None,
) -> ZoneInfo:
    with transaction(sessions) as session:
        person = core.get_person(session, team_id=team_id, user_id=user_id)
        name = person.timezone if person else None
    if person is None and lookup is not None and now is not None:
        profile = lookup(team_id, user_id)
        if profile is not None:
            display_name, name = profile
            with transaction(sessions) as session:
                core.upsert_person(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    display_name=display_name,
                    timezone=name,
                    is_deleted=False,
                    refreshed_at=now,
                )
    return periods.zone(name, fallback.key)


def _in_window(local: datetime, settings: NudgeSettings) -> bool:
    start = datetime.combine(local.date(), settings.at, tzinfo=local.tzinfo)
    end = start + timedelta(hours=NUDGE_WINDOW_HOURS)
    return local.weekday() in settings.weekdays and start <= local < end


def _snoozed(sessions: SessionFactory, *, team_id: str, now: datetime) -> set[tuple[str, str]]:
    with transaction(sessions) as session:
        return ledger_rows.list_snoozed_keys(session, team_id=team_id, now=now)


def due_nudges(
    sessions: SessionFactory,
    team_ids: list[str],
    *,
    now: datetime,
    default_timezone: str,
    lookup: ProfileLookup | None = None,
) -> list[Nudge]:
    """The nudges and process-owner reports whose recipients are in their nudge hour.

    A recipient's timezone is their cached profile's, looked up with `lookup` (and cached)
    when they were never seen, else the team's.
    """
    due: list[Nudge] = []
    for team_id in team_ids:
        settings = get_nudge_settings(sessions, team_id=team_id, default_timezone=default_timezone)
        items = list_overdue_items(sessions, team_id=team_id, now=now)
        if not items:
            continue
        snoozed = _snoozed(sessions, team_id=team_id, now=now)
        days = settings.escalate_after.days
        by_owner: dict[str, list[OverdueItem]] = defaultdict(list)
        for item in items:
            if (item.key, item.owner_id) not in snoozed:
                by_owner[item.owner_id].append(item)
        by_process_owner: dict[str, list[OverdueItem]] = defaultdict(list)
        owners: dict[str, str | None] = {}
        for item in items:
            if not item.process_key or now - item.due_at < settings.escalate_after:
                continue
            if item.process_key not in owners:
                owners[item.process_key] = directory.get_process_owner(
                    sessions, team_id=team_id, process_key=item.process_key
                )
            process_owner = owners[item.process_key]
            # The owner already hears about their own items; the report is for someone else.
            if process_owner and process_owner != item.owner_id:
                by_process_owner[process_owner].append(item)
        for kind, groups in ((NUDGE_KIND, by_owner), (ESCALATION_KIND, by_process_owner)):
            for user_id, group in groups.items():
                tz = _timezone_of(
                    sessions,
                    team_id=team_id,
                    user_id=user_id,
                    fallback=settings.team_tz,
                    lookup=lookup,
                    now=now,
                )
                local = now.astimezone(tz)
                if _in_window(local, settings):
                    period = local.date().isoformat()
                    due.append(Nudge(team_id, kind, user_id, period, tuple(group), days))
    return due


def preview_nudge(
    sessions: SessionFactory, *, team_id: str, user_id: str, now: datetime, default_timezone: str
) -> Nudge:
    """The nudge `user_id` would get at `now`, whatever the hour (snoozed items left out)."""
    settings = get_nudge_settings(sessions, team_id=team_id, default_timezone=default_timezone)
    snoozed = _snoozed(sessions, team_id=team_id, now=now)
    items = [
        item
        for item in list_overdue_items(sessions, team_id=team_id, now=now)
        if item.owner_id == user_id and (item.key, user_id) not in snoozed
    ]
    tz = _timezone_of(sessions, team_id=team_id, user_id=user_id, fallback=settings.team_tz)
    period = now.astimezone(tz).date().isoformat()
    return Nudge(team_id, NUDGE_KIND, user_id, period, tuple(items), settings.escalate_after.days)


def _source(source: str) -> NudgeSource:
    found = NUDGE_SOURCES.get(source)
    if found is None:
        raise NotFoundError("That item can no longer be found; it may have been removed.")
    return found


def mark_item_done(
    sessions: SessionFactory,
    *,
    team_id: str,
    source: str,
    item_id: str,
    user_id: str,
    now: datetime,
) -> object:
    """The *Done* button: hand the item to its source to close; returns what the source did."""
    return _source(source).done(sessions, team_id, item_id, user_id, now)


def snooze_item(
    sessions: SessionFactory,
    *,
    team_id: str,
    source: str,
    item_id: str,
    user_id: str,
    now: datetime,
    default_timezone: str,
) -> datetime:
    """The *Snooze 1 day* button: leave the item out of tomorrow's nudge; returns until when.

    The snooze runs to the start of the day after tomorrow in the owner's timezone, so
    tomorrow's nudge skips the item whatever hour it is sent, and the next one has it again.
    """
    _source(source)
    settings = get_nudge_settings(sessions, team_id=team_id, default_timezone=default_timezone)
    tz = _timezone_of(sessions, team_id=team_id, user_id=user_id, fallback=settings.team_tz)
    until = periods.local_midnight(now.astimezone(tz).date() + timedelta(days=2), tz)
    with transaction(sessions) as session:
        ledger_rows.snooze_item(
            session,
            team_id=team_id,
            item_key=f"{source}:{item_id}",
            owner_id=user_id,
            until=until,
        )
    return until
