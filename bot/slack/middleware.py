"""The one global middleware: refuse while stopping, inject dependencies, clean the text,
drop redelivered events.

Bolt middleware runs before the listener, not around it, so it only injects; it never opens
a session the listener would use. The steps run in one middleware rather than one each, and
it is a `Middleware` object: Bolt inspects a middleware function's signature and builds its
arguments on every request (about 30-50 µs each, measured on the `/feedback` ack path), and
the steps' order is clearer written out once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.deps import Deps
from bot.slack.client import stepping_aside
from bot.slack.context import DEPS_KEY, team_of
from bot.slack.events import claim_event_delivery
from bot.slack.mrkdwn import decode_entities
from bot.slack.turns import SteppingAsideRespond
from bot.text import storable

log = logging.getLogger(__name__)


def register(app: App, deps: Deps, *, stopping: threading.Event | None = None) -> None:
    """Every request passes `PrepareRequest` before any listener."""
    app.middleware(PrepareRequest(deps, stopping=stopping))


class PrepareRequest(Middleware):
    """Refuse while stopping, inject dependencies, clean the text, drop redelivered events.

    A `Middleware` object rather than a function: Bolt calls its `process` with the request
    itself, where a function's arguments are built from its signature on every request."""

    def __init__(self, deps: Deps, *, stopping: threading.Event | None = None) -> None:
        self.deps = deps
        self.stopping = stopping

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if self.stopping is not None and self.stopping.is_set():
            # First, so a request refused while stopping has claimed nothing (an event's
            # redelivery must still run).
            return refused_while_stopping()
        body, context = req.body, req.context
        context[DEPS_KEY] = self.deps
        client = context.client
        if client is not None:
            # A request waiting on Slack gives up its turn (bot.slack.turns).
            context["client"] = stepping_aside(client)
            if context.response_url:
                context["respond"] = SteppingAsideRespond(
                    response_url=context.response_url, proxy=client.proxy, ssl=client.ssl
                )
        strip_unstorable_text(body)
        decode_command_text(body)
        if is_redelivered_event(body, self.deps, retry_num=context.get("retry_num")):
            return BoltResponse(status=200, body="")
        return next()


# Slack's payloads nest a few levels (view → state → values → block → element → options);
# the request parser already refused absurdly deep JSON.
MAX_DEPTH = 32


def strip_unstorable_text(body: dict[str, Any]) -> None:
    """Every text in every payload loses NUL bytes and lone surrogates, once, here: neither
    can be stored (PostgreSQL refuses NUL, every driver refuses a lone surrogate) and
    neither is anything a person typed on purpose, so refusing them would only make every
    retry fail the same way."""
    _strip(body, 0)


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


def decode_command_text(body: dict[str, Any]) -> None:
    """Slash-command text arrives entity-encoded (`AT&amp;T`); every listener reads it
    decoded, exactly once. Mentions and links stay as Slack's markup (`<@U1|dana>`) for
    the commands that parse them."""
    if isinstance(body.get("command"), str) and isinstance(body.get("text"), str):
        body["text"] = decode_entities(body["text"])


def refused_while_stopping() -> BoltResponse:
    """Once a stop began, a new request is refused unhandled (not acknowledged, so nothing
    is stored and Slack says it failed, or redelivers an event) while the requests already
    running finish and are acknowledged."""
    return BoltResponse(status=503, body="stopping")


def is_redelivered_event(body: dict[str, Any], deps: Deps, *, retry_num: object = None) -> bool:
    """True when this event id was already handled: it is answered 200 without running
    listeners.

    Slack redelivers an event up to 3 times, possibly to another replica, so the check is
    a unique row in the database rather than an in-memory set.
    """
    event_id = body.get("event_id")
    if body.get("type") != "event_callback" or not event_id:
        return False
    team_id = team_of(body)
    if claim_event_delivery(deps.sessions, team_id=team_id, event_id=event_id, now=deps.clock()):
        return False
    log.info("dropped redelivered event %s (retry %s)", event_id, retry_num)
    return True
