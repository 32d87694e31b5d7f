"""Bad input: inline modal errors, forged button values and metadata, escaping."""

from __future__ import annotations

import pytest

from bot.clock import FixedClock
from bot.escalations import modals, service
from bot.escalations.models import EscalationView
from bot.escalations.render import ACKNOWLEDGE, REASSIGN, REOPEN, RESOLVE, EscalationRef
from storage.db import SessionFactory
from tests.support.escalations import (
    OWNER,
    TEAM,
    dump,
    press,
    raise_escalation,
    setup_roles,
    submit_new,
    submit_reassign,
    submit_resolve,
)
from tests.support.slack import Result, SlackDriver, SlackStandin


def _nothing_stored(sessions: SessionFactory, clock: FixedClock) -> bool:
    found = service.list_escalations(
        sessions, team_id=TEAM, scope="all", user_id=OWNER, now=clock()
    )
    return found == []


def _effects(result: Result) -> list[str]:
    """Slack calls a request caused, apart from Bolt's own auth.test."""
    return [c.method for c in result.calls if c.method != "auth.test"]


def _errors(result: Result) -> dict[str, str]:
    assert isinstance(result.body, dict), result.body
    assert result.body["response_action"] == "errors"
    errors: dict[str, str] = result.body["errors"]
    return errors


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"title": None}, {modals.TITLE}),
        ({"title": "   "}, {modals.TITLE}),
        ({"severity": None}, {modals.SEVERITY}),
        ({"severity": "sev9"}, {modals.SEVERITY}),
        ({"title": None, "severity": None}, {modals.TITLE, modals.SEVERITY}),
        ({"title": "x" * 151}, {modals.TITLE}),
        ({"link": "javascript:alert(1)"}, {modals.LINK}),
        ({"link": "https://evil.example/|<!channel>"}, {modals.LINK}),
    ],
)
def test_new_escalation_modal_errors_are_inline(
    slack: SlackDriver,
    sessions: SessionFactory,
    clock: FixedClock,
    values: dict[str, str | None],
    expected: set[str],
) -> None:
    result = submit_new(slack, **values)
    assert result.status == 200
    errors = _errors(result)
    assert set(errors) == expected
    assert all(message for message in errors.values())
    assert not _effects(result)
    assert _nothing_stored(sessions, clock)


@pytest.mark.parametrize(
    ("root_cause", "corrective_action", "expected"),
    [
        (None, "Renewed it", {modals.ROOT_CAUSE}),
        ("  \n ", "Renewed it", {modals.ROOT_CAUSE}),
        ("Expired certificate", None, {modals.CORRECTIVE_ACTION}),
        (None, None, {modals.ROOT_CAUSE, modals.CORRECTIVE_ACTION}),
    ],
)
def test_resolve_without_root_cause_or_action_is_an_inline_error(
    slack: SlackDriver,
    sessions: SessionFactory,
    clock: FixedClock,
    root_cause: str | None,
    corrective_action: str | None,
    expected: set[str],
) -> None:
    e = raise_escalation(slack, sessions, clock)
    result = submit_resolve(
        slack, e.id, user=OWNER, root_cause=root_cause, corrective_action=corrective_action
    )
    assert set(_errors(result)) == expected
    assert not _effects(result)
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (after.status, after.version) == ("open", e.version)


def test_reassign_without_new_owner_is_an_inline_error(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    result = submit_reassign(slack, e.id, user=OWNER, new_owner=None)
    assert set(_errors(result)) == {modals.NEW_OWNER}


def _other_teams_escalation(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> EscalationView:
    slack.team_id = "T0OTHER"
    try:
        return raise_escalation(slack, sessions, clock)
    finally:
        slack.team_id = TEAM


FORGED = ["{nope", "", "[]", '{"id": "DROP TABLE"}', '{"id": -1}', '{"id": 1, "team": "T0"}']


@pytest.mark.parametrize("action", [ACKNOWLEDGE, REASSIGN, RESOLVE, REOPEN])
@pytest.mark.parametrize("value", [*FORGED, "UNKNOWN", "OTHER_TEAM"])
def test_forged_button_value_is_refused_and_changes_nothing(
    slack: SlackDriver,
    sessions: SessionFactory,
    clock: FixedClock,
    standin: SlackStandin,
    action: str,
    value: str,
) -> None:
    setup_roles(sessions, clock)
    mine = raise_escalation(slack, sessions, clock)
    other = _other_teams_escalation(slack, sessions, clock)
    if value == "UNKNOWN":
        value = EscalationRef(id=other.id + 1000).encode()
    elif value == "OTHER_TEAM":
        value = EscalationRef(id=other.id).encode()
    # Admin of T0001 and the owner of both: still no reach into another team.
    result = slack.click(action, value, user=OWNER)
    assert result.status == 200  # acked, even though the listener refused
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    assert "not valid" in reply.params["text"] or "can't find" in reply.params["text"]
    assert not result.of("chat.update") and not result.of("views.open")
    assert not result.of("chat.postMessage")
    for e, team in ((mine, TEAM), (other, "T0OTHER")):
        after = service.get_escalation(sessions, team_id=team, escalation_id=e.id, now=clock())
        assert (after.status, after.version) == ("open", 1)


@pytest.mark.parametrize("metadata", ["{nope", "", '{"id": 0}', "UNKNOWN", "OTHER_TEAM"])
def test_forged_modal_metadata_is_refused_and_changes_nothing(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, metadata: str
) -> None:
    other = _other_teams_escalation(slack, sessions, clock)
    if metadata == "UNKNOWN":
        metadata = EscalationRef(id=other.id + 1000).encode()
    elif metadata == "OTHER_TEAM":
        metadata = EscalationRef(id=other.id).encode()
    for result in (
        submit_resolve(slack, other.id, user=OWNER, metadata=metadata),
        slack.submit(
            modals.REASSIGN_CALLBACK,
            {modals.NEW_OWNER: {modals.VALUE: {"type": "users_select", "selected_user": "U0NINE"}}},
            private_metadata=metadata,
            user=OWNER,
        ),
    ):
        # Refused before the ack: the modal stays open with the reason under its first
        # field (see bot.slack.errors.guarded); nothing is posted or changed.
        assert result.status == 200
        assert result.body["response_action"] == "errors"
        [reason] = result.body["errors"].values()
        assert "not valid" in reason or "can't find" in reason
        assert _effects(result) == []
    after = service.get_escalation(sessions, team_id="T0OTHER", escalation_id=other.id, now=clock())
    assert (after.status, after.owner_id, after.version) == ("open", OWNER, 1)


def test_garbage_new_escalation_metadata_still_stores_and_posts(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    result = slack.submit(
        modals.NEW_CALLBACK,
        {
            modals.TITLE: {modals.VALUE: {"type": "plain_text_input", "value": "Login broken"}},
            modals.SEVERITY: {
                modals.VALUE: {"type": "static_select", "selected_option": {"value": "sev3"}}
            },
        },
        private_metadata="{garbage",
    )
    # No origin channel and no owner picked: the reporter owns it and gets it by DM.
    assert result.status == 200 and not result.body
    posts = result.of("chat.postMessage")
    assert {p.params["channel"] for p in posts} == {"U0001"}
    [post] = [p for p in posts if p.params.get("blocks")]
    [confirmation] = [p for p in posts if p is not post]
    assert "no channel is set for escalations" in confirmation.params["text"]
    assert "<@U0001> gets it by DM" in confirmation.params["text"]
    # The message itself is the owner's DM (no separate "you own it" DM), and with no
    # channel to show an ephemeral in, the confirmation is a DM too.
    assert len(posts) == 2 and not result.of("chat.postEphemeral")
    e = service.list_escalations(sessions, team_id=TEAM, scope="all", user_id="U0001", now=clock())
    assert [(x.title, x.channel_id, x.message_ts) for x in e] == [
        ("Login broken", post.response["channel"], post.response["ts"])
    ]


HOSTILE = "<!channel> <@U0BOSS> <https://evil.example|click> & co"


def test_user_text_is_escaped_everywhere(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(
        slack, sessions, clock, title=HOSTILE, description=HOSTILE, customer=HOSTILE
    )
    press(slack, ACKNOWLEDGE, e, user=OWNER)
    submit_reassign(slack, e.id, user=OWNER, new_owner="U0NEW")
    submit_resolve(slack, e.id, user="U0NEW", root_cause=HOSTILE, corrective_action=HOSTILE)
    press(slack, ACKNOWLEDGE, e, user="U0NEW")  # stale: refusal names the title? never raw
    slack.command("/escalate", "list all")
    said = [
        c
        for c in standin.calls()
        if c.method in ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
    ]
    assert len(said) >= 8
    for call in said:
        text = dump(call)
        assert "<!channel>" not in text, call
        assert "<@U0BOSS>" not in text and "<https://evil.example|click>" not in text
    updates = [dump(c) for c in standin.calls("chat.update")]
    assert "&lt;!channel&gt; &lt;@U0BOSS&gt;" in updates[-1]
    assert "&amp; co" in updates[-1]


def test_long_command_text_keeps_everything_in_the_modal(slack: SlackDriver) -> None:
    typed = "Payload export " + "very " * 60 + "slow for Acme"
    result = slack.command("/escalate", typed)
    assert result.status == 200  # "payload" in a command's text still reaches the listener
    [opened] = result.of("views.open")
    blocks = {b["block_id"]: b for b in opened.params["view"]["blocks"]}
    title = blocks[modals.TITLE]["element"]["initial_value"]
    assert len(title) <= 150 and title.startswith("Payload export very") and title.endswith("…")
    assert blocks[modals.DESCRIPTION]["element"]["initial_value"] == typed


def test_longest_inputs_fit_slack_limits(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    e = raise_escalation(
        slack,
        sessions,
        clock,
        title="<" * 150,
        customer="&" * 200,
        description=">" * 3000,
        link="https://example.com/" + "a" * 900,
    )
    submit_resolve(slack, e.id, user=OWNER, root_cause="&" * 3000, corrective_action="<" * 3000)
    posted = standin.calls("chat.postMessage") + standin.calls("chat.update")
    assert len(posted) >= 4
    for call in posted:
        assert len(call.params["text"]) <= 3900
        for block in call.params.get("blocks") or []:
            if block["type"] == "section":
                assert len(block.get("text", {}).get("text", "")) <= 3000
                assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
            if block["type"] == "context":
                assert all(len(el["text"]) <= 3000 for el in block["elements"])
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert after.root_cause == "&" * 3000  # stored in full, only the display is trimmed


@pytest.mark.parametrize("forged", ["U0X> <!channel", "C0GENERAL", "<!here>"])
def test_a_forged_owner_is_never_pinged_nor_posted_to(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, forged: str
) -> None:
    """Before: `U0X> <!channel` pinged the channel; `C0GENERAL` got the owner DM posted in it.
    A value that is not a user id is ignored: the escalation process owner takes it."""
    setup_roles(sessions, clock)
    escalation = raise_escalation(slack, sessions, clock, owner=forged)
    assert escalation.owner_id == "U0PROC"
    result_text = " ".join(dump(c) for c in slack.standin.calls())
    assert "<!channel>" not in result_text and "<!here>" not in result_text
    assert not [c for c in slack.standin.calls("chat.postMessage") if c.params["channel"] == forged]


def test_a_root_cause_of_many_short_lines_still_fits_the_message(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    """Before: `> ` was added per line after the cut, a 3,000-character section overflowed,
    slack_sdk raised, the channel message never updated and the user saw an error."""
    setup_roles(sessions, clock)
    escalation = raise_escalation(slack, sessions, clock)
    pasted = "\n".join(f"- {i}" for i in range(1200))  # short lines: quoting doubles them
    result = submit_resolve(
        slack, escalation.id, user=OWNER, root_cause=pasted, corrective_action=pasted
    )
    assert result.status == 200
    [update] = [c for c in standin.calls("chat.update") if "Root cause" in dump(c)][-1:]
    for block in update.params["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= 3000
    stored = service.get_escalation(
        sessions, team_id=TEAM, escalation_id=escalation.id, now=clock()
    )
    assert stored.status == "resolved" and stored.root_cause == pasted
