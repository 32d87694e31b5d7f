"""Closed loop: a detractor (0-6) goes to the feedback channel and to the feedback owner."""

from __future__ import annotations

import json

import pytest

from bot.clock import FixedClock
from bot.feedback.service import list_feedback_records
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox.service import get_entry
from storage.db import SessionFactory
from tests.support.slack import Result, SlackDriver, SlackStandin, select_value, text_value

OWNER = "U0OWNER"
CHANNEL = "C0FEEDBACK"


@pytest.fixture
def configured(sessions: SessionFactory, clock: FixedClock) -> None:
    directory.set_team_setting(
        sessions, team_id="T0001", key=team_settings.FEEDBACK_CHANNEL, value=CHANNEL
    )
    directory.set_process_owner(
        sessions,
        team_id="T0001",
        process_key=directory.FEEDBACK_PROCESS,
        process_name="Feedback triage",
        owner_id=OWNER,
        actor_id="U0ADMIN",
        now=clock(),
    )


def posts_to(result: Result, channel: str) -> list[dict]:  # type: ignore[type-arg]
    return [c.params for c in result.of("chat.postMessage") if c.params["channel"] == channel]


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("score", [0, 6])
def test_detractor_is_posted_to_the_channel_and_the_owner_is_told(
    slack: SlackDriver, score: int
) -> None:
    result = slack.command("/feedback", f"Acme: the export <!channel> broke again nps:{score}")
    [channel_post] = posts_to(result, CHANNEL)
    [dm] = posts_to(result, OWNER)
    for post in (channel_post, dm):
        sent = post["text"] + json.dumps(post["blocks"])
        assert "Acme" in sent
        assert "the export &lt;!channel&gt; broke again" in sent
        assert "<!channel>" not in sent
        assert f"NPS *{score}*" in json.dumps(post["blocks"])
        assert f"<@{slack.user_id}>" in json.dumps(post["blocks"])
    receipt = result.answer.params["text"] + json.dumps(result.answer.params["blocks"])
    assert f"Detractor score: <#{CHANNEL}> is being told." in receipt
    assert f"Detractor score: the feedback owner <@{OWNER}> is being told." in receipt
    assert "could not deliver" not in json.dumps([c.params for c in result.calls])


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize("text", ["fine nps:7", "love it nps:10", "no score at all"])
def test_passives_promoters_and_unscored_are_not_alerted(slack: SlackDriver, text: str) -> None:
    result = slack.command("/feedback", text)
    assert result.of("chat.postMessage") == []
    assert "is being told" not in result.reply_text


def test_without_channel_or_owner_nothing_is_posted(slack: SlackDriver) -> None:
    result = slack.command("/feedback", "Acme: awful nps:1")
    assert result.of("chat.postMessage") == []
    assert "Logged feedback" in result.reply_text


def test_only_the_owner_when_no_channel_is_configured(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    directory.set_process_owner(
        sessions,
        team_id="T0001",
        process_key=directory.FEEDBACK_PROCESS,
        process_name="Feedback triage",
        owner_id=OWNER,
        actor_id="U0ADMIN",
        now=clock(),
    )
    result = slack.command("/feedback", "Acme: awful nps:1")
    assert [c.params["channel"] for c in result.of("chat.postMessage")] == [OWNER]


@pytest.mark.usefixtures("configured")
def test_channel_without_the_bot_is_reported_and_the_owner_still_told(
    slack: SlackDriver, sessions: SessionFactory, standin: SlackStandin
) -> None:
    """The receipt is the command's answer, given before anything is posted; the channel's
    refusal is final, so its row is kept as failed and the reporter is told by DM."""
    standin.channels_without_bot.add(CHANNEL)
    result = slack.command("/feedback", "Acme: awful nps:2")
    [record] = list_feedback_records(sessions, team_id=None, since=None)
    assert posts_to(result, CHANNEL) == []
    [dm] = posts_to(result, OWNER)
    assert "awful" in dm["text"] + json.dumps(dm["blocks"])
    assert f"<#{CHANNEL}> is being told" in result.reply_text
    channel_row = get_entry(
        sessions, team_id="T0001", key=f"feedback:{record.id}:detractor:channel"
    )
    assert channel_row is not None
    assert (channel_row.state, channel_row.error) == ("failed", "not_in_channel")
    owner_row = get_entry(sessions, team_id="T0001", key=f"feedback:{record.id}:detractor:owner")
    assert owner_row is not None and owner_row.state == "sent"
    [notice] = posts_to(result, slack.user_id)
    assert f"could not deliver a message to <#{CHANNEL}>" in notice["text"]
    assert "not_in_channel" in notice["text"]
    assert f"opsloop outbox resend {channel_row.id}" in notice["text"]


@pytest.mark.usefixtures("configured")
def test_detractor_from_the_modal_is_alerted_once(slack: SlackDriver) -> None:
    view = slack.command("/feedback", "").of("views.open")[0].params["view"]
    values = {
        "feedback_text": {"feedback_text": text_value("Support never answered")},
        "feedback_customer": {"feedback_customer": text_value("Globex")},
        "feedback_nps": {"feedback_nps": select_value("4")},
    }
    first = slack.submit("feedback.form", values, private_metadata=view["private_metadata"])
    second = slack.submit("feedback.form", values, private_metadata=view["private_metadata"])
    assert len(posts_to(first, CHANNEL)) == 1 and len(posts_to(first, OWNER)) == 1
    assert second.of("chat.postMessage") == []


@pytest.mark.usefixtures("configured")
def test_editing_a_score_down_to_detractor_alerts(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    slack.command("/feedback", "Acme: okay-ish nps:8")
    [record] = list_feedback_records(sessions, team_id=None, since=None)
    view = slack.click("feedback.edit", str(record.id)).of("views.open")[0].params["view"]
    values = {
        "feedback_text": {"feedback_text": text_value("actually unhappy")},
        "feedback_nps": {"feedback_nps": select_value("3")},
    }
    result = slack.submit("feedback.form", values, private_metadata=view["private_metadata"])
    assert posts_to(result, CHANNEL) and posts_to(result, OWNER)
    # editing it again while it stays a detractor does not alert a second time
    view = slack.click("feedback.edit", str(record.id)).of("views.open")[0].params["view"]
    result = slack.submit("feedback.form", values, private_metadata=view["private_metadata"])
    assert result.of("chat.postMessage") == []
