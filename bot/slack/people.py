"""users.info and users.lookupByEmail: the one adapter for Slack's user profiles."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlackUser:
    """What Opsloop keeps of a Slack profile. `known` is False for an id Slack does not have
    (`user_not_found`): worth remembering, so it is not asked about at every tick."""

    user_id: str
    display_name: str
    timezone: str | None
    deleted: bool
    known: bool = True


def lookup_user(client: WebClient, user_id: str) -> SlackUser | None:
    """The user's profile; None when Slack could not answer (an error, a timeout).

    A deactivated user comes back with `deleted` set, an id Slack does not know with
    `known` False; callers cache both. None is never cached: the next caller asks again.
    """
    try:
        response = client.users_info(user=user_id)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "user_not_found":
            log.info("users.info %s: user_not_found", user_id)
            return SlackUser(user_id, "", None, deleted=False, known=False)
        log.warning("users.info %s failed: %s", user_id, error)
        return None
    except OSError as exc:  # timed out or dropped: ask again next time
        log.warning("users.info %s: no answer from Slack (%r)", user_id, exc)
        return None
    return slack_user(user_id, response.get("user") or {})


def slack_user(user_id: str, user: dict[str, object]) -> SlackUser:
    """A users.info `user` object as Opsloop keeps it."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    assert isinstance(profile, dict)
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user_id
    )
    timezone = user.get("tz")
    return SlackUser(
        user_id, str(name), str(timezone) if timezone else None, bool(user.get("deleted"))
    )


class EmailLookupError(Exception):
    """Slack could not say who has an e-mail address (unreachable, a missing scope, …)."""


def lookup_user_id_by_email(client: WebClient, email: str) -> str | None:
    """The user id of the Slack user with `email`; None when no user has it.

    Raises `EmailLookupError` when Slack cannot answer, so a caller never mistakes an
    outage for an unknown address.
    """
    try:
        response = client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "users_not_found":
            return None
        raise EmailLookupError(f"Slack answered {error}") from None
    except OSError as exc:  # refused, timed out or dropped
        raise EmailLookupError(f"Slack could not be reached ({exc})") from None
    user = response.get("user") or {}
    user_id = user.get("id") if isinstance(user, dict) else None
    return str(user_id) if user_id else None
