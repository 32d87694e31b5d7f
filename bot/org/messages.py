"""The people cache kept fresh from Slack: profiles fetched through `bot.slack.people`."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient

from bot.deps import Deps
from bot.org.models import PersonInfo
from bot.org.people import FetchPerson, record_person
from bot.slack.people import SlackUser, lookup_user


def slack_person_fetcher(client: WebClient) -> FetchPerson:
    """A `FetchPerson` asking Slack's users.info. An id Slack does not know is cached with
    no name and no timezone (the team's applies) until the profile is stale again."""

    def fetch(user_id: str) -> PersonInfo | None:
        user = lookup_user(client, user_id)
        if user is None:
            return None
        return person_info(user)

    return fetch


def person_recorder(deps: Deps) -> Callable[[str, SlackUser], None]:
    """What the outbox sender does with a profile it looked up: keep it in the cache."""

    def record(team_id: str, user: SlackUser) -> None:
        info = person_info(user)
        record_person(deps.sessions, team_id=team_id, info=info, now=deps.clock())

    return record


def person_info(user: SlackUser) -> PersonInfo:
    """A Slack profile as the people cache keeps it. An id Slack does not know
    (`user_not_found`: mistyped, or from another workspace) is kept as not active, like a
    deactivated account: nobody can be nudged or DMed there, and `/ops status` flags the
    processes and KPIs such an id owns."""
    return PersonInfo(
        user.user_id, user.display_name, user.timezone, user.deleted or not user.known
    )
