"""Who and where a request is: its `Deps`, the installed workspace, the acting user."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.deps import Deps
from bot.ids import is_team_id, is_user_id

DEPS_KEY = "opsloop_deps"


def deps_of(context: BoltContext) -> Deps:
    """The `Deps` of the app that is handling this request."""
    deps: Any = context[DEPS_KEY]
    return deps  # type: ignore[no-any-return]


def team_of(body: dict[str, Any]) -> str:
    """The workspace the app is installed in, for any Slack payload shape; "" if none.

    Everything Opsloop stores is filed under it. It is not always `team.id`: a partner's
    user in a Slack Connect channel sends their own workspace there, and the installed one
    comes as `view.app_installed_team_id` (modals) or `authorizations[0]` (events); an
    org-wide install sends `team: null` and files everything under the org (`enterprise`).
    """
    for candidate in _installed_team_candidates(body):
        if is_team_id(candidate):
            return str(candidate)
    return ""


def _installed_team_candidates(body: dict[str, Any]) -> list[object]:
    view: dict[str, Any] = body["view"] if isinstance(body.get("view"), dict) else {}
    candidates: list[object] = [view.get("app_installed_team_id")]
    authorizations = body.get("authorizations")
    if isinstance(authorizations, list) and authorizations and isinstance(authorizations[0], dict):
        first = authorizations[0]
        if first.get("is_enterprise_install"):
            candidates.append(first.get("enterprise_id"))
        candidates.append(first.get("team_id"))
    if body.get("is_enterprise_install") in (True, "true"):
        enterprise = body.get("enterprise")
        candidates.append(
            enterprise.get("id") if isinstance(enterprise, dict) else body.get("enterprise_id")
        )
    team = body.get("team")
    user: dict[str, Any] = body["user"] if isinstance(body.get("user"), dict) else {}
    candidates += [
        body.get("team_id"),
        team.get("id") if isinstance(team, dict) else team,
        user.get("team_id"),
        view.get("team_id"),
    ]
    return candidates


def user_of(body: dict[str, Any]) -> str:
    """The acting user's id of any Slack payload shape; "" when it is not a user id.

    A value that is not shaped like a user id (a forged body) is never used as a person.
    """
    candidate: object = ""
    if "user_id" in body:
        candidate = body["user_id"]
    elif isinstance(user := body.get("user"), dict):
        candidate = user.get("id", "")
    elif isinstance(event := body.get("event"), dict):
        candidate = event.get("user", "")
    else:
        candidate = body.get("user") or ""
    return str(candidate) if is_user_id(candidate) else ""


def clicked_message(body: dict[str, Any]) -> tuple[str, str]:
    """(channel id, message ts) of the message a button or menu was used in; "" for what
    the payload does not say (a click in a modal has neither)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts") or ""
    return str(channel), str(ts)
