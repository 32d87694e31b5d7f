"""The people cache: display names, timezones and deactivation from Slack's users.info.

Lookups go through a `FetchPerson` port (the Slack adapter lives in `bot.people_sync`), so
this module never talks to Slack itself. A cached profile is refreshed when older than a day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.org.models import PersonInfo
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
    stale: list[str] = []
    with transaction(sessions) as session:
        for user_id in sorted(wanted):
            person = core.get_person(session, team_id=team_id, user_id=user_id)
            if person is None or person.refreshed_at is None:
                stale.append(user_id)
                continue
            if now - person.refreshed_at > STALE_AFTER:
                stale.append(user_id)
    # Slack is asked outside any transaction: a slow users.info must not hold a lock.
    fetched = [info for info in (fetch(user_id) for user_id in stale) if info is not None]
    if fetched:
        with transaction(sessions) as session:
            for info in fetched:
                core.upsert_person(
                    session,
                    team_id=team_id,
                    user_id=info.user_id,
                    display_name=info.display_name,
                    timezone=info.timezone,
                    is_deleted=info.is_deleted,
                    refreshed_at=now,
                )
    return get_people(sessions, team_id=team_id, user_ids=wanted)
