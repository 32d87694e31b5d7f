"""Request verification: only correctly signed, fresh requests reach a listener."""

from __future__ import annotations

import time

from slack_sdk.signature import Clock, SignatureVerifier

from tests.conftest import SIGNING_SECRET
from tests.support.slack import SlackDriver, payloads


def _ops_help_body(slack: SlackDriver) -> str:
    return payloads.slash_command(
        "/ops",
        "help",
        team_id="T0001",
        user_id="U0001",
        channel_id="C0001",
        response_url=slack.standin.response_url("x"),
    )


class _FrozenClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slack_published_test_vector() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        "channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        "command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
        "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.4744"
        "5629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    # our signer (used by the harness) and the verifier Bolt uses both agree with Slack
    assert payloads.signature(secret, "1531420618", body) == expected
    verifier = SignatureVerifier(secret, clock=_FrozenClock(1531420618 + 10))
    assert verifier.is_valid(body=body, timestamp="1531420618", signature=expected)
    assert not verifier.is_valid(body=body + "x", timestamp="1531420618", signature=expected)


def test_correctly_signed_request_is_handled(slack: SlackDriver) -> None:
    result = slack.send(_ops_help_body(slack), content_type=payloads.FORM)
    assert result.status == 200
    assert result.replies


def test_unsigned_request_is_rejected(slack: SlackDriver) -> None:
    result = slack.send(
        _ops_help_body(slack),
        content_type=payloads.FORM,
        headers={"content-type": payloads.FORM},
    )
    assert result.status == 401
    assert result.calls == []


def test_wrongly_signed_request_is_rejected(slack: SlackDriver) -> None:
    body = _ops_help_body(slack)
    headers = payloads.signed_headers("not-the-secret", body, content_type=payloads.FORM)
    result = slack.send(body, content_type=payloads.FORM, headers=headers)
    assert result.status == 401
    assert result.calls == []


def test_tampered_body_is_rejected(slack: SlackDriver) -> None:
    body = _ops_help_body(slack)
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.FORM)
    result = slack.send(body.replace("help", "owners"), content_type=payloads.FORM, headers=headers)
    assert result.status == 401


def test_stale_request_is_rejected_even_when_signed(slack: SlackDriver) -> None:
    result = slack.send(
        _ops_help_body(slack), content_type=payloads.FORM, timestamp=time.time() - 301
    )
    assert result.status == 401
    assert result.calls == []


def test_command_text_containing_payload_is_handled(slack: SlackDriver) -> None:
    """slack-bolt 1.30 parses any form body containing "payload" as interactivity (404)."""
    result = slack.command("/ops", "show payload errors")
    assert result.status == 200
    reply = result.answer
    assert "show payload errors" in reply.params["text"]
