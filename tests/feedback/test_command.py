"""`/feedback <text>`, help, nps and recent through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from bot.clock import FixedClock
from bot.feedback.models import FeedbackRecord
from bot.feedback.service import list_feedback_records
from bot.slack.mrkdwn import MESSAGE_TEXT_LIMIT, SECTION_TEXT_LIMIT
from storage.db import SessionFactory
from tests.support.slack import Result, SlackDriver


def stored(sessions: SessionFactory) -> list[FeedbackRecord]:
    return list_feedback_records(sessions, team_id=None, since=None)


def the_reply(result: Result) -> dict:  # type: ignore[type-arg]
    assert result.status == 200
    reply = result.answer
    assert reply.params["response_type"] == "ephemeral"
    return reply.params


def test_inline_feedback_is_stored_and_echoed_with_an_edit_button(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    result = slack.command("/feedback", "Acme: CSV export times out #reporting nps:8")
    reply = the_reply(result)
    [record] = stored(sessions)
    assert record.text == "CSV export times out"
    assert record.customer == "Acme"
    assert record.tags == ("reporting",)
    assert record.nps_score == 8
    assert record.reporter_id == slack.user_id
    assert record.team_id == slack.team_id
    assert record.status == "new"
    assert record.created_at == clock()
    text = result.reply_text
    for shown in (f"#{record.id}", "Acme", "#reporting", "NPS: 8", "CSV export times out"):
        assert shown in text
    elements = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
    edit, menu = elements
    assert (edit["action_id"], edit["value"]) == ("feedback.edit", str(record.id))
    assert menu["action_id"] == "feedback.triage"
    assert [o["value"] for o in menu["options"]][:2] == [
        f"triaged:{record.id}:r",
        f"closed:{record.id}:r",
    ]
    # not a detractor, nothing else was posted
    assert not result.of("chat.postMessage")


def test_help_shows_syntax_with_examples(slack: SlackDriver, sessions: SessionFactory) -> None:
    text = the_reply(slack.command("/feedback", "help"))["text"]
    assert "/feedback Acme: CSV export times out #reporting nps:6" in text
    assert "nps 7d" in text and "recent #billing" in text
    assert stored(sessions) == []


@pytest.mark.parametrize("text", ["Acme:", "#billing nps:4", "Acme: #billing"])
def test_empty_feedback_shows_help_and_stores_nothing(
    slack: SlackDriver, sessions: SessionFactory, text: str
) -> None:
    reply = the_reply(slack.command("/feedback", text))
    assert "no feedback text" in reply["text"]
    assert "/feedback Acme: CSV export times out" in reply["text"]
    assert stored(sessions) == []


@pytest.mark.parametrize("score", ["nps:11", "nps:-1", "nps:abc"])
def test_bad_score_is_refused_naming_the_range(
    slack: SlackDriver, sessions: SessionFactory, score: str
) -> None:
    reply = the_reply(slack.command("/feedback", f"Acme: exports are slow {score}"))
    assert "0 to 10" in reply["text"]
    assert "Example:" in reply["text"]
    assert stored(sessions) == []


def test_ten_kilobytes_are_stored_in_full_and_shown_within_limits(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    long_text = ("The export dialog freezes & loses my filters. " * 230)[:10_240].strip()
    assert len(long_text) > 10_000
    result = slack.command("/feedback", f"Initech: {long_text} nps:2")
    reply = the_reply(result)
    [record] = stored(sessions)
    assert record.text == long_text
    assert len(reply["text"]) < 4000
    assert len(reply["text"]) <= MESSAGE_TEXT_LIMIT
    for block in reply["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_LIMIT
    assert "…" in json.dumps(reply["blocks"], ensure_ascii=False)


def test_many_short_lines_stay_within_the_section_limit(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    text = "\n".join(["a"] * 3000)
    reply = the_reply(slack.command("/feedback", text))
    assert stored(sessions)[0].text == text
    for block in reply["blocks"]:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_TEXT_LIMIT


HOSTILE = ["<!channel>", "<!here>", "<@U123>", "<https://evil|bank>"]


@pytest.mark.parametrize("markup", HOSTILE)
def test_markup_in_text_is_stored_verbatim_and_shown_escaped(
    slack: SlackDriver, sessions: SessionFactory, markup: str
) -> None:
    result = slack.command("/feedback", f"they wrote {markup} in the ticket")
    [record] = stored(sessions)
    assert record.text == f"they wrote {markup} in the ticket"
    sent = result.reply_text
    assert markup not in sent
    assert markup.replace("<", "&lt;").replace(">", "&gt;") in sent


@pytest.mark.parametrize("markup", ["<!channel>", "<!here>", "<@U123>"])
def test_markup_in_customer_is_stored_verbatim_and_shown_escaped(
    slack: SlackDriver, sessions: SessionFactory, markup: str
) -> None:
    result = slack.command("/feedback", f"{markup}: pricing page is confusing")
    [record] = stored(sessions)
    assert record.customer == markup
    assert record.text == "pricing page is confusing"
    assert markup not in result.reply_text
    assert markup.replace("<", "&lt;").replace(">", "&gt;") in result.reply_text


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE feedback;-- says hi",
        "' OR 1=1 -- ; SELECT * FROM feedback WHERE '1'='1",
        "Love the new dashboard 🚀🔥 ❤️ 👍🏽",
        "العميل يقول إن التصدير بطيء جدا",
        "הלקוח אומר שהייצוא איטי מאוד",
        # right-to-left marks are kept exactly (overrides are dropped: test_input_bounds)
        "mixed RTL \u200f\u05e9\u05dc\u05d5\u05dd\u200f and English",
        "customer said the webhook payload is missing fields",
        "payload",
    ],
)
def test_awkward_text_is_stored_and_echoed_exactly(
    slack: SlackDriver, sessions: SessionFactory, text: str
) -> None:
    result = slack.command("/feedback", text)
    [record] = stored(sessions)
    assert record.text == text
    assert text in result.reply_text


def test_right_to_left_customer_prefix(slack: SlackDriver, sessions: SessionFactory) -> None:
    result = slack.command("/feedback", "שלום בעמ: הייצוא איטי nps:5")
    [record] = stored(sessions)
    assert (record.customer, record.text, record.nps_score) == ("שלום בעמ", "הייצוא איטי", 5)
    assert "שלום בעמ" in result.reply_text


def test_two_identical_commands_are_two_records(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    for _ in range(2):
        the_reply(slack.command("/feedback", "Acme: login is slow #auth nps:7"))
    first, second = stored(sessions)
    assert first.id != second.id
    assert (first.text, first.customer, first.tags) == (second.text, second.customer, second.tags)


def test_records_are_scoped_to_the_team(slack: SlackDriver, sessions: SessionFactory) -> None:
    slack.command("/feedback", "Acme: team one #billing nps:10")
    slack.team_id = "T0002"
    reply = the_reply(slack.command("/feedback", "recent"))
    assert "No feedback logged yet" in reply["text"]
    assert [r.team_id for r in stored(sessions)] == ["T0001"]


def test_nps_counts_groups_and_change(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    # previous 30 days: 1 promoter, 1 detractor → NPS 0
    for score in (10, 3):
        slack.command("/feedback", f"older nps:{score}")
    slack.command("/feedback", "older, no score")
    clock.advance(days=31)
    # last 30 days: 3 promoters, 1 passive, 1 detractor → (3-1)/5 = +40
    for score in (9, 10, 9, 7, 6):
        slack.command("/feedback", f"newer nps:{score}")
    text = the_reply(slack.command("/feedback", "nps"))["text"]
    assert "NPS for the last 30 days: +40" in text
    assert "Promoters (9-10): 3" in text
    assert "Passives (7-8): 1" in text
    assert "Detractors (0-6): 1" in text
    assert "Responses: 5" in text
    assert "▲ +40" in text

    text = the_reply(slack.command("/feedback", "nps 7d"))["text"]
    assert "last 7 days: +40" in text
    assert "No responses in the 7 days before" in text

    text = the_reply(slack.command("/feedback", "nps 90 days"))["text"]
    # 4 promoters, 1 passive, 2 detractors over 7 responses → +29
    assert "last 90 days: +29" in text and "Responses: 7" in text


def test_nps_without_responses_says_so(slack: SlackDriver) -> None:
    assert (
        "No NPS responses in the last 30 days"
        in the_reply(slack.command("/feedback", "nps"))["text"]
    )


def test_nps_with_an_unknown_period_lists_the_choices(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    text = the_reply(slack.command("/feedback", "nps 14d"))["text"]
    assert "7d, 30d, 90d" in text
    assert stored(sessions) == []


def test_nps_followed_by_prose_is_feedback(slack: SlackDriver, sessions: SessionFactory) -> None:
    slack.command("/feedback", "nps is not something they care about")
    assert stored(sessions)[0].text == "nps is not something they care about"


def test_recent_filters_by_tag_and_customer(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    for i in range(12):
        clock.advance(minutes=1)
        slack.command("/feedback", f"Acme Corp: item {i} #billing")
    clock.advance(minutes=1)
    slack.command("/feedback", "Globex: only globex #onboarding nps:9")

    reply = the_reply(slack.command("/feedback", "recent"))
    sections = [b for b in reply["blocks"] if b["type"] == "section"]
    assert len(sections) == 10
    assert "only globex" in sections[0]["text"]["text"]  # newest first

    reply = the_reply(slack.command("/feedback", "recent #Billing"))
    texts = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert "tagged #billing" in reply["text"]
    assert len(texts) == 10
    assert "item 11" in texts[0] and "item 2" in texts[-1]
    assert all("globex" not in t for t in texts)

    reply = the_reply(slack.command("/feedback", "recent globex"))
    texts = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert len(texts) == 1 and "only globex" in texts[0]

    reply = the_reply(slack.command("/feedback", "recent acme corp"))
    assert len([b for b in reply["blocks"] if b["type"] == "section"]) == 10

    reply = the_reply(slack.command("/feedback", "recent #nothing"))
    assert "No feedback tagged #nothing" in reply["text"]


def test_recent_customer_search_treats_wildcards_literally(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    slack.command("/feedback", "Acme: one")
    reply = the_reply(slack.command("/feedback", "recent %"))
    assert "No feedback" in reply["text"]


def test_recent_escapes_what_it_shows(slack: SlackDriver) -> None:
    slack.command("/feedback", "<!here>: ping <!channel> #x")
    result = slack.command("/feedback", "recent <!here>")
    assert "ping" in result.reply_text
    assert "<!here>" not in result.reply_text and "<!channel>" not in result.reply_text
    assert "&lt;!channel&gt;" in result.reply_text


def test_entity_encoded_command_text_is_stored_as_typed(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    """Slack sends `AT&T: export <5 MB` as `AT&amp;T: export &lt;5 MB`. Before: stored
    `AT&amp;T`, echoed `&amp;amp;`, and the customer lost (the prefix parser refused `;`)."""
    result = slack.command("/feedback", "AT&amp;T: export &lt;5 MB fails #reporting")
    [record] = list_feedback_records(sessions, team_id=None, since=None)
    assert (record.customer, record.text) == ("AT&T", "export <5 MB fails")
    reply = result.answer
    assert "AT&amp;T" in reply.params["text"] and "&amp;amp;" not in reply.params["text"]
    assert "export &lt;5 MB" in reply.params["text"]
