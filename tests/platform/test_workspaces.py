"""Everything is filed under the workspace the app is installed in, whatever shape the
payload comes in: Slack Connect (a partner's user in a shared channel) and org-wide installs
name another team in `team`; forged ids are never used as a workspace or a person."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.deps import Deps
from bot.feedback.service import list_feedback_records
from bot.slack.context import team_of, user_of
from storage.db import SessionFactory
from tests.feedback.test_modal import CALLBACK, form, open_modal
from tests.support.playbook import ADMIN, load_small_playbook
from tests.support.slack import SlackDriver

OURS = "T0001"  # the driver's workspace: where the app is installed
PARTNER = "T0PARTNER"


def test_a_slack_connect_modal_is_filed_under_the_installed_workspace(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    """Before: filed under the partner's team, so `/feedback recent` never showed it."""
    meta = open_modal(slack)
    result = slack.submit(
        CALLBACK, form("Shared-channel export bug"), private_metadata=meta,
        user="U0PARTNERX", partner_team_id=PARTNER,
    )  # fmt: skip
    assert result.status == 200
    [record] = list_feedback_records(sessions, team_id=None, since=None)
    assert record.team_id == OURS and record.reporter_id == "U0PARTNERX"
    reply = slack.command("/feedback", "recent").answer
    assert "Shared-channel export bug" in reply.params["text"]


def test_an_org_wide_install_files_under_the_org(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    meta = open_modal(slack)
    slack.submit(CALLBACK, form("Org-wide"), private_metadata=meta, org_id="E0ORG")
    [record] = list_feedback_records(sessions, team_id=None, since=None)
    assert record.team_id == "E0ORG"


def test_a_shared_channel_event_is_handled_for_the_installed_workspace(
    slack: SlackDriver,
) -> None:
    """Events name the installed workspace in `authorizations`, not in `team_id`."""
    event = {"type": "app_home_opened", "user": "U0001", "channel": "D1", "tab": "home",
             "event_ts": "1700000000.000100"}  # fmt: skip
    first = slack.event(event, event_id="EvShared1", partner_team_id=PARTNER)
    assert len(first.of("views.publish")) == 1
    # the redelivery is recognised under the same workspace, wherever it is named
    again = slack.event(event, event_id="EvShared1")
    assert again.of("views.publish") == []


BODIES: list[tuple[dict[str, Any], str]] = [
    ({"team_id": "T0A", "user_id": "U0A"}, "T0A"),  # a slash command
    ({"team": {"id": "T0B"}, "user": {"id": "U0B", "team_id": "T0B"}}, "T0B"),
    (
        {"team": {"id": PARTNER}, "view": {"app_installed_team_id": "T0C", "team_id": PARTNER}},
        "T0C",
    ),
    ({"team_id": PARTNER, "authorizations": [{"team_id": "T0D"}]}, "T0D"),
    (
        {
            "team_id": PARTNER,
            "authorizations": [
                {"team_id": None, "enterprise_id": "E0F", "is_enterprise_install": True}
            ],
        },
        "E0F",
    ),
    (
        {
            "team": None,
            "enterprise": {"id": "E0E"},
            "is_enterprise_install": True,
            "user": {"id": "U0E", "team_id": "T0WORK"},
        },
        "E0E",
    ),
    ({"team": None, "user": {"id": "U0G", "team_id": "T0G"}}, "T0G"),
    ({"team_id": "<!channel>"}, ""),
    ({"team": {"id": "C0GENERAL"}}, ""),
    ({}, ""),
]


@pytest.mark.parametrize(("body", "team"), BODIES)
def test_team_of_every_payload_shape(body: dict[str, Any], team: str) -> None:
    assert team_of(body) == team


@pytest.mark.parametrize(
    ("body", "user"),
    [
        ({"user_id": "U0AB12"}, "U0AB12"),
        ({"user": {"id": "W0ENT1"}}, "W0ENT1"),
        ({"event": {"user": "U0EV"}}, "U0EV"),
        ({"user_id": "U0X> <!channel"}, ""),
        ({"user": {"id": "C0GENERAL"}}, ""),
        ({"user": "U" * 80}, ""),
        ({}, ""),
    ],
)
def test_user_of_refuses_what_is_not_a_user_id(body: dict[str, Any], user: str) -> None:
    assert user_of(body) == user


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("AT&amp;T: export &lt;5 MB &gt; 2", "AT&T: export <5 MB > 2"),
        ("&amp;lt; is how you write <", "&lt; is how you write <"),  # decoded once only
        ("plain", "plain"),
    ],
)
def test_command_text_is_decoded_once(raw: str, typed: str) -> None:
    from bot.slack.mrkdwn import decode_entities

    assert decode_entities(raw) == typed


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Ask <@U0DANA|dana> in <#C0GEN|general>", "Ask @dana in #general"),
        (
            "see <https://status.example|status page> now",
            "see status page (https://status.example) now",
        ),
        ("<https://x.example>", "https://x.example"),
        ("<!here> ping &amp; <!subteam^S1|@design>", "@here ping & @design"),
        ("due <!date^1700000000^{date}|Nov 14>", "due Nov 14"),
        ("<@U0BARE>", "@U0BARE"),
    ],
)
def test_message_markup_is_stored_as_plain_text(raw: str, stored: str) -> None:
    from bot.slack.mrkdwn import plain_text

    assert plain_text(raw) == stored


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/checklist", "start <!channel>"),
        ("/kpi", "show <!channel>"),
        ("/kpi", "log activation <!here>"),
        ("/ops", "owner <!channel> <@U0NEW1>"),
        ("/checklist", "list <!everyone>"),
    ],
)
def test_errors_quote_what_was_typed_escaped(
    slack: SlackDriver, deps: Deps, command: str, text: str
) -> None:
    """Before: `There is no checklist template called <!channel>` pinged the channel."""
    load_small_playbook(deps.sessions, deps.clock())
    result = slack.command(command, text, user=ADMIN)
    reply = result.answer
    said = reply.params["text"] + json.dumps(reply.params.get("blocks") or [])
    for ping in ("<!channel>", "<!here>", "<!everyone>"):
        assert ping not in said
    assert "&lt;!" in said
