"""The feedback modal: opening, validation errors, idempotent submission, Edit, the shortcut."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.feedback import service as feedback_service
from bot.feedback.models import FeedbackRecord
from bot.feedback.parse import ParsedFeedback
from bot.feedback.service import list_feedback_records
from bot.org import service as directory
from storage.core import list_audit_entries
from storage.db import SessionFactory, transaction
from storage.errors import DatabaseUnavailableError
from tests.support.slack import (
    Result,
    SlackDriver,
    SlackStandin,
    multi_select_value,
    select_value,
    text_value,
)

CALLBACK = "feedback.form"


def stored(sessions: SessionFactory) -> list[FeedbackRecord]:
    return list_feedback_records(sessions, team_id=None, since=None)


def opened_view(result: Result) -> dict[str, Any]:
    assert result.status == 200
    [call] = result.of("views.open")
    assert call.params["trigger_id"].startswith("trigger-")
    view: dict[str, Any] = call.params["view"]
    return view


def blocks_by_id(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def form(
    text: str | None = "Exports time out",
    *,
    customer: str | None = None,
    nps: str | None = None,
    known: list[str] | None = None,
    tags: str | None = None,
    source: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    values: dict[str, dict[str, dict[str, Any]]] = {
        "feedback_customer": {"feedback_customer": text_value(customer)},
        "feedback_nps": {"feedback_nps": select_value(nps)},
        "feedback_tags_new": {"feedback_tags_new": text_value(tags)},
        "feedback_source": {"feedback_source": select_value(source)},
    }
    if text is not None or known is None:
        values["feedback_text"] = {"feedback_text": text_value(text)}
    if known is not None:
        values["feedback_tags_known"] = {"feedback_tags_known": multi_select_value(known)}
    return values


def open_modal(slack: SlackDriver) -> str:
    """`/feedback` with no text; returns the modal's private_metadata."""
    view = opened_view(slack.command("/feedback", ""))
    return str(view["private_metadata"])


def test_no_text_opens_the_modal(slack: SlackDriver) -> None:
    result = slack.command("/feedback", "")
    view = opened_view(result)
    assert not result.of("response_url")  # acked silently, the modal is the answer
    assert view["callback_id"] == CALLBACK
    blocks = blocks_by_id(view)
    text = blocks["feedback_text"]
    assert text["element"]["multiline"] is True and not text.get("optional")
    assert blocks["feedback_customer"]["optional"] is True
    nps_values = [o["value"] for o in blocks["feedback_nps"]["element"]["options"]]
    assert sorted(v for v in nps_values if v != "none") == sorted(str(n) for n in range(11))
    sources = [o["text"]["text"] for o in blocks["feedback_source"]["element"]["options"]]
    assert sources == ["Call", "Email", "Slack", "Support ticket", "Other"]
    assert "feedback_tags_new" in blocks
    assert "feedback_tags_known" not in blocks  # no tags used yet: nothing to pick from
    meta = json.loads(view["private_metadata"])
    assert meta["submission_key"].startswith("modal:")
    assert meta["reply_channel"] == slack.channel_id


def test_a_command_from_a_channel_id_slack_never_sends_still_opens_the_modal(
    slack: SlackDriver,
) -> None:
    # A signed but hand-made request: the form opens (no "try again"), with nowhere
    # to answer in but a DM.
    result = slack.command("/feedback", "", channel="C1")
    view = opened_view(result)
    assert view["callback_id"] == CALLBACK
    assert not result.of("response_url")
    assert json.loads(view["private_metadata"]).get("reply_channel") is None


def test_known_tags_are_the_most_used_ones(slack: SlackDriver) -> None:
    slack.command("/feedback", "one #billing #ux")
    slack.command("/feedback", "two #billing")
    slack.command("/feedback", "three #Billing #api")
    view = opened_view(slack.command("/feedback", ""))
    options = blocks_by_id(view)["feedback_tags_known"]["element"]["options"]
    assert [o["value"] for o in options] == ["billing", "api", "ux"]


def test_known_tags_are_capped_at_one_hundred(slack: SlackDriver, sessions: SessionFactory) -> None:
    for i in range(105):
        feedback_service.log_feedback(
            sessions,
            team_id=slack.team_id,
            reporter_id="U1",
            parsed=feedback_service.ParsedFeedback(text="x", tags=(f"tag{i:03d}",)),
            submission_key=f"k{i}",
            now=slack_now(),
        )
    view = opened_view(slack.command("/feedback", ""))
    assert len(blocks_by_id(view)["feedback_tags_known"]["element"]["options"]) == 100


def slack_now() -> Any:
    from tests.conftest import START

    return START


def test_submission_stores_every_field_and_sends_a_receipt(
    slack: SlackDriver, sessions: SessionFactory, standin: SlackStandin
) -> None:
    slack.command("/feedback", "seed #billing")
    meta = open_modal(slack)
    result = slack.submit(
        CALLBACK,
        form(
            "Bulk export of 50k rows times out",
            customer="Acme Corp",
            nps="9",
            known=["billing"],
            tags="Reporting, #data-export",
            source="support_ticket",
        ),
        private_metadata=meta,
    )
    assert result.status == 200
    assert not result.body  # plain ack: the modal closes
    record = stored(sessions)[-1]
    assert record.text == "Bulk export of 50k rows times out"
    assert record.customer == "Acme Corp"
    assert record.nps_score == 9
    assert record.tags == ("billing", "reporting", "data-export")
    assert record.source == "support_ticket"
    assert record.reporter_id == slack.user_id
    [receipt] = result.of("chat.postEphemeral")
    assert receipt.params["channel"] == slack.channel_id
    assert receipt.params["user"] == slack.user_id
    assert f"#{record.id}" in receipt.params["text"]
    assert "Acme Corp" in receipt.params["text"]


def test_empty_feedback_is_an_inline_error(slack: SlackDriver, sessions: SessionFactory) -> None:
    meta = open_modal(slack)
    result = slack.submit(CALLBACK, form("   ", nps="5"), private_metadata=meta)
    assert result.status == 200
    assert result.body["response_action"] == "errors"
    assert set(result.body["errors"]) == {"feedback_text"}
    assert stored(sessions) == []


@pytest.mark.parametrize("score", ["11", "-1", "abc"])
def test_bad_score_is_an_inline_error_naming_the_range(
    slack: SlackDriver, sessions: SessionFactory, score: str
) -> None:
    meta = open_modal(slack)
    result = slack.submit(CALLBACK, form("fine text", nps=score), private_metadata=meta)
    assert result.body["response_action"] == "errors"
    assert "0 to 10" in result.body["errors"]["feedback_nps"]
    assert stored(sessions) == []


def test_every_bad_field_is_reported_at_once(slack: SlackDriver, sessions: SessionFactory) -> None:
    meta = open_modal(slack)
    result = slack.submit(
        CALLBACK,
        form("", customer="x" * 201, nps="12", tags="ok, 99problems", source="fax"),
        private_metadata=meta,
    )
    assert set(result.body["errors"]) == {
        "feedback_text",
        "feedback_customer",
        "feedback_nps",
        "feedback_tags_new",
        "feedback_source",
    }
    assert stored(sessions) == []


def test_fixing_the_error_and_resubmitting_stores_once(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    meta = open_modal(slack)
    assert slack.submit(CALLBACK, form("text", nps="11"), private_metadata=meta).body
    result = slack.submit(CALLBACK, form("text", nps="10"), private_metadata=meta)
    assert not result.body
    [record] = stored(sessions)
    assert record.nps_score == 10


def test_double_submit_of_one_modal_stores_one_record(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    meta = open_modal(slack)
    first = slack.submit(CALLBACK, form("double click", nps="3"), private_metadata=meta)
    second = slack.submit(CALLBACK, form("double click", nps="3"), private_metadata=meta)
    assert first.status == second.status == 200
    assert len(stored(sessions)) == 1
    assert len(first.of("chat.postEphemeral")) == 1
    assert second.calls == []  # no second receipt, no second alert


def test_two_modals_with_identical_content_are_two_records(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    for _ in range(2):
        meta = open_modal(slack)
        slack.submit(CALLBACK, form("same words", customer="Acme"), private_metadata=meta)
    assert len(stored(sessions)) == 2


def test_submission_without_our_metadata_is_still_idempotent(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    for _ in range(2):
        slack.submit(CALLBACK, form("no metadata"), private_metadata="", view_id="V42")
    assert [r.text for r in stored(sessions)] == ["no metadata"]


@pytest.mark.parametrize(
    "metadata",
    [
        '{"submission_key": "k\\u0000ey"}',  # a NUL, which PostgreSQL cannot store
        '{"submission_key": "ok", "reply_channel": "<!channel>"}',  # not a channel id
        '{"submission_key": "%s"}' % ("k" * 500),  # longer than the column
    ],
)
def test_forged_metadata_is_ignored_and_the_feedback_still_stored(
    slack: SlackDriver, sessions: SessionFactory, metadata: str
) -> None:
    """A private_metadata Opsloop did not write is treated as none: stored once, no 500."""
    for _ in range(2):
        result = slack.submit(CALLBACK, form("forged"), private_metadata=metadata, view_id="V7")
        assert result.status == 200
        assert "Something went wrong" not in json.dumps([c.params for c in result.calls])
    assert [r.text for r in stored(sessions)] == ["forged"]


@pytest.mark.parametrize("markup", ["<!channel>", "<!here>", "<@U123>", "<https://evil|bank>"])
def test_markup_in_modal_customer_is_stored_verbatim_and_shown_escaped(
    slack: SlackDriver, sessions: SessionFactory, markup: str
) -> None:
    meta = open_modal(slack)
    result = slack.submit(CALLBACK, form(f"see {markup}", customer=markup), private_metadata=meta)
    [record] = stored(sessions)
    assert record.customer == markup and record.text == f"see {markup}"
    [receipt] = result.of("chat.postEphemeral")
    sent = receipt.params["text"] + json.dumps(receipt.params["blocks"])
    assert markup not in sent
    assert markup.replace("<", "&lt;").replace(">", "&gt;") in sent


def test_database_failure_keeps_the_modal_open(
    slack: SlackDriver, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailableError("server closed the connection")

    monkeypatch.setattr(feedback_service, "log_feedback", unavailable)
    meta = open_modal(slack)
    result = slack.submit(CALLBACK, form("keep me"), private_metadata=meta)
    assert result.body["response_action"] == "errors"
    assert "nothing was saved" in result.body["errors"]["feedback_text"]


def test_receipt_falls_back_to_a_dm_when_ephemeral_fails(
    slack: SlackDriver, standin: SlackStandin
) -> None:
    meta = open_modal(slack)
    standin.fail("chat.postEphemeral", status=200, error="channel_not_found", retry_after=None)
    result = slack.submit(CALLBACK, form("in a DM"), private_metadata=meta)
    [dm] = result.of("chat.postMessage")
    assert dm.params["channel"] == slack.user_id
    assert "in a DM" in dm.params["text"]


# -- Edit --------------------------------------------------------------------------------


def edit_click(slack: SlackDriver, feedback_id: int, user: str | None = None) -> Result:
    return slack.click("feedback.edit", str(feedback_id), user=user)


def test_edit_opens_the_modal_prefilled_and_updates_the_record(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    slack.command("/feedback", "Acme: exports are slow #reporting #custom nps:8")
    slack.command("/feedback", "other #reporting")
    [record, _] = stored(sessions)
    view = opened_view(edit_click(slack, record.id))
    blocks = blocks_by_id(view)
    assert blocks["feedback_text"]["element"]["initial_value"] == "exports are slow"
    assert blocks["feedback_customer"]["element"]["initial_value"] == "Acme"
    assert blocks["feedback_nps"]["element"]["initial_option"]["value"] == "8"
    known = blocks["feedback_tags_known"]["element"]
    assert [o["value"] for o in known["initial_options"]] == ["reporting", "custom"]
    assert "initial_value" not in blocks["feedback_tags_new"]["element"]
    meta = json.loads(view["private_metadata"])
    assert meta["feedback_id"] == record.id

    result = slack.submit(
        CALLBACK,
        form("exports are very slow", customer="Acme Inc", nps="none", known=["reporting"]),
        private_metadata=view["private_metadata"],
    )
    assert not result.body
    edited = stored(sessions)[0]
    assert edited.id == record.id
    assert (edited.text, edited.customer, edited.nps_score, edited.tags) == (
        "exports are very slow",
        "Acme Inc",
        None,
        ("reporting",),
    )
    assert edited.updated_at is not None
    assert len(stored(sessions)) == 2
    [receipt] = result.of("chat.postEphemeral")
    assert f"Updated feedback *#{record.id}*" in json.dumps(receipt.params["blocks"])
    with transaction(sessions) as session:
        [entry] = list_audit_entries(session, team_id=slack.team_id)
    assert entry.action == "feedback.edited" and entry.actor_id == slack.user_id
    assert entry.detail == {"changed": ["customer", "nps_score", "tags", "text"]}


def test_only_the_reporter_owner_or_admin_may_edit(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    slack.command("/feedback", "mine")
    [record] = stored(sessions)
    result = edit_click(slack, record.id, user="U0STRANGER")
    assert result.status == 200  # answered inside the listener, not by Bolt's error path
    assert not result.of("views.open")
    reply = result.answer
    assert "Only the person who logged" in reply.params["text"]
    # a forged submission is refused inside the modal, and nothing changes
    meta = json.dumps({"submission_key": "edit:x", "feedback_id": record.id})
    result = slack.submit(CALLBACK, form("hijacked"), private_metadata=meta, user="U0STRANGER")
    assert "Only the person who logged" in result.body["errors"]["feedback_text"]
    assert stored(sessions)[0].text == "mine"

    directory.set_admins(sessions, team_id=slack.team_id, user_ids=["U0ADMIN"])
    assert opened_view(edit_click(slack, record.id, user="U0ADMIN"))


def test_editing_a_record_too_long_for_the_form_keeps_its_text(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    long_text = "word " * 2000
    slack.command("/feedback", f"Acme: {long_text}")
    [record] = stored(sessions)
    view = opened_view(edit_click(slack, record.id))
    assert "feedback_text" not in blocks_by_id(view)
    values = form(None, customer="Acme", nps="2", known=[])
    result = slack.submit(CALLBACK, values, private_metadata=view["private_metadata"])
    assert not result.body
    [edited] = stored(sessions)
    assert edited.text == long_text.strip() and edited.nps_score == 2


def test_edit_of_unknown_record_says_so(slack: SlackDriver) -> None:
    result = edit_click(slack, 999)
    assert result.status == 200
    reply = result.answer
    assert "does not exist" in reply.params["text"]


# -- Message shortcut ---------------------------------------------------------------------


THREAD_REPLY = {
    "type": "message",
    "user": "U0CUSTOMER",
    "text": "The <https://example.test|export> keeps failing for us :( ",
    "ts": "1700000100.000200",
    "thread_ts": "1700000000.000100",
}


def test_shortcut_prefills_and_keeps_author_channel_and_permalink(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    result = slack.message_shortcut("log_as_feedback", THREAD_REPLY, channel="C0SUPPORT")
    view = opened_view(result)
    blocks = blocks_by_id(view)
    # Slack's markup becomes what a reader sees (it used to be stored raw: `<https://…|…>`)
    assert blocks["feedback_text"]["element"]["initial_value"] == (
        "The export (https://example.test) keeps failing for us :( "
    )
    assert blocks["feedback_source"]["element"]["initial_option"]["value"] == "slack"
    assert "<@U0CUSTOMER>" in json.dumps(view["blocks"])
    meta = json.loads(view["private_metadata"])
    assert meta["message"] == {
        "channel_id": "C0SUPPORT",
        "ts": "1700000100.000200",
        "author_id": "U0CUSTOMER",
    }

    values = form(THREAD_REPLY["text"], customer="Initech", source="slack")
    result = slack.submit(CALLBACK, values, private_metadata=view["private_metadata"])
    assert not result.body
    [permalink_call] = result.of("chat.getPermalink")
    assert permalink_call.params["channel"] == "C0SUPPORT"
    assert permalink_call.params["message_ts"] == "1700000100.000200"
    [record] = stored(sessions)
    assert record.text == THREAD_REPLY["text"].strip()
    assert record.author_id == "U0CUSTOMER"
    assert record.reporter_id == slack.user_id
    assert record.channel_id == "C0SUPPORT"
    assert record.message_ts == "1700000100.000200"
    assert record.permalink == "https://standin.slack.test/archives/C0SUPPORT/p1700000100000200"
    [receipt] = result.of("chat.postEphemeral")
    assert receipt.params["channel"] == "C0SUPPORT"
    # the receipt is rendered when the record is stored, before the sender has asked Slack
    # for the permalink: it shows the record, and the permalink is kept on the record
    assert "Logged feedback *#1* from *Initech*" in json.dumps(receipt.params["blocks"])
    # the message's own link markup is shown escaped, not as a live disguised link
    assert "<https://example.test|export>" not in json.dumps(receipt.params["blocks"])


def test_shortcut_without_permalink_still_stores_the_message(
    slack: SlackDriver, sessions: SessionFactory, standin: SlackStandin
) -> None:
    view = opened_view(slack.message_shortcut("log_as_feedback", THREAD_REPLY))
    standin.fail("chat.getPermalink", status=200, error="message_not_found", retry_after=None)
    slack.submit(CALLBACK, form("kept anyway"), private_metadata=view["private_metadata"])
    [record] = stored(sessions)
    assert record.permalink is None
    assert (record.channel_id, record.message_ts) == (slack.channel_id, THREAD_REPLY["ts"])


def test_shortcut_on_a_very_long_message_says_the_form_holds_less(slack: SlackDriver) -> None:
    message = {**THREAD_REPLY, "text": "x" * 5000}
    view = opened_view(slack.message_shortcut("log_as_feedback", message))
    assert len(blocks_by_id(view)["feedback_text"]["element"]["initial_value"]) == 3000
    assert "5,000 characters" in json.dumps(view["blocks"])


def test_shortcut_on_a_bot_message_without_text(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    message = {"type": "message", "bot_id": "B0BOT", "ts": "1700000300.000100", "text": ""}
    view = opened_view(slack.message_shortcut("log_as_feedback", message))
    result = slack.submit(CALLBACK, form(""), private_metadata=view["private_metadata"])
    assert "feedback_text" in result.body["errors"]
    slack.submit(CALLBACK, form("typed by hand"), private_metadata=view["private_metadata"])
    [record] = stored(sessions)
    assert record.author_id == "B0BOT"


def test_a_forged_tag_is_refused_and_cannot_break_the_form_for_the_team(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, db_url: str
) -> None:
    """Before: a forged 200-character picker value was stored (SQLite ignores String(64)),
    became an option of every later form, and Slack refused the form for the whole team."""
    forged = "x" * 200
    meta = open_modal(slack)
    result = slack.submit(CALLBACK, form("ok", known=[forged]), private_metadata=meta)
    assert isinstance(result.body, dict) and result.body["response_action"] == "errors"
    assert any("at most" in message for message in result.body["errors"].values())
    assert stored(sessions) == []
    if not db_url.startswith("sqlite"):
        return  # PostgreSQL enforces the column's length: no such old row can exist there
    # A long tag SQLite stored before tags were bounded is left out of the picker.
    feedback_service.log_feedback(
        sessions,
        team_id="T0001",
        reporter_id="U0001",
        parsed=ParsedFeedback(text="old", tags=(forged,)),
        submission_key="old:1",
        now=clock(),
    )
    view = opened_view(slack.command("/feedback", ""))
    assert forged not in json.dumps(view)
