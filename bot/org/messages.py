"""The people cache kept fresh from Slack: profiles fetched through `bot.slack.people`."""

from __future__ import annotations

from collections.abc import Iterable

from slack_sdk import WebClient

from bot.deps import Deps
from bot.org.models import PersonInfo
from bot.org.people import FetchPerson, sync_people
from bot.slack.people import lookup_user


def slack_person_fetcher(client: WebClient) -> FetchPerson:
    """A `FetchPerson` asking Slack's users.info. An id Slack does not know is cached with
    no name and no timezone (the team's applies) until the profile is stale again."""

    def fetch(user_id: str) -> PersonInfo | None:
        user = lookup_user(client, user_id)
        if user is None:
            return None
        return PersonInfo(user.user_id, user.display_name, user.timezone, user.deleted)

    return fetch


def refresh_people(deps: Deps, *, team_id: str, user_ids: Iterable[str]) -> dict[str, PersonInfo]:
    """Refresh stale cached profiles of `user_ids` from Slack; return every known one."""
    return sync_people(
        deps.sessions,
        team_id=team_id,
        user_ids=user_ids,
        fetch=slack_person_fetcher(deps.client),
        now=deps.clock(),
    )
