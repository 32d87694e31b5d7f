"""SLA clocks live: what the scheduler queues, every minute, for clocks due soon or breached.

For every unresolved escalation of a team, at `now`:

- a running clock that entered its *due soon* window gets its channel message refreshed
  once (outbox key `sla-due-soon:<id>:<clock>`);
- a running clock past its deadline gets its message refreshed to *breached* once
  (`sla-breach:<id>:<clock>`), and then each level of the team's escalation policy is
  brought in when its delay has passed: the owner at once, the escalation process owner,
  then the admins. A level is a thread note on the message (`sla-breach:<id>:<clock>:<level>`)
  and a DM to each person it brings in (`…:<level>:<user id>`).

Every alert is an outbox row under a unique key inserted in the same transaction that
decides it is due, so two schedulers (or two ticks) store one row each: an alert goes out
once per clock and level, across replicas and restarts. Everything is computed from the
database on each run, so a tick missed while the scheduler was down is made up by the next.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import periods
from bot.escalations.rows import clocks_of
from bot.escalations.service import MESSAGE_SUBJECT, message_key, store_has_message
from bot.escalations.sla import (
    BREACH_LEVELS,
    BreachLevel,
    ClockState,
    EscalationPolicy,
    SlaClock,
)
from bot.escalations.slas import get_escalation_policy
from bot.org import service as directory
from bot.org import team_settings
from bot.org.service import ESCALATION_PROCESS
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from storage import escalations as store
from storage import org
from storage.db import SessionFactory, transaction
from storage.escalations import UNRESOLVED
from storage.models.escalations import Escalation
from storage.outbox import exists

# Subject of an alert, rendered when sent: `escalation-breach:<id>:<clock>:<level>:<where>`
# with <where> `dm:<user id>` (the DM to one person) or `thread` (the note on the message).
BREACH_SUBJECT = "escalation-breach"
# A clock that breached longer ago than this is left to the daily nudges: a scheduler started
# on an old database does not page everyone about last month.
CATCH_UP = timedelta(days=7)


def breach_key(escalation_id: int, clock: str, level: str | None = None) -> str:
    """The outbox key of a breach's message refresh (no level) or of one level's alert."""
    base = f"sla-breach:{escalation_id}:{clock}"
    return base if level is None else f"{base}:{level}"


def due_soon_key(escalation_id: int, clock: str) -> str:
    return f"sla-due-soon:{escalation_id}:{clock}"


@dataclass(frozen=True)
class SlaAlert:
    """One level of a breach brought in by a tick (for logs and tests)."""

    team_id: str
    escalation_id: int
    clock: str
    level: BreachLevel
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class SlaTickResult:
    refreshed: int = 0
    alerts: tuple[SlaAlert, ...] = ()


def queue_sla_updates(
    sessions: SessionFactory, *, team_id: str, now: datetime, default_timezone: str = "UTC"
) -> SlaTickResult:
    """Queue every due-soon refresh, breach refresh and policy alert that is due at `now`."""
    policy = get_escalation_policy(sessions, team_id=team_id)
    tz = periods.zone(directory.team_timezone(sessions, team_id=team_id, default=default_timezone))
    weekdays = periods.parse_weekdays(
        directory.get_team_setting(sessions, team_id=team_id, key=team_settings.NUDGE_WEEKDAYS),
        team_settings.DEFAULT_NUDGE_WEEKDAYS,
    )
    is_weekday = now.astimezone(tz).weekday() in weekdays
    refreshed = 0
    alerts: list[SlaAlert] = []
    with transaction(sessions) as session:
        for row in store.list_escalations(session, team_id=team_id, statuses=UNRESOLVED):
            if not store_has_message(session, row):
                continue  # stored before the outbox and never posted: nothing to update
            for clock in clocks_of(row, now):
                if clock.stopped_at is not None:
                    continue
                if clock.state is ClockState.DUE_SOON:
                    refreshed += _queue_refresh(session, row, due_soon_key(row.id, clock.kind), now)
                elif clock.breached and now - clock.due_at <= CATCH_UP:
                    refreshed += _queue_refresh(session, row, breach_key(row.id, clock.kind), now)
                    alerts += _queue_levels(session, row, clock, policy, now, is_weekday)
    return SlaTickResult(refreshed, tuple(alerts))


def _queue_refresh(session: Session, row: Escalation, key: str, now: datetime) -> int:
    """Refresh the message once under `key` (not a replacing update: a repeat adds nothing)."""
    if exists(session, team_id=row.team_id, key=key):
        return 0
    refresh = outbox.refresh(
        key,
        subject=f"{MESSAGE_SUBJECT}:{row.id}",
        of=message_key(row.id),
        channel=row.channel_id or "",
        ts=row.message_ts,
    )
    once = dataclasses.replace(refresh, replace=False)
    return enqueue(session, team_id=row.team_id, messages=[once], now=now)


def _recipients(session: Session, row: Escalation, level: BreachLevel) -> list[str]:
    if level == "owner":
        return [row.owner_id]
    process = org.get_process(session, team_id=row.team_id, key=ESCALATION_PROCESS)
    process_owner = process.owner_id if process else None
    if level == "process_owner":
        return [process_owner] if process_owner and process_owner != row.owner_id else []
    told = {row.owner_id, process_owner}
    return [a for a in org.list_admins(session, team_id=row.team_id) if a not in told]


def _queue_levels(
    session: Session,
    row: Escalation,
    clock: SlaClock,
    policy: EscalationPolicy,
    now: datetime,
    is_weekday: bool,
) -> list[SlaAlert]:
    severity = policy.for_severity(row.severity)
    if severity.weekdays_only and not is_weekday:
        return []  # the message shows *breached*; the alerts wait for the next weekday
    queued = []
    for level in BREACH_LEVELS:
        delay = severity.delay(level)
        if delay is None or now < clock.due_at + delay:
            continue
        key = breach_key(row.id, clock.kind, level)
        if exists(session, team_id=row.team_id, key=key):
            continue
        people = _recipients(session, row, level)
        if not people:
            continue  # nobody holds that role yet: looked at again at the next tick
        ident = f"{row.id}:{clock.kind}:{level}"
        messages: list[Outgoing] = [
            outbox.rendered_post(
                key,
                row.channel_id or "",
                subject=f"{BREACH_SUBJECT}:{ident}:thread",
                thread_of=message_key(row.id),
                thread_ts=row.message_ts,
            ),
            *(
                outbox.rendered_post(
                    f"{key}:{person}", person, subject=f"{BREACH_SUBJECT}:{ident}:dm:{person}"
                )
                for person in people
            ),
        ]
        if enqueue(session, team_id=row.team_id, messages=messages, now=now):
            queued.append(SlaAlert(row.team_id, row.id, clock.kind, level, tuple(people)))
    return queued


def teams_with_open_escalations(sessions: SessionFactory) -> list[str]:
    """Teams whose SLA clocks run (any unresolved escalation), whatever else they set up."""
    with transaction(sessions) as session:
        return store.list_team_ids_with_unresolved(session)


def alert_recipients(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, level: BreachLevel
) -> list[str]:
    """Who a level of a breach of this escalation brings in (for its thread note)."""
    with transaction(sessions) as session:
        row = store.get_escalation(session, team_id=team_id, escalation_id=escalation_id)
        return [] if row is None else _recipients(session, row, level)
