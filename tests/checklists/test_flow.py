"""`/checklist` end to end: start, tick, untick, completion, reopen, cancel, list, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from sqlalchemy.exc import OperationalError

from bot.checklists import service as checklists
from bot.checklists.models import RunView
from bot.checklists.render import TICK_ACTION
from bot.checklists.templates import list_templates, parse_template_specs, sync_templates
from bot.clock import FixedClock
from bot.deps import Deps
from bot.org import service as directory
from bot.outbox.service import get_entry, list_entries, resend
from storage.core import list_audit_entries
from storage.db import transaction
from tests.support.checklists import (
    CHANNEL,
    ONBOARDING,
    STARTER,
    TEAM,
    active_runs,
    add_templates,
    big_template,
    cancel,
    checkbox_blocks,
    click_item,
    current_message,
    only_run,
    raw_click,
    ticked,
)
from tests.support.slack import SlackDriver, SlackStandin


def _start(slack: SlackDriver, text: str = "onboarding Acme", **kwargs: Any) -> Any:
    return slack.command("/checklist", f"start {text}", **kwargs)


def _no_runs(deps: Deps) -> bool:
    return not active_runs(deps)


def test_start_posts_the_checklist_in_the_channel(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    directory.set_process_owner(
        deps.sessions,
        team_id=TEAM,
        process_key="onboarding",
        process_name="Onboarding",
        owner_id="U0003",
        actor_id="U0009",
        now=deps.clock(),
    )
    result = _start(slack)
    [post] = result.of("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    blocks = post.params["blocks"]
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "Customer onboarding — Acme"
    assert "*0/3 done*" in blocks[1]["text"]["text"]
    [group] = [b["elements"][0] for b in blocks if b["type"] == "actions"]
    assert [o["text"]["text"] for o in group["options"]] == [
        "Kick-off call",
        "Provision the workspace",
        "Import the customer's data",
    ]
    descriptions = [o["description"]["text"] for o in group["options"]]
    # owners: the starter, a user, the onboarding process owner; due dates relative + absolute
    assert descriptions[0].startswith("<@U0001> · due Wed 18 Nov (today)")
    assert descriptions[1] == "<@U0002> · due Fri 20 Nov (in 2 days)"
    assert descriptions[2] == "<@U0003> · due Mon 23 Nov (in 5 days)"
    assert "initial_options" not in group
    assert "https://wiki.example.com/import" in str(blocks)
    assert "Started *Customer onboarding — Acme*" in result.reply_text
    run = only_run(deps)
    assert run.message_ts and run.channel_id == CHANNEL and run.template_version == 1


def test_tick_and_untick_update_the_database_and_the_message(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    run = only_run(deps)
    clock.advance(hours=1)
    result = click_item(slack, current_message(standin, run), 1, user="U0002")
    [update] = result.of("chat.update")
    assert update.params["ts"] == run.message_ts and update.params["channel"] == CHANNEL
    message = current_message(standin, run)
    assert ticked(message) == {1}
    assert "*1/3 done*" in message["blocks"][1]["text"]["text"]
    option = checkbox_blocks(message)[0]["elements"][0]["options"][1]
    assert option["description"]["text"].startswith("✓ <@U0002> 18 Nov 11:00")
    item = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key).items[1]
    assert (item.done_by, item.done_at) == ("U0002", clock())

    click_item(slack, message, 1, tick=False, user="U0003")
    message = current_message(standin, run)
    assert ticked(message) == set()
    item = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key).items[1]
    assert item.done_at is None and item.done_by is None


def test_last_tick_completes_the_run_and_untick_reopens_it(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    run = only_run(deps)
    for position in range(3):
        clock.advance(hours=25)
        result = click_item(slack, current_message(standin, run), position)
    notes = [c for c in result.of("chat.postMessage") if c.params.get("thread_ts")]
    [note] = notes
    assert note.params["thread_ts"] == run.message_ts
    assert "complete" in note.params["text"] and "3 days 3 hours" in note.params["text"]
    done = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert done.status == "completed"
    assert done.duration_seconds == 75 * 3600
    assert done.completed_at == clock()
    assert ":white_check_mark: *Completed* in 3 days 3 hours" in str(current_message(standin, run))
    assert _no_runs(deps)  # completed runs are not active

    result = click_item(slack, current_message(standin, run), 0, tick=False)
    reopened = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert reopened.status == "active"
    assert reopened.completed_at is None and reopened.duration_seconds is None
    assert "reopened" in result.of("chat.postMessage")[0].params["text"]
    assert "*2/3 done*" in current_message(standin, run)["blocks"][1]["text"]["text"]


def test_more_than_ten_items_split_into_groups_and_sixty_fit_one_message(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, big_template(23), big_template(60, name="huge"))
    _start(slack, "big")
    blocks = _start(slack, "huge").of("chat.postMessage")[0].params["blocks"]
    first = standin.calls("chat.postMessage")[0].params["blocks"]
    groups = [b["elements"][0]["options"] for b in first if b["type"] == "actions"]
    assert [len(g) for g in groups] == [10, 10, 3]
    ids = [b["block_id"] for b in first if "block_id" in b]
    assert len(set(ids)) == len(ids)  # block ids unique
    assert len(blocks) <= 50
    assert [len(b["elements"][0]["options"]) for b in blocks if b["type"] == "actions"] == [10] * 6
    for block in blocks:  # slack_sdk's models accept every block (lengths, shapes)
        parsed = Block.parse(block)
        assert parsed is not None and parsed.to_dict() == block

    # ticking an item in the third group only touches that group
    run = next(r for r in active_runs(deps) if r.template_name == "big")
    click_item(slack, current_message(standin, run), 21)
    assert ticked(current_message(standin, run)) == {21}


def test_editing_a_template_never_changes_a_started_run(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    edited = {**ONBOARDING, "items": [{"title": "Only one step now", "due_days": 1}]}
    sync_templates(
        deps.sessions, team_id=TEAM, specs=parse_template_specs([edited]), now=deps.clock()
    )
    run = only_run(deps)
    assert run.items[0].title == "Kick-off call" and len(run.items) == 3
    assert run.template_version == 1
    click_item(slack, current_message(standin, run), 0)
    assert len(checkbox_blocks(current_message(standin, run))[0]["elements"][0]["options"]) == 3
    _start(slack, "onboarding Beta")
    newer = [r for r in active_runs(deps) if r.subject == "Beta"]
    assert newer[0].template_version == 2 and len(newer[0].items) == 1


def test_cancel_by_starter_or_admin_only(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    run = only_run(deps)
    refused = cancel(slack, current_message(standin, run), user="U0005")
    assert "Only the person who started this checklist" in refused.reply_text
    assert not refused.of("chat.update")
    assert only_run(deps).status == "active"

    directory.set_admins(deps.sessions, team_id=TEAM, user_ids=["U0007"])
    result = cancel(slack, current_message(standin, run), user="U0007")
    [update] = result.of("chat.update")
    assert "Cancelled* by <@U0007>" in str(update.params["blocks"])
    assert not checkbox_blocks(current_message(standin, run))  # nothing left to tick
    cancelled = checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key)
    assert (cancelled.status, cancelled.cancelled_by) == ("cancelled", "U0007")
    assert _no_runs(deps)
    # a stale tick on the cancelled run is refused and changes nothing
    first_post = standin.calls("chat.postMessage")[0].params["blocks"]
    original = {**current_message(standin, run), "blocks": first_post}
    stale = click_item(slack, original, 0)
    assert "cancelled" in stale.reply_text and not stale.of("chat.update")


def test_starter_can_cancel(deps: Deps, slack: SlackDriver, standin: SlackStandin) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    run = only_run(deps)
    cancel(slack, current_message(standin, run), user="U0001")
    assert checklists.get_run(deps.sessions, team_id=TEAM, run_key=run.key).status == "cancelled"


def test_unknown_template_lists_the_existing_ones(deps: Deps, slack: SlackDriver) -> None:
    add_templates(deps, ONBOARDING, big_template(3))
    result = _start(slack, "offboarding Bob")
    assert "no checklist template called `offboarding`" in result.reply_text
    assert "`big`" in result.reply_text and "`onboarding`" in result.reply_text
    assert not result.of("chat.postMessage") and _no_runs(deps)
    missing = slack.command("/checklist", "start")
    assert "Say which template" in missing.reply_text and "`onboarding`" in missing.reply_text


def test_start_where_the_bot_is_not_a_member_keeps_the_run_and_tells_the_starter(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    standin.channels_without_bot.add("C9")
    result = _start(slack, channel="C9")
    # stored first, answered, then posted: the post is refused after the answer
    assert "Started *Customer onboarding — Acme*" in result.reply_text
    assert all(c.params["channel"] != "C9" for c in result.of("chat.postMessage"))
    refused = [
        c for c in standin.calls("chat.postMessage", ok_only=False) if c.params["channel"] == "C9"
    ]
    assert len(refused) == 1  # not_in_channel is given up at once, never retried
    run = only_run(deps)
    assert run.channel_id == "C9" and not run.message_ts
    entry = get_entry(deps.sessions, team_id=TEAM, key=checklists.message_key(run.key))
    assert entry is not None and (entry.state, entry.error) == ("failed", "not_in_channel")
    # the starter is told by DM how to get it posted
    [notice] = [c for c in result.of("chat.postMessage") if c.params["channel"] == STARTER]
    assert "<#C9>" in notice.params["text"] and "not_in_channel" in notice.params["text"]
    assert f"opsloop outbox resend {entry.id}" in notice.params["text"]
    # once the bot is invited, resending posts the checklist and the run gets its message
    standin.channels_without_bot.clear()
    assert resend(deps.sessions, message_id=entry.id)
    assert slack.deliver()
    [post] = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == "C9"]
    assert "Customer onboarding — Acme" in post.params["text"]
    assert only_run(deps).message_ts == post.response["ts"]


def test_click_before_the_message_ts_is_recorded_says_it_is_still_being_posted(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    standin.channels_without_bot.add(CHANNEL)  # the run is stored, its message not posted
    _start(slack)
    run = only_run(deps)
    assert not run.message_ts
    message = {
        "type": "message",
        "ts": "1700009999.000100",
        "blocks": [
            {
                "type": "actions",
                "block_id": f"cl:{run.key}:0",
                "elements": [{"type": "checkboxes", "options": []}],
            }
        ],
    }
    selected = [{"value": "0", "text": {"type": "mrkdwn", "text": "0"}}]
    result = raw_click(slack, message, block_id=f"cl:{run.key}:0", selected=selected)
    assert "still being posted" in result.reply_text
    assert only_run(deps).done_count == 0
    assert not result.of("chat.update")


def test_forged_payload_for_another_run_is_refused(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack, "onboarding Acme", channel="C0001")
    _start(slack, "onboarding Secret", channel="C0SECRET")
    runs = active_runs(deps)
    acme, secret = sorted(runs, key=lambda r: r.subject)
    message = current_message(standin, acme)
    # the user edits the block id to point at the run in a channel they are not in
    forged_block = f"cl:{secret.key}:0"
    result = raw_click(
        slack,
        message,
        block_id=forged_block,
        selected=[{"value": "0", "text": {"type": "mrkdwn", "text": "x"}}],
    )
    assert "nothing was changed" in result.reply_text
    assert not result.of("chat.update")
    assert checklists.get_run(deps.sessions, team_id=TEAM, run_key=secret.key).done_count == 0


def test_forged_payload_for_an_unknown_item_is_refused(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    run = only_run(deps)
    message = current_message(standin, run)
    block_id = checkbox_blocks(message)[0]["block_id"]
    for values in (["7"], ["0", "x"], ["-1"]):
        selected = [{"value": v, "text": {"type": "mrkdwn", "text": v}} for v in values]
        result = raw_click(slack, message, block_id=block_id, selected=selected)
        assert result.status == 200  # answered by us, not by Bolt's 404/500
        assert "nothing was changed" in result.reply_text, values
        assert not result.of("chat.update")
    for bad_block in (f"cl:{run.key}:4", "cl:nope", f"cl:{run.key}:0:extra"):
        selected = [{"value": "0", "text": {"type": "mrkdwn", "text": "0"}}]
        result = raw_click(slack, message, block_id=bad_block, selected=selected)
        assert "nothing was changed" in result.reply_text, bad_block
    assert only_run(deps).done_count == 0


def test_forged_payload_from_another_team_is_refused(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack)
    run = only_run(deps)
    message = current_message(standin, run)
    slack.team_id = "T0OTHER"
    result = click_item(slack, message, 0)
    assert "nothing was changed" in result.reply_text
    assert not result.of("chat.update")
    assert only_run(deps).done_count == 0


def test_list_shows_active_runs_with_progress_and_overdue_items(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    add_templates(deps, ONBOARDING)
    _start(slack, "onboarding Acme <!channel>")
    _start(slack, "onboarding Beta", user="U0009")
    run = only_run_with(deps, "Acme <!channel>")
    click_item(slack, current_message(standin, run), 2)
    clock.advance(days=3)
    everything = slack.command("/checklist", "list")
    assert "Customer onboarding — Acme &lt;!channel&gt;" in everything.reply_text
    assert "<!channel>" not in everything.reply_text
    assert "`1/3 done`" in everything.reply_text and "2 overdue" in everything.reply_text
    # due by the end of Friday, 10 hours ago (not "1 day" nor "today")
    overdue_line = "Provision the workspace — <@U0002>, due Fri 20 Nov (overdue 10 h)"
    assert overdue_line in everything.reply_text
    assert "Beta" in everything.reply_text
    mine = slack.command("/checklist", "list mine", user="U0009")
    assert "Beta" in mine.reply_text and "Acme" not in mine.reply_text
    owner = slack.command("/checklist", "list mine", user="U0002")
    assert "Beta" in owner.reply_text and "Acme" in owner.reply_text  # owns open items in both
    bad = slack.command("/checklist", "list everything")
    assert "takes `mine` or `all`" in bad.reply_text


def only_run_with(deps: Deps, subject: str) -> RunView:
    runs = active_runs(deps)
    return next(r for r in runs if r.subject == subject)


def test_templates_help_and_unknown_subcommand(deps: Deps, slack: SlackDriver) -> None:
    empty = slack.command("/checklist", "templates")
    assert "no checklist templates yet" in empty.reply_text
    add_templates(deps, ONBOARDING, big_template(12))
    listing = slack.command("/checklist", "templates")
    assert "`onboarding` — Customer onboarding (3 items)" in listing.reply_text
    assert "`big` — Launch with 12 steps (12 items)" in listing.reply_text
    assert [t.item_count for t in list_templates(deps.sessions, team_id=TEAM)] == [12, 3]
    helped = slack.command("/checklist", "help")
    assert "/checklist start <template> [subject]" in helped.reply_text
    unknown = slack.command("/checklist", "frobnicate <!here>")
    assert "I don't know" in unknown.reply_text and "<!here>" not in unknown.reply_text


def test_tick_action_id_is_the_one_registered() -> None:
    assert TICK_ACTION == "checklist.tick"


def test_bad_command_input_is_answered_with_status_200(deps: Deps, slack: SlackDriver) -> None:
    result = _start(slack, "nope")
    assert result.status == 200
    assert "no checklist template called `nope`" in result.reply_text


def test_subject_is_escaped_in_the_fallback_text_and_mrkdwn(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    result = _start(slack, "onboarding <!channel> & <https://evil.example|Acme>")
    [post] = result.of("chat.postMessage")
    assert "<!channel>" not in post.params["text"]
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|Acme&gt;" in post.params["text"]
    assert "<!channel>" not in result.reply_text


def test_too_long_subject_is_refused(deps: Deps, slack: SlackDriver) -> None:
    add_templates(deps, ONBOARDING)
    result = _start(slack, "onboarding " + "x" * 201)
    assert "subject is too long" in result.reply_text
    assert not result.of("chat.postMessage") and _no_runs(deps)


def test_database_failure_at_start_stores_nothing_queues_nothing_and_says_so(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_templates(deps, ONBOARDING)
    real_enqueue = checklists.enqueue

    def enqueue_then_lose_the_database(session: Any, **kwargs: Any) -> int:
        real_enqueue(session, **kwargs)
        session.flush()  # the run, its audit entry and its outbox row are all written…
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))  # …then lost

    monkeypatch.setattr(checklists, "enqueue", enqueue_then_lose_the_database)
    result = _start(slack)
    assert result.status == 200
    assert "could not reach its database, so nothing was saved" in result.answer.params["text"]
    assert "Started" not in result.reply_text
    assert _no_runs(deps)
    assert list_entries(deps.sessions, team_id=TEAM) == []  # nothing is left to be posted
    with transaction(deps.sessions) as session:
        assert list_audit_entries(session, team_id=TEAM) == []
    assert standin.calls("chat.postMessage", ok_only=False) == []


def test_tick_is_kept_when_the_message_cannot_be_updated(
    deps: Deps, slack: SlackDriver, standin: SlackStandin
) -> None:
    add_templates(deps, ONBOARDING)
    directory.set_admins(deps.sessions, team_id=TEAM, user_ids=["U0007"])
    _start(slack)
    run = only_run(deps)
    original = current_message(standin, run)
    standin.fail("chat.update", status=200, error="message_not_found")
    result = click_item(slack, original, 0)
    assert result.status == 200 and not result.reply_text  # the tick itself worked
    assert only_run(deps).done_count == 1
    update_key = f"{checklists.message_key(run.key)}:update"
    entry = get_entry(deps.sessions, team_id=TEAM, key=update_key)
    assert entry is not None and (entry.state, entry.error) == ("failed", "message_not_found")
    # message_not_found cannot change by retrying: one attempt, then given up
    assert len(standin.calls("chat.update", ok_only=False)) == 1
    # nobody acted on the refresh itself, so the admins hear that it was not delivered
    [notice] = [c for c in result.of("chat.postMessage") if c.params["channel"] == "U0007"]
    assert "could not deliver an update of a message" in notice.params["text"]
    assert f"opsloop outbox resend {entry.id}" in notice.params["text"]
    # the next change brings the message up to date with both ticks
    result = click_item(slack, original, 1)
    [update] = result.of("chat.update")
    assert update.response.get("ok") is True
    assert ticked(current_message(standin, run)) == {0, 1}
    entry = get_entry(deps.sessions, team_id=TEAM, key=update_key)
    assert entry is not None and entry.state == "sent"
