"""The Slack side of the people cache: users.info behind the `FetchPerson` port."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.services.people import FetchPerson, PersonInfo, sync_people

log = logging.getLogger(__name__)


def slack_person_fetcher(client: WebClient) -> FetchPerson:
    """A `FetchPerson` asking Slack's users.info; None when Slack cannot say."""

    def fetch(user_id: str) -> PersonInfo | None:
        try:
            response = client.users_info(user=user_id)
        except SlackApiError as exc:
            error = exc.response.get("error")
            level = logging.INFO if error == "user_not_found" else logging.WARNING
            log.log(level, "users.info %s failed: %s", user_id, error)
            return None
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or user_id
        )
        return PersonInfo(user_id, str(name), user.get("tz"), bool(user.get("deleted")))

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
