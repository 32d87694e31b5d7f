"""How listeners reach their dependencies: the middleware puts `Deps` in the Bolt context."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.deps import Deps

DEPS_KEY = "opsloop_deps"


def deps_of(context: BoltContext) -> Deps:
    """The `Deps` of the app that is handling this request."""
    deps: Any = context[DEPS_KEY]
    return deps  # type: ignore[no-any-return]


def team_of(body: dict[str, Any]) -> str:
    """The workspace id of any Slack payload shape."""
    team = body.get("team_id") or body.get("team") or {}
    if isinstance(team, dict):
        team = team.get("id", "")
    if not team:
        team = (
            (body.get("user") or {}).get("team_id", "")
            if isinstance(body.get("user"), dict)
            else ""
        )
    return str(team or "")


def user_of(body: dict[str, Any]) -> str:
    """The acting user's id of any Slack payload shape."""
    if "user_id" in body:
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict):
        return str(user.get("id", ""))
    event = body.get("event")
    if isinstance(event, dict):
        return str(event.get("user", ""))
    return str(user or "")
