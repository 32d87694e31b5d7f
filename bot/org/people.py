"""The people cache: display names, timezones and deactivation from Slack's users.info.

Lookups go through a `FetchPerson` port (the Slack adapter is `bot.org.messages`), or are
queued in the outbox for its sender (listeners never wait on users.info), so
this module never talks to Slack itself. A cached profile is refreshed when older than a day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.org.models import PersonInfo
from bot.outbox import models as outbox
from bot.outbox.service import enqueue
from storage import core
from storage.db import SessionFactory, transaction

STALE_AFTER = timedelta(days=1)


FetchPerson = Callable[[str], PersonInfo | None]


def get_people(
    sessions: SessionFactory, *, team_id: str, user_ids: Iterable[str]
) -> dict[str, PersonInfo]:
    """The cached profiles of `user_ids` (users never seen are missing from the result)."""
    found: dict[str, PersonInfo] = {}
    with transaction(sessions) as session:
        for user_id in set(user_ids):
            person = core.get_person(session, team_id=team_id, user_id=user_id)
            if person is not None:
                found[user_id] = PersonInfo(
                    user_id, person.display_name, person.timezone, person.is_deleted
                )
    return found


def sync_people(
    sessions: SessionFactory,
    *,
    team_id: str,
    user_ids: Iterable[str],
    fetch: FetchPerson,
    now: datetime,
) -> dict[str, PersonInfo]:
    """Refresh profiles unseen or older than a day through `fetch`; return all known ones."""
    wanted = {user_id for user_id in user_ids if user_id}
    with transaction(sessions) as session:
        stale = _stale(session, team_id, wanted, now)
    # Slack is asked outside any transaction: a slow users.info must not hold a lock.
    fetched = [info for info in (fetch(user_id) for user_id in stale) if info is not None]
    for info in fetched:
        record_person(sessions, team_id=team_id, info=info, now=now)
    return get_people(sessions, team_id=team_id, user_ids=wanted)


def _stale(session: Session, team_id: str, user_ids: Iterable[str], now: datetime) -> list[str]:
    """Of `user_ids`, those never seen or seen more than STALE_AFTER ago."""
    stale = []
    for user_id in sorted(set(user_ids)):
        person = core.get_person(session, team_id=team_id, user_id=user_id)
        if person is None or person.refreshed_at is None or now - person.refreshed_at > STALE_AFTER:
            stale.append(user_id)
    return stale


def queue_stale_people(
    sessions: SessionFactory, *, team_id: str, user_ids: Iterable[str], now: datetime
) -> int:
    """Ask the outbox sender to look up the stale profiles of `user_ids` (a listener never
    waits on users.info); how many were queued. The cache is filled when Slack answers."""
    wanted = [user_id for user_id in user_ids if user_id]
    with transaction(sessions) as session:
        stale = _stale(session, team_id, wanted, now)
        lookups = [outbox.person_lookup(f"person:{user_id}", user_id=user_id) for user_id in stale]
        enqueue(session, team_id=team_id, messages=lookups, now=now)
    return len(stale)


def record_person(
    sessions: SessionFactory, *, team_id: str, info: PersonInfo, now: datetime
) -> None:
    """Keep a profile Slack described (or said it does not know: no name, no timezone)."""
    with transaction(sessions) as session:
        core.upsert_person(
            session,
            team_id=team_id,
            user_id=info.user_id,
            display_name=info.display_name,
            timezone=info.timezone,
            is_deleted=info.is_deleted,
            refreshed_at=now,
        )
