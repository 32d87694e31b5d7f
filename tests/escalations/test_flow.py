"""/escalate end to end: the modal, posting, every transition and who may make it."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import FixedClock
from bot.escalations import modals, service
from bot.escalations.render import (
    ACKNOWLEDGE,
    REASSIGN,
    REOPEN,
    RESOLVE,
    SEVERITY,
    NewEscalationMeta,
)
from bot.org import service as directory
from bot.org import team_settings
from bot.outbox.service import get_entry
from storage.db import SessionFactory
from tests.support.escalations import (
    ADMIN,
    ORIGIN,
    OWNER,
    PROCESS_OWNER,
    REPORTER,
    STRANGER,
    TEAM,
    action_ids,
    dump,
    new_values,
    only_escalation,
    press,
    raise_escalation,
    setup_roles,
    submit_new,
    submit_reassign,
    submit_reopen,
    submit_resolve,
    thread_posts,
    updates_of,
)
from tests.support.slack import SlackDriver, SlackStandin


def _delivery(sessions: SessionFactory, escalation_id: int) -> str | None:
    """The outbox state of the escalation's channel message."""
    entry = get_entry(sessions, team_id=TEAM, key=service.message_key(escalation_id))
    return entry.state if entry is not None else None


def test_escalate_opens_the_modal_with_title_and_process_owner(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    result = slack.command("/escalate", "Checkout <fails> for EU")
    [opened] = result.of("views.open")
    assert opened.params["trigger_id"].startswith("trigger-")
    view = opened.params["view"]
    assert view["callback_id"] == modals.NEW_CALLBACK
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[modals.TITLE]["element"]["initial_value"] == "Checkout <fails> for EU"
    assert blocks[modals.OWNER]["element"]["initial_user"] == PROCESS_OWNER
    options = blocks[modals.SEVERITY]["element"]["options"]
    assert [o["value"] for o in options] == ["sev1", "sev2", "sev3", "sev4"]
    assert all(o["description"]["text"] for o in options)
    assert '"channel_id":"C0001"' in view["private_metadata"]
    assert not result.of("response_url")


def test_escalate_without_process_owner_has_no_default_owner(slack: SlackDriver) -> None:
    [opened] = slack.command("/escalate").of("views.open")
    blocks = {b["block_id"]: b for b in opened.params["view"]["blocks"]}
    assert "initial_user" not in blocks[modals.OWNER]["element"]
    assert "initial_value" not in blocks[modals.TITLE]["element"]


def test_submit_stores_posts_dms_and_confirms(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    result = submit_new(slack, severity="sev2", link="https://tickets.example/123?a=1&b=2")
    assert result.status == 200
    assert result.body in ("", None, {}) or "response_action" not in result.body
    e = only_escalation(sessions, clock)
    assert (e.status, e.severity, e.owner_id, e.reporter_id) == ("open", "sev2", OWNER, REPORTER)
    assert e.ack_due_at == clock() + timedelta(hours=1)
    assert e.resolve_due_at == clock() + timedelta(days=1)
    # The channel post and the owner's DM go out concurrently (different channels).
    posts = {p.params["channel"]: p for p in result.of("chat.postMessage")}
    assert set(posts) == {"C0ESC", OWNER}
    post, dm = posts["C0ESC"], posts[OWNER]
    # The sender records the post's channel and ts on the escalation.
    assert (e.channel_id, e.message_ts) == ("C0ESC", post.response["ts"])
    assert action_ids(post.params["blocks"]) == [ACKNOWLEDGE, REASSIGN, RESOLVE, SEVERITY]
    text = dump(post)
    assert "Acme GmbH" in text and "SEV2" in text and f"<@{OWNER}>" in text
    assert "tickets.example/123?a=1&amp;b=2" in text
    assert "on track" in text
    assert f"escalation #{e.id}" in dm.params["text"] and "You own" in dm.params["text"]
    [permalink] = result.of("chat.getPermalink")
    assert e.permalink == permalink.response["permalink"]
    assert (permalink.params["channel"], permalink.params["message_ts"]) == ("C0ESC", e.message_ts)
    [confirmation] = result.of("chat.postEphemeral")
    assert (confirmation.params["channel"], confirmation.params["user"]) == (ORIGIN, REPORTER)
    assert "is stored and being posted in <#C0ESC>" in confirmation.params["text"]
    assert "No escalation channel" not in confirmation.params["text"]
    assert _delivery(sessions, e.id) == "sent"
    [opened] = service.list_timeline(sessions, team_id=TEAM, escalation_id=e.id)
    assert (opened.kind, opened.actor_id) == ("opened", REPORTER)


def test_the_owner_dm_links_the_channel_message(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    """The owner's DM is rendered when it is sent; it must link the escalation's message,
    so it may not go out before that message is posted (they are sent concurrently)."""
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    for n in range(5):  # each one a chance for the DM to overtake the post
        result = submit_new(slack, title=f"Escalation {n}")
        e = service.list_escalations(
            sessions, team_id=TEAM, scope="all", user_id=REPORTER, now=clock()
        )[0]
        [dm] = [p for p in result.of("chat.postMessage") if p.params["channel"] == OWNER]
        assert e.permalink and f"<{e.permalink}|Open the escalation>" in dm.params["text"]


def test_without_escalation_channel_it_posts_where_typed_and_says_so(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    result = submit_new(slack)
    # The channel post and the owner's DM go out concurrently: either may come first.
    posts = result.of("chat.postMessage")
    assert sorted(p.params["channel"] for p in posts) == sorted([ORIGIN, OWNER])
    [post] = [p for p in posts if p.params["channel"] == ORIGIN]
    assert action_ids(post.params["blocks"]) == [ACKNOWLEDGE, REASSIGN, RESOLVE, SEVERITY]
    [confirmation] = result.of("chat.postEphemeral")
    assert "being posted in <#C0001>" in confirmation.params["text"]
    assert "No escalation channel is configured" in confirmation.params["text"]


def test_channel_without_the_bot_falls_back_and_tells_the_reporter(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    standin.channels_without_bot.add("C0ESC")
    result = submit_new(slack)
    assert result.status == 200 and not result.body
    e = only_escalation(sessions, clock)
    # Stored, refused by C0ESC, posted where /escalate was typed instead.
    refused = [c for c in standin.calls("chat.postMessage", ok_only=False) if c.status != 200]
    assert [c.params["channel"] for c in refused] == ["C0ESC"]
    [post] = [p for p in result.of("chat.postMessage") if p.params["channel"] == ORIGIN]
    assert action_ids(post.params["blocks"]) == [ACKNOWLEDGE, REASSIGN, RESOLVE, SEVERITY]
    assert (e.channel_id, e.message_ts) == (ORIGIN, post.response["ts"])
    assert _delivery(sessions, e.id) == "sent"
    # The reporter learns that C0ESC refused, and what to do about it: the confirmation
    # (queued before the post was tried) cannot say so, so a note has to follow.
    told = [
        c.params["text"]
        for c in result.calls
        if c.method in ("chat.postEphemeral", "chat.postMessage")
        and REPORTER in (c.params.get("user"), c.params.get("channel"))
    ]
    assert any("<#C0ESC>" in t and "/invite" in t for t in told), told


def test_no_owner_picked_falls_back_to_process_owner(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock, owner=None)
    assert e.owner_id == PROCESS_OWNER


def test_every_transition_updates_message_thread_and_timeline(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock)

    clock.advance(minutes=5)
    result = press(slack, ACKNOWLEDGE, e, user=OWNER)
    assert not result.of("response_url")
    [thread] = result.of("chat.postMessage")
    assert thread.params["thread_ts"] == e.message_ts and "acknowledged" in thread.params["text"]
    [update] = result.of("chat.update")
    assert action_ids(update.params["blocks"]) == [REASSIGN, RESOLVE, SEVERITY]
    assert "Acknowledged" in dump(update)
    e = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (e.status, e.acknowledged_by, e.acknowledged_at) == ("acknowledged", OWNER, clock())

    result = press(slack, REASSIGN, e, user=OWNER)
    [opened] = result.of("views.open")
    assert opened.params["view"]["callback_id"] == modals.REASSIGN_CALLBACK
    result = submit_reassign(slack, e.id, user=OWNER, new_owner="U0NEW")
    assert result.body in ("", None, {}) or "errors" not in result.body
    posts = result.of("chat.postMessage")
    assert any("reassigned" in p.params["text"] and p.params.get("thread_ts") for p in posts)
    [new_owner_dm] = [p for p in posts if p.params["channel"] == "U0NEW"]
    assert f"<@{OWNER}> assigned you" in new_owner_dm.params["text"]
    assert "<@U0NEW>" in dump(result.of("chat.update")[-1])

    # The old owner may no longer act; the new one and the process owner may.
    denied = press(slack, RESOLVE, e, user=OWNER)
    assert "Only" in denied.reply_text and not denied.of("views.open")
    result = press(slack, RESOLVE, e, user="U0NEW")
    [opened] = result.of("views.open")
    assert opened.params["view"]["callback_id"] == modals.RESOLVE_CALLBACK
    clock.advance(hours=1)
    result = submit_resolve(slack, e.id, user="U0NEW")
    [update] = result.of("chat.update")
    assert action_ids(update.params["blocks"]) == [REOPEN]
    assert "expired TLS certificate" in dump(update) and "Resolved" in dump(update)
    e = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (e.status, e.resolved_by) == ("resolved", "U0NEW")
    assert e.root_cause == "An expired TLS certificate at the card processor."
    assert e.corrective_action == "Renewed it; added expiry monitoring."
    e_resolved_root_cause = e.root_cause

    # Reopen asks why first; nothing changes until the reason is given.
    result = press(slack, REOPEN, e, user=PROCESS_OWNER)
    [opened] = result.of("views.open")
    assert opened.params["view"]["callback_id"] == modals.REOPEN_CALLBACK
    assert "expired TLS certificate" in json.dumps(opened.params["view"])
    assert (
        service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock()).status
        == "resolved"
    )
    result = submit_reopen(slack, e.id, user=PROCESS_OWNER, reason="Declines are back <!channel>")
    [update] = result.of("chat.update")
    assert action_ids(update.params["blocks"]) == [REASSIGN, RESOLVE, SEVERITY]
    # the previous resolution stays visible on the message, with why it was reopened
    message = dump(update)
    assert "Previous root cause" in message and "expired TLS certificate" in message
    assert "Declines are back &lt;!channel&gt;" in message and "<!channel>" not in message
    e = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (e.status, e.resolved_at, e.root_cause) == ("acknowledged", None, None)

    timeline = service.list_timeline(sessions, team_id=TEAM, escalation_id=e.id)
    assert [(t.kind, t.actor_id) for t in timeline] == [
        ("opened", REPORTER),
        ("acknowledged", OWNER),
        ("reassigned", OWNER),
        ("resolved", "U0NEW"),
        ("reopened", PROCESS_OWNER),
    ]
    assert timeline[2].detail == {"from": OWNER, "to": "U0NEW"}
    assert timeline[4].detail["reason"] == "Declines are back <!channel>"
    assert timeline[4].detail["previous_root_cause"] == e_resolved_root_cause
    assert "*Why*" in thread_posts(standin, e)[-1].params["text"]
    assert len(thread_posts(standin, e)) == 4
    assert len(updates_of(standin, e)) == 4


def test_resolving_an_open_escalation_also_stops_the_ack_clock(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock)
    clock.advance(minutes=3)
    submit_resolve(slack, e.id, user=ADMIN)
    e = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (e.status, e.acknowledged_at, e.acknowledged_by) == ("resolved", clock(), ADMIN)
    assert str(e.ack_clock.state) == "met"


def test_strangers_are_refused_and_nothing_changes(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock)
    for action in (ACKNOWLEDGE, REASSIGN, RESOLVE):
        result = press(slack, action, e, user=STRANGER)
        reply = result.answer
        assert reply.params["response_type"] == "ephemeral"
        assert (
            f"<@{OWNER}>" in reply.params["text"] and f"<@{PROCESS_OWNER}>" in reply.params["text"]
        )
        assert not result.of("chat.update") and not result.of("views.open")
    # A stranger who got hold of a modal is refused at submit, in the modal itself.
    for result in (
        submit_resolve(slack, e.id, user=STRANGER),
        submit_reassign(slack, e.id, user=STRANGER, new_owner=STRANGER),
    ):
        assert result.body["response_action"] == "errors"
        [reason] = result.body["errors"].values()
        assert "Only" in reason
        assert not result.of("chat.update") and not result.of("chat.postMessage")
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (after.status, after.owner_id, after.version) == ("open", OWNER, e.version)
    assert [t.kind for t in service.list_timeline(sessions, team_id=TEAM, escalation_id=e.id)] == [
        "opened"
    ]


def test_process_owner_and_admin_may_act(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock)
    assert not press(slack, ACKNOWLEDGE, e, user=PROCESS_OWNER).of("response_url")
    submit_resolve(slack, e.id, user=ADMIN)
    after = service.get_escalation(sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (after.acknowledged_by, after.resolved_by) == (PROCESS_OWNER, ADMIN)


def test_reporter_who_is_not_owner_may_not_act(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    result = press(slack, ACKNOWLEDGE, e, user=REPORTER)
    assert "Only" in result.reply_text
    # With no process owner configured the explanation names only the owner and admins.
    assert "process owner" not in result.reply_text


def test_reassign_to_the_same_owner_changes_nothing(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock)
    result = submit_reassign(slack, e.id, user=OWNER, new_owner=OWNER)
    [dm] = result.of("chat.postMessage")
    assert dm.params["channel"] == OWNER and "already owns" in dm.params["text"]
    assert len(service.list_timeline(sessions, team_id=TEAM, escalation_id=e.id)) == 1


def test_list_open_mine_all(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    first = raise_escalation(slack, sessions, clock, title="Invoices <!channel> missing")
    raise_escalation(slack, sessions, clock, title="Search slow", owner="U0OTHER")
    submit_resolve(slack, first.id, user=OWNER)

    open_text = slack.command("/escalate", "list").reply_text
    assert "Search slow" in open_text and "Invoices" not in open_text
    mine = slack.command("/escalate", "list mine", user=OWNER).reply_text
    assert "You own no open escalations" in mine
    everything = slack.command("/escalate", "list all").reply_text
    assert "Search slow" in everything and "Invoices &lt;!channel&gt; missing" in everything
    assert "<!channel>" not in everything
    bad = slack.command("/escalate", "list everything")
    assert "`open`, `mine` or `all`" in bad.reply_text


def test_help(slack: SlackDriver) -> None:
    result = slack.command("/escalate", "help")
    assert "/escalate list" in result.reply_text
    assert not result.of("views.open")


def test_changes_are_in_the_audit_log(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    from storage.core import list_audit_entries
    from storage.db import transaction

    e = raise_escalation(slack, sessions, clock)
    press(slack, ACKNOWLEDGE, e, user=OWNER)
    press(slack, ACKNOWLEDGE, e, user=OWNER)  # refused: not audited
    with transaction(sessions) as session:
        entries = list_audit_entries(session, team_id=TEAM)
    assert [(a.action, a.actor_id, a.subject) for a in entries] == [
        ("escalation.acknowledged", OWNER, f"escalation #{e.id}")
    ]


def test_a_replayed_or_double_clicked_submission_is_one_escalation(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    """Slack resends a view_submission it got no answer to (and a double click submits it
    twice) with the same view id: one escalation, one message, one confirmation."""
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.ESCALATIONS_CHANNEL, value="C0ESC"
    )
    meta = NewEscalationMeta(channel_id=ORIGIN).encode()
    results = [
        slack.submit(
            modals.NEW_CALLBACK,
            new_values(),
            private_metadata=meta,
            user=REPORTER,
            view_id="V0REPLAY",
        )
        for _ in range(3)
    ]
    assert [r.status for r in results] == [200, 200, 200]
    e = only_escalation(sessions, clock)
    posted = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == "C0ESC"]
    assert len(posted) == 1 and e.message_ts == posted[0].response["ts"]
    assert len(standin.calls("chat.postEphemeral")) == 1
    # another view is another escalation
    slack.submit(modals.NEW_CALLBACK, new_values(), private_metadata=meta, user=REPORTER)
    stored = service.list_escalations(
        sessions, team_id=TEAM, scope="all", user_id=REPORTER, now=clock()
    )
    assert len(stored) == 2
