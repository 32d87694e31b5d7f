"""Input bounds, once at the boundary: NUL bytes and lone surrogates in any payload are
dropped before a listener sees them, and ids past the integer range are "does not exist",
never a database error or "please try again"."""

from __future__ import annotations

import json

import pytest

from bot.clock import FixedClock
from bot.escalations.render import ACKNOWLEDGE
from bot.feedback.render import EDIT_ACTION
from bot.feedback.service import list_feedback_records
from bot.nudges.render import DONE_ACTION, ItemRef
from storage.db import SessionFactory
from tests.support.escalations import (
    ORIGIN,
    REPORTER,
    only_escalation,
    setup_roles,
    submit_new,
)
from tests.support.playbook import TEAM
from tests.support.slack import SlackDriver, SlackStandin

HOSTILE = "Checkout\x00 fails \ud800for EU cards"


def test_nul_and_lone_surrogates_in_a_modal_are_dropped_and_the_rest_stored(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    result = submit_new(slack, title=HOSTILE, description="line\x00one \udfffand two")
    assert result.status == 200, result.body
    e = only_escalation(sessions, clock)
    assert e.title == "Checkout fails for EU cards"
    assert e.description == "lineone and two"
    assert "went wrong" not in json.dumps([c.params for c in standin.calls()])


def test_nul_in_a_command_is_dropped(slack: SlackDriver) -> None:
    # (a lone surrogate cannot travel in a form-encoded command: Slack sends UTF-8)
    result = slack.command("/feedback", "Acme:\x00 export broken")
    assert "Logged feedback" in result.answer.params["text"]
    assert "\x00" not in result.reply_text and "Acme" in result.reply_text


def test_bidi_overrides_are_dropped_from_what_is_stored_and_written_back(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    """Before, a customer typed as "\u202eAcme" was stored and shown with the override
    open, reversing the rest of the receipt's line, the App Home's and `/feedback recent`."""
    result = slack.command("/feedback", "\u202eAcme\u202c: export \u2066broken\u2069 #sso")
    assert "Logged feedback" in result.reply_text
    [record] = list_feedback_records(sessions, team_id=TEAM, since=None)
    assert (record.customer, record.text) == ("Acme", "export broken")
    assert not set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") & set(
        result.reply_text
    )


@pytest.mark.parametrize("invisible", ["\u200f\u202e", "\u200b", "\u200e \u2060"])
def test_feedback_of_only_invisible_characters_opens_the_form_and_stores_nothing(
    slack: SlackDriver, sessions: SessionFactory, invisible: str
) -> None:
    """Before, `/feedback` with only a right-to-left mark and an override stored a record
    whose text showed as nothing."""
    result = slack.command("/feedback", invisible)
    assert result.status == 200
    assert result.of("views.open")
    assert list_feedback_records(sessions, team_id=TEAM, since=None) == []


@pytest.mark.parametrize("value", ["99999999999999999999", "2147483648", "0", "-1", "1e3"])
def test_a_forged_feedback_id_is_not_a_feedback_item(slack: SlackDriver, value: str) -> None:
    result = slack.click(EDIT_ACTION, value)
    assert result.status == 200
    assert "does not point at a feedback item" in result.reply_text
    assert "went wrong" not in result.reply_text


@pytest.mark.parametrize("forged", ['{"id": 99999999999999999999}', '{"id": 2147483648}'])
def test_an_escalation_id_past_the_integer_range_is_refused(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, forged: str
) -> None:
    setup_roles(sessions, clock)
    result = slack.click(ACKNOWLEDGE, forged, user=REPORTER, channel=ORIGIN)
    assert result.status == 200
    assert "That escalation button is not valid" in result.reply_text
    assert "went wrong" not in result.reply_text


@pytest.mark.parametrize(
    ("source", "item"), [("checklist", "99999999999999999999"), ("escalation", "9" * 30 + ":ack")]
)
def test_a_nudge_done_with_an_id_past_the_integer_range_changes_nothing(
    slack: SlackDriver, source: str, item: str
) -> None:
    result = slack.click(DONE_ACTION, ItemRef(source, item).to_value())
    assert result.status == 200
    assert "does not exist" in result.reply_text or "no longer be found" in result.reply_text
    assert "went wrong" not in result.reply_text
