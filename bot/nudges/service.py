"""Overdue nudges: who is owed a reminder at `now`, and the Done / Snooze actions.

The kinds of overdue item are `NudgeSource`s, passed in (`bot.nudges.sources.SOURCES` through
`Deps.nudge_sources`): `list_overdue(sessions, team_id, now) -> list[OverdueItem]` and
`done(sessions, team_id, item_id, user_id, now) -> DoneResult` (called by the *Done*
button; raise a `UserError` to refuse). A nudge is due for an owner on a nudge
weekday from the team's nudge hour in the owner's own timezone (their Slack timezone, else
the team's) until `NUDGE_WINDOW_HOURS` later, so a bot that was down at 10:00 still nudges
at 11:00 but never at midnight; the send ledger keeps it to one DM per person per day.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import periods
from bot.checklists.models import TickResult
from bot.errors import NotFoundError
from bot.escalations.models import ChangeOutcome
from bot.nudges.models import Nudge, NudgeSettings, OverdueItem
from bot.org import service as directory
from bot.org import team_settings
from bot.org.people import FetchPerson, get_people, sync_people
from storage import sends as ledger_rows
from storage.db import SessionFactory, transaction

log = logging.getLogger(__name__)

NUDGE_KIND = "nudge"
# The report to a process owner of items overdue past the threshold. Not an Escalation
# (bot.escalations); the stored send-ledger kind keeps its first spelling.
OWNER_REPORT_KIND = "nudge_escalation"
NUDGE_WINDOW_HOURS = 8


OverdueProvider = Callable[[SessionFactory, str, datetime], list[OverdueItem]]
# What *Done* changed: a ticked checklist item, or an acknowledged escalation. The handler
# matches on it to bring the item's own Slack message up to date.
DoneResult = TickResult | ChangeOutcome | None  # None: the item has no message of its own
DoneCallback = Callable[[SessionFactory, str, str, str, datetime], DoneResult]
# Called before *Snooze 1 day* is stored (team, item id, now); raises a `UserError` to refuse.
SnoozeCheck = Callable[[SessionFactory, str, str, datetime], None]


@dataclass(frozen=True)
class NudgeSource:
    """One kind of overdue item: how to list the overdue ones, and what *Done* does."""

    key: str
    list_overdue: OverdueProvider
    done: DoneCallback
    check_snooze: SnoozeCheck | None = None


def get_nudge_settings(
    sessions: SessionFactory, *, team_id: str, default_timezone: str
) -> NudgeSettings:
    """The team's nudge hour, weekdays, escalation threshold and timezone."""

    def setting(key: str) -> str | None:
        return directory.get_team_setting(sessions, team_id=team_id, key=key)

    days_text = setting(team_settings.NUDGE_THRESHOLD_DAYS)
    days = int(days_text) if days_text and days_text.strip().isdigit() else 0
    return NudgeSettings(
        at=periods.parse_clock(setting(team_settings.NUDGE_TIME), team_settings.DEFAULT_NUDGE_TIME),
        weekdays=periods.parse_weekdays(
            setting(team_settings.NUDGE_WEEKDAYS), team_settings.DEFAULT_NUDGE_WEEKDAYS
        ),
        escalate_after=timedelta(days=days or team_settings.DEFAULT_NUDGE_THRESHOLD_DAYS),
        team_tz=periods.zone(setting(team_settings.TEAM_TIMEZONE), default_timezone),
    )


def list_overdue_items(
    sessions: SessionFactory, *, sources: Sequence[NudgeSource], team_id: str, now: datetime
) -> list[OverdueItem]:
    """Every overdue item of the team from every source, oldest due first."""
    items: list[OverdueItem] = []
    for source in sources:
        try:
            items.extend(source.list_overdue(sessions, team_id, now))
        except Exception:
            # A broken source must not silence every other owner's nudge.
            log.exception("nudge source %s failed for team %s", source.key, team_id)
    return sorted(items, key=lambda i: (i.due_at, i.key))


def _timezone_of(
    sessions: SessionFactory,
    *,
    team_id: str,
    user_id: str,
    fallback: ZoneInfo,
    fetch: FetchPerson | None = None,
    now: datetime | None = None,
) -> ZoneInfo:
    """The person's own timezone from the people cache, else `fallback`.

    A person never seen is fetched once through `fetch` (and cached); a cached profile is
    not refreshed here: the tick must not ask Slack about every owner every minute.
    """
    people = get_people(sessions, team_id=team_id, user_ids=[user_id])
    if user_id not in people and fetch is not None and now is not None:
        people = sync_people(sessions, team_id=team_id, user_ids=[user_id], fetch=fetch, now=now)
    person = people.get(user_id)
    return periods.zone(person.timezone if person else None, fallback.key)


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
    sources: Sequence[NudgeSource],
    now: datetime,
    default_timezone: str,
    fetch: FetchPerson | None = None,
) -> list[Nudge]:
    """The nudges and process-owner reports whose recipients are in their nudge hour.

    A recipient's timezone is their cached profile's (fetched through `fetch`, e.g. Slack's
    users.info, when unseen or stale), else the team's.
    """
    due: list[Nudge] = []
    for team_id in team_ids:
        settings = get_nudge_settings(sessions, team_id=team_id, default_timezone=default_timezone)
        items = list_overdue_items(sessions, sources=sources, team_id=team_id, now=now)
        if not items:
            continue
        snoozed = _snoozed(sessions, team_id=team_id, now=now)
        days = settings.escalate_after.days
        by_owner: dict[str, list[OverdueItem]] = defaultdict(list)
        for item in items:
            # A snooze stored before an item became unsnoozable does not hide it either.
            if (item.key, item.owner_id) not in snoozed or not item.can_snooze:
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
        # Every recipient's cached profile in one transaction, not one each: a thousand
        # owners otherwise cost the job seconds before its first DM is queued.
        known = get_people(sessions, team_id=team_id, user_ids=[*by_owner, *by_process_owner])
        for kind, groups in ((NUDGE_KIND, by_owner), (OWNER_REPORT_KIND, by_process_owner)):
            for user_id, group in groups.items():
                person = known.get(user_id)
                if person is not None:
                    tz = periods.zone(person.timezone, settings.team_tz.key)
                else:
                    tz = _timezone_of(
                        sessions,
                        team_id=team_id,
                        user_id=user_id,
                        fallback=settings.team_tz,
                        fetch=fetch,
                        now=now,
                    )
                local = now.astimezone(tz)
                if _in_window(local, settings):
                    period = local.date().isoformat()
                    due.append(Nudge(team_id, kind, user_id, period, tuple(group), days, tz.key))
    return due


def preview_nudge(
    sessions: SessionFactory,
    *,
    sources: Sequence[NudgeSource],
    team_id: str,
    user_id: str,
    now: datetime,
    default_timezone: str,
) -> Nudge:
    """The nudge `user_id` would get at `now`, whatever the hour (snoozed items left out)."""
    settings = get_nudge_settings(sessions, team_id=team_id, default_timezone=default_timezone)
    snoozed = _snoozed(sessions, team_id=team_id, now=now)
    items = [
        item
        for item in list_overdue_items(sessions, sources=sources, team_id=team_id, now=now)
        if item.owner_id == user_id and ((item.key, user_id) not in snoozed or not item.can_snooze)
    ]
    tz = _timezone_of(sessions, team_id=team_id, user_id=user_id, fallback=settings.team_tz)
    period = now.astimezone(tz).date().isoformat()
    return Nudge(
        team_id, NUDGE_KIND, user_id, period, tuple(items), settings.escalate_after.days, tz.key
    )


def _source(sources: Sequence[NudgeSource], key: str) -> NudgeSource:
    found = next((source for source in sources if source.key == key), None)
    if found is None:
        raise NotFoundError("That item can no longer be found; it may have been removed.")
    return found


def mark_item_done(
    sessions: SessionFactory,
    *,
    sources: Sequence[NudgeSource],
    team_id: str,
    source: str,
    item_id: str,
    user_id: str,
    now: datetime,
) -> DoneResult:
    """The *Done* button: hand the item to its source to close; returns what the source did."""
    return _source(sources, source).done(sessions, team_id, item_id, user_id, now)


def snooze_item(
    sessions: SessionFactory,
    *,
    sources: Sequence[NudgeSource],
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
    found = _source(sources, source)
    if found.check_snooze is not None:
        found.check_snooze(sessions, team_id, item_id, now)
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


def forget_expired_snoozes(sessions: SessionFactory, *, now: datetime) -> int:
    """Delete snoozes that ran out before `now` (scheduler housekeeping); returns how many."""
    with transaction(sessions) as session:
        return ledger_rows.delete_expired_snoozes(session, before=now)
