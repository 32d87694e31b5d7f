"""SOP reviews from Slack: *Mark reviewed* from `/ops status`, the App Home, the reminder DM
and the nudge; permission-checked, audited, and written back by `opsloop playbook export`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import inspect, text

from bot.cli import cli
from bot.clock import FixedClock
from bot.deps import Deps
from bot.nudges.render import DONE_ACTION, ItemRef
from bot.org.models import ReviewRecorded, ReviewRef, ReviewTarget
from bot.org.render import (
    MARK_REVIEWED_ACTION,
    REVIEW_CALLBACK,
    REVIEW_NOTE,
    REVIEW_NOTE_VALUE,
    render_review_modal,
    render_review_reminder,
    render_reviewed,
)
from bot.slack.blocks import as_dicts
from bot.slack.limits import MESSAGE_TEXT_LIMIT, PRIVATE_METADATA_LIMIT, SECTION_TEXT_LIMIT
from storage import org, schema
from storage.core import list_audit_entries
from storage.db import make_engine, make_session_factory, transaction
from storage.models import Process
from tests.support.playbook import ADMIN, OTHER, OWNER, SMALL_PLAYBOOK, TEAM, load_small_playbook
from tests.support.schedule import run_and_deliver
from tests.support.slack import ApiCall, Result, SlackDriver, SlackStandin

# The clock starts on Wednesday 2026-11-18 10:00 UTC (11:00 in the team's Berlin).
TODAY = "2026-11-18"


@pytest.fixture
def team(deps: Deps, standin: SlackStandin) -> Deps:
    standin.add_user(OWNER, "Dana Okafor", tz="Europe/Berlin")
    standin.add_user(ADMIN, "Priya Raman", tz="Europe/Berlin")
    load_small_playbook(deps.sessions, deps.clock())
    return deps


def _buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for block in blocks:
        found += [e for e in block.get("elements") or [] if e.get("type") == "button"]
        if (block.get("accessory") or {}).get("type") == "button":
            found.append(block["accessory"])
    return [b for b in found if b["action_id"] == MARK_REVIEWED_ACTION]


def _review_button(blocks: list[dict[str, Any]], process_key: str) -> str:
    for button in _buttons(blocks):
        if json.loads(button["value"])["p"] == process_key:
            return str(button["value"])
    raise AssertionError(f"no Mark reviewed button for {process_key}")


def _opened_modal(result: Result) -> dict[str, Any]:
    [call] = result.of("views.open")
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else view  # type: ignore[no-any-return]


def _submit(slack: SlackDriver, modal: dict[str, Any], note: str | None, user: str) -> Result:
    value = {"type": "plain_text_input", "value": note}
    return slack.submit(
        REVIEW_CALLBACK,
        {REVIEW_NOTE: {REVIEW_NOTE_VALUE: value}},
        private_metadata=modal["private_metadata"],
        user=user,
    )


def _exported_processes(db_url: str) -> dict[str, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["playbook", "export", "--team", TEAM], env={"DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    return {p["key"]: p for p in yaml.safe_load(result.stdout)["processes"]}


def _last_reviewed(deps: Deps, key: str) -> str | None:
    with transaction(deps.sessions) as session:
        process = org.get_process(session, team_id=TEAM, key=key)
        assert process is not None
        return process.last_reviewed_at.date().isoformat() if process.last_reviewed_at else None


def test_review_recorded_from_ops_status_is_todays_last_reviewed_in_the_export(
    slack: SlackDriver, team: Deps, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    status = slack.command("/ops", "status", user=ADMIN)
    assert "Escalation handling (due 2026-04-05)" in status.reply_text
    value = _review_button(status.answer.params["blocks"], "escalations")

    modal = _opened_modal(slack.click(MARK_REVIEWED_ACTION, value, user=ADMIN))
    assert modal["callback_id"] == REVIEW_CALLBACK
    shown = json.dumps(modal["blocks"])
    assert "last reviewed 2026-01-05, was due 2026-04-05" in shown
    assert f"Marks the SOP reviewed today ({TODAY}); the next review is then due 2027-02-16" in (
        shown
    )
    note = "Added the <!channel> SEV1 pager step & the <@U0FORGED> rota"
    submitted = _submit(slack, modal, note, ADMIN)
    assert submitted.status == 200 and not submitted.body  # stored, then the modal closed

    # the reviewer hears where they pressed it, the note escaped (no @channel, no mention)
    [confirmation] = submitted.of("chat.postEphemeral")
    assert confirmation.params["user"] == ADMIN and confirmation.params["channel"] == "C0001"
    said = str(confirmation.params["text"])
    assert f"marked the *Escalation handling* SOP reviewed on {TODAY}" in said
    assert "next review due 2027-02-16" in said
    assert "&lt;!channel&gt; SEV1 pager step &amp; the &lt;@U0FORGED&gt; rota" in said
    assert "<!channel>" not in json.dumps(confirmation.params)

    assert _exported_processes(db_url)["escalations"]["last_reviewed"].isoformat() == TODAY
    with transaction(team.sessions) as session:
        [entry] = [e for e in list_audit_entries(session, team_id=TEAM) if e.actor_id == ADMIN]
        [review] = org.list_process_reviews(session, team_id=TEAM, process_key="escalations")
        assert (entry.action, entry.subject) == ("process.reviewed", "escalations")
        assert entry.detail == {"from": "2026-01-05", "to": TODAY, "note": note}
        assert (review.reviewed_by, review.note) == (ADMIN, note)
    # no longer stale
    assert "Escalation handling" not in slack.command("/ops", "status").reply_text


def test_only_the_owner_or_an_admin_may_review_and_the_id_that_comes_back_is_rechecked(
    slack: SlackDriver, team: Deps
) -> None:
    value = json.dumps({"p": "onboarding", "o": "status", "c": "", "t": ""})
    refused = slack.click(MARK_REVIEWED_ACTION, value, user=OTHER)
    assert refused.of("views.open") == []
    assert f"Only its owner <@{OWNER}> or an Opsloop admin" in refused.reply_text

    # a modal opened by the owner and submitted by someone else (a forged submission)
    modal = _opened_modal(slack.click(MARK_REVIEWED_ACTION, value, user=OWNER))
    forged = _submit(slack, modal, "x", OTHER)
    assert forged.body["response_action"] == "errors"
    assert "Only its owner" in forged.body["errors"][REVIEW_NOTE]
    assert _last_reviewed(team, "onboarding") == "2026-10-01"

    # an id Opsloop never wrote: unknown process, junk, a 10 KB key, NUL
    for bogus in (
        json.dumps({"p": "payroll", "o": "home"}),
        "not json",
        json.dumps({"p": "onboarding", "o": "elsewhere"}),
        json.dumps({"p": "k" * 10_000, "o": "home"}),
        json.dumps({"p": "onboarding\x00", "o": "home"}),
    ):
        result = slack.click(MARK_REVIEWED_ACTION, bogus, user=ADMIN)
        assert result.of("views.open") == [], bogus[:40]
        assert "nothing was" in result.reply_text and "Traceback" not in result.reply_text

    # the admin may review a process they do not own; an empty note is fine
    modal = _opened_modal(slack.click(MARK_REVIEWED_ACTION, value, user=ADMIN))
    assert not _submit(slack, modal, None, ADMIN).body
    assert _last_reviewed(team, "onboarding") == TODAY


def _open_home(slack: SlackDriver, user: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"}
    [call] = slack.event(event).of("views.publish")
    view = call.params["view"]
    return json.loads(view) if isinstance(view, str) else view  # type: ignore[no-any-return]


def test_mark_reviewed_from_the_app_home_publishes_the_new_review_date(
    slack: SlackDriver, team: Deps
) -> None:
    home = _open_home(slack, OWNER)
    assert "next SOP review 2026-12-30" in json.dumps(home["blocks"])
    value = _review_button(home["blocks"], "onboarding")
    click = slack.click(MARK_REVIEWED_ACTION, value, user=OWNER, view={"id": "VHOME"})
    modal = _opened_modal(click)
    submitted = _submit(slack, modal, "New kickoff deck", OWNER)
    [published] = submitted.of("views.publish")
    assert published.params["user_id"] == OWNER
    assert "next SOP review 2027-02-16" in json.dumps(published.params["view"])
    assert submitted.of("chat.postMessage") == []  # the tab is the answer


def _reminders(standin: SlackStandin, user: str) -> list[ApiCall]:
    return [
        c
        for c in standin.calls("chat.postMessage")
        if c.params.get("channel") == user and "The SOP review of" in str(c.params["text"])
    ]


def test_review_reminder_goes_to_the_owner_once_per_cycle_and_is_marked_in_place(
    slack: SlackDriver, deps: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    # due Monday 2026-11-23; reminded from 7 days before, on nudge days from 10:00 Berlin
    text = SMALL_PLAYBOOK.replace("last_reviewed: 2026-10-01", "last_reviewed: 2026-08-25")
    load_small_playbook(deps.sessions, clock(), text=text)
    clock.now = datetime(2026, 11, 18, 8, 30, tzinfo=UTC)  # 09:30 in Berlin: not yet
    assert run_and_deliver(deps, clock()).review_reminders == []
    clock.now = datetime(2026, 11, 18, 9, 5, tzinfo=UTC)
    report = run_and_deliver(deps, clock())
    keys = {(r.owner_id, r.key, r.outcome) for r in report.review_reminders}
    assert keys == {
        (OWNER, "review-reminder:onboarding:2026-11-23", "queued"),
        (ADMIN, "review-reminder:escalations:2026-04-05", "queued"),  # overdue: reminded too
    }
    [reminder] = _reminders(standin, OWNER)
    assert "*Customer onboarding*" in reminder.params["text"]
    assert "due in 5 days (2026-11-23)" in reminder.params["text"]
    blocks = reminder.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    value = _review_button(blocks, "onboarding")

    for hours in (1, 24, 48):  # later ticks, other days: the same cycle is not reminded again
        clock.now = datetime(2026, 11, 18, 9, 5, tzinfo=UTC) + timedelta(hours=hours)
        assert {r.outcome for r in run_and_deliver(deps, clock()).review_reminders} == {
            "already queued"
        }
    assert len(_reminders(standin, OWNER)) == 1

    message = {"ts": reminder.response["ts"], "text": reminder.params["text"]}
    click = slack.click(
        MARK_REVIEWED_ACTION,
        value,
        user=OWNER,
        channel=reminder.response["channel"],
        message=message,
    )
    submitted = _submit(slack, _opened_modal(click), "Updated the kickoff agenda", OWNER)
    [update] = submitted.of("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (
        reminder.response["channel"],
        reminder.response["ts"],
    )
    assert "SOP reviewed on 2026-11-20" in update.params["text"]
    assert MARK_REVIEWED_ACTION not in json.dumps(update.params.get("blocks"))  # button gone
    assert _last_reviewed(deps, "onboarding") == "2026-11-20"
    # the next cycle (due 2027-02-18) is reminded a week before it, once
    clock.now = datetime(2027, 2, 11, 9, 5, tzinfo=UTC)
    report = run_and_deliver(deps, clock())
    assert (OWNER, "review-reminder:onboarding:2027-02-18", "queued") in {
        (r.owner_id, r.key, r.outcome) for r in report.review_reminders
    }


def test_reminder_days_come_from_the_playbook(deps: Deps, clock: FixedClock) -> None:
    text = SMALL_PLAYBOOK.replace("last_reviewed: 2026-10-01", "last_reviewed: 2026-08-25")
    load_small_playbook(deps.sessions, clock(), text=text + "reviews:\n  remind_days_before: 2\n")
    clock.now = datetime(2026, 11, 18, 9, 5, tzinfo=UTC)  # due in 5 days: too early
    owners = {r.owner_id for r in run_and_deliver(deps, clock()).review_reminders}
    assert OWNER not in owners
    clock.now = datetime(2026, 11, 21, 9, 5, tzinfo=UTC)  # Saturday: no nudge day
    assert OWNER not in {r.owner_id for r in run_and_deliver(deps, clock()).review_reminders}
    clock.now = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)  # Monday, the due day
    assert OWNER in {r.owner_id for r in run_and_deliver(deps, clock()).review_reminders}


def test_overdue_review_is_in_the_owners_nudge_and_done_records_the_review(
    slack: SlackDriver, team: Deps
) -> None:
    preview = slack.command("/ops", "nudge preview", user=ADMIN)
    assert "SOP review of Escalation handling (last reviewed 2026-01-05)" in preview.reply_text
    assert "SOP review" not in slack.command("/ops", "nudge preview", user=OWNER).reply_text
    value = ItemRef("sop_review", "escalations").to_value()
    done = slack.click(DONE_ACTION, value, user=ADMIN)
    assert "Marked done" in done.reply_text
    assert _last_reviewed(team, "escalations") == TODAY
    assert "SOP review" not in slack.command("/ops", "nudge preview", user=ADMIN).reply_text
    # someone else's Done with the same id is refused, nothing recorded
    refused = slack.click(DONE_ACTION, ItemRef("sop_review", "onboarding").to_value(), user=OTHER)
    assert "Only its owner" in refused.reply_text
    assert _last_reviewed(team, "onboarding") == "2026-10-01"


def test_migration_rv01_adds_the_review_and_import_tables_and_takes_them_away(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine, "rv01")
    at = datetime(2026, 11, 18, 10, tzinfo=UTC)
    with transaction(make_session_factory(engine)) as session:
        session.add(Process(team_id=TEAM, key="onboarding", name="On", review_every_days=90))
        org.add_process_review(
            session,
            team_id=TEAM,
            process_key="onboarding",
            reviewed_by=OWNER,
            reviewed_at=at,
            note="née <b>",
        )
        org.add_playbook_import(
            session, team_id=TEAM, imported_at=at, actor_id="cli", snapshot='{"version": 1}'
        )
    with transaction(make_session_factory(engine)) as session:
        [review] = org.list_process_reviews(session, team_id=TEAM, process_key="onboarding")
        assert (review.note, review.reviewed_at) == ("née <b>", at)
        assert org.last_playbook_import(session, team_id=TEAM) == '{"version": 1}'
    schema.downgrade(engine, "sk01")
    tables = set(inspect(engine).get_table_names())
    assert not {"process_reviews", "playbook_imports"} & tables and "processes" in tables
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM processes")).scalar() == 1
    schema.upgrade(engine, "rv01")
    assert {"process_reviews", "playbook_imports"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_review_surfaces_stay_within_slack_limits_and_escape_what_people_typed() -> None:
    hostile = "<!channel> & <@U0FORGED> " + "x" * 10_000
    target = ReviewTarget(
        key="onboarding",
        name=hostile[:200],
        owner_id=OWNER,
        sop_url="https://wiki.example/a?b=1&c=<2>" + "&d" * 2_000,
        last_reviewed=date(2026, 8, 1),
        due=date(2026, 10, 30),
    )
    ref = ReviewRef("onboarding", "reminder", "D0OWNER", "1.2")
    today = date(2026, 11, 18)
    modal = render_review_modal(target, ref, today)
    assert len(modal["private_metadata"]) <= PRIVATE_METADATA_LIMIT
    reminder_text, reminder_blocks = render_review_reminder(target, ref, today)
    done_text, done_blocks = render_reviewed(
        ReviewRecorded(replace(target, last_reviewed=today), ADMIN, hostile)
    )
    assert len(done_text) <= MESSAGE_TEXT_LIMIT and len(reminder_text) <= MESSAGE_TEXT_LIMIT
    for block in [*as_dicts(reminder_blocks), *as_dicts(done_blocks), *modal["blocks"]]:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= SECTION_TEXT_LIMIT
        assert "<!channel>" not in text and "<@U0FORGED>" not in text
    assert "was due 2026-10-30" in reminder_text
