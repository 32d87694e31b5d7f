"""Feedback by reaction: a :memo: on a message, delivered as Slack delivers `reaction_added`
to the real Bolt app, stores the message once (text, author, permalink) and gives the
reactor a receipt with *Edit* and *Undo*; the outbox reads the message, never the listener."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.feedback.models import FeedbackRecord
from bot.feedback.render import EDIT_ACTION
from bot.feedback.service import list_feedback_records
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox.service import list_entries
from bot.reactions import service as reaction_service
from bot.reactions.messages import noticed_messages
from bot.reactions.models import UNDO_ACTION, Noticed, Reaction
from bot.slack.executor import TrackingExecutor
from bot.slack.sender import OutboxSender
from bot.wiring import build_app
from storage.core import list_audit_entries
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.errors import DatabaseUnavailableError
from tests.conftest import SIGNING_SECRET
from tests.support.reactions import (
    ADMIN,
    AUTHOR,
    CHANNEL,
    PARTNER_TEAM,
    PARTNER_USER,
    REACTOR,
    SECOND,
    TEAM,
    all_text,
    button,
    effects,
    ephemerals,
    post_message,
    react,
    reaction_event,
    undo,
)
from tests.support.slack import SlackDriver, SlackStandin, payloads


def stored(sessions: SessionFactory) -> list[FeedbackRecord]:
    return list_feedback_records(sessions, team_id=TEAM, since=None)


def permalink_of(ts: str, channel: str = CHANNEL) -> str:
    return f"https://standin.slack.test/archives/{channel}/p{ts.replace('.', '')}"


def test_memo_stores_the_message_once_with_author_and_permalink_and_sends_a_receipt(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "AT&amp;T says the CSV export &lt;times out&gt; daily")
    result = react(slack, ts, event_id="Ev0MEMO1")
    assert result.status == 200
    [lookup] = result.of("conversations.history")
    assert lookup.params["latest"] == ts and lookup.params["limit"] in ("1", 1)
    [feedback] = stored(sessions)
    assert feedback.text == "AT&T says the CSV export <times out> daily"
    assert (feedback.reporter_id, feedback.author_id) == (AUTHOR, AUTHOR)
    assert (feedback.channel_id, feedback.message_ts) == (CHANNEL, ts)
    assert feedback.permalink == permalink_of(ts)
    assert feedback.source == "slack"
    assert (feedback.captured_by_id, feedback.captured_by_team_id) == (REACTOR, None)
    [receipt] = ephemerals(result, REACTOR)
    assert receipt.params["channel"] == CHANNEL
    text = all_text(receipt)
    # Escaped once for Slack: never the raw markup, never double-escaped.
    assert "AT&amp;T" in text and "&lt;times out&gt;" in text
    assert "&amp;amp;" not in text and "&amp;lt;" not in text
    assert f"#{feedback.id}" in text and f"<@{AUTHOR}>" in text
    assert button(receipt, EDIT_ACTION)["value"] == str(feedback.id)
    assert button(receipt, UNDO_ACTION)["value"]


def test_slack_retries_and_second_reactions_store_nothing_more(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "Please add SSO")
    react(slack, ts, event_id="Ev0FIRST")
    for retry in (1, 2, 3):
        again = react(slack, ts, event_id="Ev0FIRST", retry_num=retry)
        assert again.status == 200
        assert not effects(again)  # dropped as a redelivery: no lookup, no receipt
    second = react(slack, ts, event_id="Ev0SECOND", user=SECOND)
    assert not second.of("conversations.history")
    [feedback] = stored(sessions)
    [note] = ephemerals(second, SECOND)
    assert f"#{feedback.id}" in all_text(note) and "nothing new" in all_text(note)
    # The first reactor reacting again (another emoji event, same claim) hears nothing.
    assert not effects(react(slack, ts, event_id="Ev0THIRD"))
    assert len(stored(sessions)) == 1
    assert len(standin.calls("conversations.history")) == 1


def test_undo_removes_the_feedback_and_replaces_the_receipt(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "The dashboard is slow")
    [receipt] = ephemerals(react(slack, ts))
    [feedback] = stored(sessions)
    result = undo(slack, receipt)
    assert result.status == 200
    assert stored(sessions) == []
    [reply] = result.replies
    assert reply["replace_original"] is True and f"#{feedback.id}" in reply["text"]
    with transaction(sessions) as session:
        actions = [e.action for e in list_audit_entries(session, team_id=TEAM)]
    assert "feedback.undone" in actions and "feedback.captured" in actions
    # Undone twice: a clear answer, nothing else removed.
    assert "undone already" in undo(slack, receipt).reply_text
    # Reacting again logs it anew.
    react(slack, ts)
    assert [f.text for f in stored(sessions)] == ["The dashboard is slow"]


def test_undo_is_only_for_the_reactor_or_an_admin_and_only_for_fifteen_minutes(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory, clock: FixedClock
) -> None:
    directory.set_admins(sessions, team_id=TEAM, user_ids=[ADMIN])
    first = post_message(standin, "Billing emails go to spam")
    [receipt] = ephemerals(react(slack, first))
    refused = undo(slack, receipt, user=SECOND)
    assert "Only the person who reacted" in refused.reply_text
    assert len(stored(sessions)) == 1
    # A forged id in the button is checked like any other.
    forged = slack.click(UNDO_ACTION, "999999", user=REACTOR)
    assert "does not point at a message" in forged.reply_text
    assert "does not point" in slack.click(UNDO_ACTION, "drop table", user=REACTOR).reply_text
    assert len(stored(sessions)) == 1
    clock.advance(minutes=16)
    late = undo(slack, receipt)
    assert "15 minutes" in late.reply_text
    assert len(stored(sessions)) == 1
    second = post_message(standin, "Exports miss the timezone")
    [receipt2] = ephemerals(react(slack, second, event_id="Ev0LATER"))
    assert undo(slack, receipt2, user=ADMIN).status == 200
    assert [f.text for f in stored(sessions)] == ["Billing emails go to spam"]


def test_edit_opens_the_usual_modal_prefilled_for_the_reactor(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "Onboarding took three weeks")
    [receipt] = ephemerals(react(slack, ts))
    result = slack.click(EDIT_ACTION, button(receipt, EDIT_ACTION)["value"], user=REACTOR)
    [opened] = result.of("views.open")
    view = opened.params["view"]
    view_text = str(view)
    assert "Onboarding took three weeks" in view_text
    assert "feedback" in view["callback_id"]


def test_a_thread_reply_is_read_with_conversations_replies(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    parent = post_message(standin, "Weekly sync")
    reply = post_message(standin, "Customer asked for a dark mode", thread_ts=parent)
    post_message(standin, "A later top-level message")
    result = react(slack, reply)
    assert result.of("conversations.history") and result.of("conversations.replies")
    [feedback] = stored(sessions)
    assert feedback.text == "Customer asked for a dark mode"
    assert feedback.message_ts == reply
    assert "reply in a thread" in all_text(ephemerals(result)[0])


def test_a_bot_message_is_reported_by_the_reactor_and_named_as_the_bot(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = standin.add_message(
        CHANNEL,
        text="New ticket: refund request from Acme",
        bot_id="B0ZENDESK",
        subtype="bot_message",
        bot_profile={"name": "Zendesk <bot>"},
    )
    result = react(slack, ts, item_user=None)
    [feedback] = stored(sessions)
    assert (feedback.reporter_id, feedback.author_id) == (REACTOR, None)
    text = all_text(ephemerals(result)[0])
    assert "the bot *Zendesk &lt;bot&gt;*" in text and "reporter of record" in text


def test_an_edited_message_and_a_file_without_text_say_what_was_captured(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    edited = post_message(
        standin, "Pricing page is wrong (fixed typo)", edited={"user": AUTHOR, "ts": "1.0"}
    )
    first = react(slack, edited)
    assert "edited" in all_text(ephemerals(first)[0])
    upload = post_message(
        standin, "", files=[{"id": "F1", "name": "crash.png", "title": "crash.png"}]
    )
    second = react(slack, upload, event_id="Ev0FILE")
    texts = sorted(f.text for f in stored(sessions))
    assert texts == ["Files: crash.png", "Pricing page is wrong (fixed typo)"]
    assert "no text, only files" in all_text(ephemerals(second)[0])


def test_a_message_it_cannot_read_is_said_truthfully_and_a_later_reaction_retries(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "Search is broken", channel="C0PRIVATE")
    standin.channels_without_bot.add("C0PRIVATE")
    result = react(slack, ts, channel="C0PRIVATE")
    assert stored(sessions) == []
    [told] = result.of("chat.postEphemeral") or result.of("chat.postMessage")
    assert "/invite @Opsloop" in all_text(told) and "react again" in all_text(told)
    standin.channels_without_bot.discard("C0PRIVATE")
    react(slack, ts, channel="C0PRIVATE", event_id="Ev0INVITED")
    assert [f.text for f in stored(sessions)] == ["Search is broken"]


def test_a_deleted_message_is_said_to_be_gone(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    post_message(standin, "Still here")
    result = react(slack, "1700000500.000100")
    assert stored(sessions) == []
    [told] = ephemerals(result)
    assert "is gone" in all_text(told)
    assert "try again" not in all_text(told).lower()


def test_slack_connect_partner_reaction_is_kept_with_their_team_and_they_see_nothing(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory, clock: FixedClock
) -> None:
    directory.set_process_owner(
        sessions,
        team_id=TEAM,
        process_key=directory.FEEDBACK_PROCESS,
        process_name="Feedback triage",
        owner_id="U0FBOWNER",
        actor_id=ADMIN,
        now=clock(),
    )
    ts = post_message(standin, "We need audit logs", user=PARTNER_USER, user_team=PARTNER_TEAM)
    result = react(
        slack,
        ts,
        user=PARTNER_USER,
        user_team=PARTNER_TEAM,
        partner_team_id=PARTNER_TEAM,
        item_user=PARTNER_USER,
    )
    [feedback] = stored(sessions)  # filed under our workspace, not the partner's
    assert feedback.team_id == TEAM
    assert (feedback.captured_by_id, feedback.captured_by_team_id) == (PARTNER_USER, PARTNER_TEAM)
    assert feedback.reporter_id == PARTNER_USER
    assert not result.of("chat.postEphemeral")
    assert all(c.params.get("channel") != CHANNEL for c in result.of("chat.postMessage"))
    [dm] = [c for c in result.of("chat.postMessage") if c.params["channel"] == "U0FBOWNER"]
    assert PARTNER_TEAM in all_text(dm) and f"#{feedback.id}" in all_text(dm)
    # Our own user in the same shared channel gets the ephemeral as usual.
    ours = post_message(standin, "And SCIM", user=PARTNER_USER, user_team=PARTNER_TEAM)
    mine = react(slack, ours, user=REACTOR, user_team=TEAM, event_id="Ev0OURS")
    assert ephemerals(mine, REACTOR)


def test_only_the_configured_emoji_capture_and_an_empty_list_turns_it_off(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "Love the new editor")
    assert not effects(react(slack, ts, reaction="thumbsup"))
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.CAPTURE_FEEDBACK, value="inbox_tray"
    )
    assert not effects(react(slack, ts, reaction="memo", event_id="Ev0MEMO"))
    react(slack, ts, reaction="inbox_tray", event_id="Ev0TRAY")
    assert len(stored(sessions)) == 1
    directory.set_team_setting(sessions, team_id=TEAM, key=team_settings.CAPTURE_FEEDBACK, value="")
    other = post_message(standin, "Another one")
    assert not effects(react(slack, other, reaction="inbox_tray", event_id="Ev0OFF"))
    assert len(stored(sessions)) == 1


def test_hostile_and_malformed_reactions(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "&lt;!channel&gt; hi <!channel> <@U0AUTHOR|dana> " + "x" * 10_000)
    result = react(slack, ts)
    [feedback] = stored(sessions)
    assert feedback.text.startswith("<!channel> hi @channel @dana ")
    text = all_text(ephemerals(result)[0])
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    for bad in (
        {"user": "not-a-user"},
        {"channel": "<!here>"},
        {"reaction": "memo\u0000"},
    ):
        assert react(slack, ts, event_id=f"Ev0BAD{len(str(bad))}", **bad).status == 200
    forged_ts = react(slack, "1.2.3<", event_id="Ev0BADTS")
    assert forged_ts.status == 200 and not effects(forged_ts)
    file_item = {
        "type": "reaction_added",
        "user": REACTOR,
        "reaction": "memo",
        "item": {"type": "file", "file": "F1"},
    }
    assert not effects(slack.event(file_item))
    assert len(stored(sessions)) == 1


# -- against `opsloop serve`: the real HTTP server, its own outbox sender --------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(url: str, body: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


@pytest.fixture
def served(tmp_path: Path, standin: SlackStandin) -> Iterator[tuple[str, str]]:
    """`opsloop serve` on a free port with its own SQLite file, talking to the stand-in."""
    port = _free_port()
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": standin.base_url,
        "DATABASE_URL": database,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                assert process.poll() is None, "opsloop serve exited"
                time.sleep(0.05)
        yield base, database
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_over_http_memo_is_stored_once_receipted_and_undone(
    served: tuple[str, str], standin: SlackStandin
) -> None:
    base, database = served
    ts = post_message(standin, "Exports &amp; imports are slow")
    body = payloads.event_callback(reaction_event(ts), team_id=TEAM, event_id="Ev0HTTP1")
    headers = payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.JSON)
    assert _post(base + "/slack/events", body, headers) == 200
    [receipt] = standin.wait_for("chat.postEphemeral")
    assert receipt.params["user"] == REACTOR and "Exports &amp; imports" in all_text(receipt)
    # Slack redelivers the same event (to this or another replica): nothing is added.
    redelivered = {**payloads.signed_headers(SIGNING_SECRET, body, content_type=payloads.JSON)}
    redelivered |= {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert _post(base + "/slack/events", body, redelivered) == 200
    engine = make_engine(database)
    records = list_feedback_records(make_session_factory(engine), team_id=TEAM, since=None)
    [feedback] = records
    assert (feedback.text, feedback.reporter_id) == ("Exports & imports are slow", AUTHOR)
    assert feedback.permalink == permalink_of(ts)
    click = payloads.block_actions(
        [{"action_id": UNDO_ACTION, "block_id": "b", "type": "button", "action_ts": "1.0",
          "value": button(receipt, UNDO_ACTION)["value"]}],
        team_id=TEAM,
        user_id=REACTOR,
        channel_id=CHANNEL,
        response_url=standin.response_url("undo"),
    )  # fmt: skip
    headers = payloads.signed_headers(SIGNING_SECRET, click, content_type=payloads.FORM)
    assert _post(base + "/slack/events", click, headers) == 200
    [replaced] = standin.wait_for("response_url")
    assert replaced.params["replace_original"] is True
    assert list_feedback_records(make_session_factory(engine), team_id=TEAM, since=None) == []
    assert len(standin.calls("conversations.history")) == 1
    assert len(standin.calls("chat.postEphemeral")) == 1
    engine.dispose()


def test_two_reactions_at_the_same_moment_capture_the_message_once(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Two replicas handling two people's :memo: at once: the unique capture decides."""
    start = threading.Barrier(2)

    def notice(user: str) -> Noticed:
        reaction = Reaction(TEAM, CHANNEL, "1700000000.000100", user, "memo")
        start.wait()
        outcome = reaction_service.notice_reaction(
            sessions,
            reaction=reaction,
            shared_channel=False,
            now=clock(),
            messages=noticed_messages,
        )
        return outcome.noticed

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(notice, [REACTOR, SECOND]))
    assert outcomes == sorted([Noticed.LOOKING_UP, Noticed.IN_PROGRESS])
    keys = [e.key for e in list_entries(sessions) if ":lookup:" in e.key]
    assert len(keys) == 1


def test_a_reaction_is_stored_before_the_ack_and_a_failure_lets_slack_deliver_it_again(
    slack: SlackDriver,
    standin: SlackStandin,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ts = post_message(standin, "Audit log export is missing")
    real = reaction_service.notice_reaction

    def unavailable(*args: Any, **kwargs: Any) -> Any:
        raise DatabaseUnavailableError("server closed the connection")

    monkeypatch.setattr(reaction_service, "notice_reaction", unavailable)
    failed = react(slack, ts, event_id="Ev0LOST")
    assert failed.status == 500  # not acknowledged: Slack delivers it again
    monkeypatch.setattr(reaction_service, "notice_reaction", real)
    retried = react(slack, ts, event_id="Ev0LOST", retry_num=1)
    assert retried.status == 200
    assert [f.text for f in stored(sessions)] == ["Audit log export is missing"]


# -- over Socket Mode: the same Bolt app behind slack-sdk's built-in Socket Mode client -----
def test_over_socket_mode_memo_is_stored_and_its_envelope_acked(
    deps: Deps,
    standin: SlackStandin,
    sessions: SessionFactory,
    executor: TrackingExecutor,
    sender: OutboxSender,
) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from websockets.sync.server import ServerConnection, serve

    ts = post_message(standin, "SAML login fails for Okta")
    envelope = {
        "envelope_id": "env-1",
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": 0,
        "retry_reason": "",
        "payload": json.loads(
            payloads.event_callback(reaction_event(ts), team_id=TEAM, event_id="Ev0SOCKET")
        ),
    }
    acks: list[dict[str, Any]] = []

    def talk(connection: ServerConnection) -> None:
        connection.send(json.dumps({"type": "hello", "num_connections": 1}))
        connection.send(json.dumps(envelope))
        for message in connection:
            acks.append(json.loads(message))

    with serve(talk, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        standin.socket_mode_url = lambda: url
        handler = SocketModeHandler(build_app(deps, executor=executor), "xapp-test")
        handler.connect()  # type: ignore[no-untyped-call]
        try:
            for _ in range(400):
                if any(a.get("envelope_id") == "env-1" for a in acks):
                    break
                time.sleep(0.025)
            executor.wait_idle()
        finally:
            handler.close()  # type: ignore[no-untyped-call]
            server.shutdown()
    assert any(a.get("envelope_id") == "env-1" for a in acks)
    assert sender.drain(30.0)
    [feedback] = stored(sessions)
    assert (feedback.text, feedback.permalink) == ("SAML login fails for Okta", permalink_of(ts))
    assert ephemerals(standin.calls("chat.postEphemeral"), REACTOR)


def test_help_tells_about_reaction_capture(slack: SlackDriver) -> None:
    assert ":memo:" in slack.command("/feedback", "help").reply_text
    assert ":rotating_light:" in slack.command("/escalate", "help").reply_text


def test_a_rate_limited_lookup_is_retried_after_retry_after(
    slack: SlackDriver, standin: SlackStandin, sessions: SessionFactory
) -> None:
    ts = post_message(standin, "Mobile app crashes on launch")
    standin.fail("conversations.history", status=429, retry_after=1)
    result = react(slack, ts)
    assert [c.status for c in standin.calls("conversations.history", ok_only=False)] == [429, 200]
    [feedback] = stored(sessions)
    assert feedback.text == "Mobile app crashes on launch"
    assert ephemerals(result, REACTOR)
