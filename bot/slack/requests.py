"""Turning raw HTTP requests into Bolt requests, with slack-bolt 1.30's form parser fixed.

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
