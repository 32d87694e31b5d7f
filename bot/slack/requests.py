"""Raw HTTP requests from Slack, verified first and only then parsed into Bolt requests.

The signature is checked on the raw bytes before anything is parsed: an unsigned or stale
body is refused with 401 without being looked at, so no forged body can reach a parser.
A signed body that still does not parse as a Slack payload gets a 400, never a 500.

slack-bolt 1.30 treats any form body containing the word "payload" as an interactivity
payload, so `/feedback show payload errors` arrives as an empty body and Bolt answers 404.
`make_bolt_request` re-parses such bodies as the plain form they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.context.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_sdk.signature import SignatureVerifier

# Every request Slack sends has one of these: a slash command's `command`, an interaction's
# `payload` (decoded by Bolt into its `type`), an Events API `type`, or Slack's `ssl_check`.
SLACK_SHAPES = frozenset({"command", "type", "ssl_check"})


class MalformedRequestError(ValueError):
    """A correctly signed body that is not a Slack payload (Slack never sends one)."""


def is_signed_by_slack(signing_secret: str, *, body: bytes, headers: Mapping[str, str]) -> bool:
    """True when `body` carries a valid, fresh (within 5 minutes) Slack signature."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not signing_secret or not timestamp or not signature:
        return False
    try:
        return SignatureVerifier(signing_secret).is_valid(
            body=body, timestamp=timestamp, signature=signature
        )
    except (ValueError, TypeError):  # a timestamp that is not a number
        return False


def parse_signed_request(
    *, body: bytes, headers: Mapping[str, str | Sequence[str]], query: str | None = None
) -> BoltRequest:
    """The Bolt request of a verified body; `MalformedRequestError` when it is not a payload."""
    try:
        text = body.decode("utf-8")
        request = make_bolt_request(body=text, headers=headers, query=query)
    except (ValueError, TypeError, AttributeError, RecursionError) as exc:
        # JSON that is not an object, `payload=` that is not JSON, nesting deeper than
        # Python's parser goes: nothing Slack sends.
        raise MalformedRequestError(type(exc).__name__) from None
    if not isinstance(request.body, dict) or not SLACK_SHAPES.intersection(request.body):
        raise MalformedRequestError("neither a command, an interaction nor an event")
    problem = misshapen_part(request.body)
    if problem:
        raise MalformedRequestError(problem)
    return request


# The parts of an interaction payload that Slack always sends as objects (or null), and
# that Bolt's matchers, authorization and our handlers index into.
INTERACTION_OBJECTS = ("team", "user", "channel", "enterprise", "container", "view", "message")


def misshapen_part(body: Mapping[str, Any]) -> str | None:
    """What in a Slack-shaped payload is not shaped as Slack sends it; None when nothing is.

    Only the parts read before a listener can refuse them are checked, so a body Slack
    never sends gets a 400 instead of a TypeError inside Bolt (a 500 and a traceback).
    """
    kind = body.get("type")
    if "command" in body or kind in ("url_verification", "app_rate_limited") or "ssl_check" in body:
        return None
    if kind == "event_callback":
        if not isinstance(body.get("event"), dict):
            return "an event_callback whose event is not an object"
        authorizations = body.get("authorizations", [])
        if not isinstance(authorizations, list) or not all(
            isinstance(a, dict) for a in authorizations
        ):
            return "authorizations that are not a list of objects"
        return None
    for part in INTERACTION_OBJECTS:
        if body.get(part) is not None and not isinstance(body[part], dict):
            return f"an interaction whose {part} is not an object"
    if kind in ("block_actions", "interactive_message"):
        actions = body.get("actions")
        if not isinstance(actions, list) or not all(
            isinstance(a, dict) and isinstance(a.get("action_id", ""), str) for a in actions
        ):
            return "actions that are not a list of objects with a text action_id"
        if kind == "block_actions" and not all("action_id" in a for a in actions):
            return "a block action without an action_id"
    if kind in ("view_submission", "view_closed"):
        view = body.get("view")
        if not isinstance(view, dict) or not isinstance(view.get("type"), str):
            return "a view without a type"
    return None


def make_bolt_request(
    *, body: str, headers: Mapping[str, str | Sequence[str]], query: str | None = None
) -> BoltRequest:
    """A BoltRequest for a raw HTTP body, correct even when the text says "payload"."""
    request = BoltRequest(body=body, headers=dict(headers), query=query)
    if request.body or not body or body.lstrip().startswith("{"):
        return request
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in form:
        return request  # a real interactivity payload that Bolt failed to decode
    parsed: dict[str, Any] = form
    request.body = parsed
    request.context = build_context(BoltContext({}), parsed)
    return request
