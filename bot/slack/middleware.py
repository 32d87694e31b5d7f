"""Global middleware: inject dependencies and drop redelivered events.

Bolt middleware runs before the listener, not around it, so it only injects; it never opens
a session the listener would use.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.deps import Deps
from bot.slack.context import DEPS_KEY, team_of
from bot.slack.events import claim_event_delivery
from bot.slack.mrkdwn import decode_entities
from bot.text import storable

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.middleware(strip_unstorable_text)
    app.middleware(decode_command_text)
    app.middleware(drop_redelivered_events)


# Slack's payloads nest a few levels (view → state → values → block → element → options);
# the request parser already refused absurdly deep JSON.
MAX_DEPTH = 32


def strip_unstorable_text(body: dict[str, Any], next: Callable[[], None]) -> None:
    """Every text in every payload loses NUL bytes and lone surrogates, once, here: neither
    can be stored (PostgreSQL refuses NUL, every driver refuses a lone surrogate) and
    neither is anything a person typed on purpose, so refusing them would only make every
    retry fail the same way."""
    _strip(body, 0)
    next()


def _strip(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return storable(value)
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _strip(item, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _strip(item, depth + 1)
    return value


def decode_command_text(body: dict[str, Any], next: Callable[[], None]) -> None:
    """Slash-command text arrives entity-encoded (`AT&amp;T`); every listener reads it
    decoded, exactly once. Mentions and links stay as Slack's markup (`<@U1|dana>`) for
    the commands that parse them."""
    if isinstance(body.get("command"), str) and isinstance(body.get("text"), str):
        body["text"] = decode_entities(body["text"])
    next()


def refuse_while_stopping(stopping: threading.Event) -> Callable[..., Any]:
    """Once a stop began, a new request is refused unhandled (not acknowledged, so nothing
    is stored and Slack says it failed, or redelivers an event) while the requests already
    running finish and are acknowledged."""

    def _refuse(next: Callable[[], None]) -> BoltResponse | None:
        if stopping.is_set():
            return BoltResponse(status=503, body="stopping")
        next()
        return None

    return _refuse


def inject_deps(deps: Deps) -> Callable[..., Any]:
    """Middleware that makes `deps` available to every listener."""

    def _inject(context: BoltContext, next: Callable[[], None]) -> None:
        context[DEPS_KEY] = deps
        next()

    return _inject


def drop_redelivered_events(
    body: dict[str, Any], context: BoltContext, next: Callable[[], None]
) -> BoltResponse | None:
    """Answer 200 without running listeners when this event id was already handled.

    Slack redelivers an event up to 3 times, possibly to another replica, so the check is
    a unique row in the database rather than an in-memory set.
    """
    event_id = body.get("event_id")
    if body.get("type") != "event_callback" or not event_id:
        next()
        return None
    deps: Deps = context[DEPS_KEY]
    team_id = team_of(body)
    if claim_event_delivery(deps.sessions, team_id=team_id, event_id=event_id, now=deps.clock()):
        next()
        return None
    log.info("dropped redelivered event %s (retry %s)", event_id, context.get("retry_num"))
    return BoltResponse(status=200, body="")
