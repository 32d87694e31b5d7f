"""Feedback triage from Slack, through the real app on SQLite and PostgreSQL: status from the
⋯ menu (receipt, detractor alert, /feedback recent), the triage form (note, assignee,
escalation link), soft delete, and what the export, NPS and KPIs then show."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.clock import FixedClock
from bot.feedback.models import FeedbackRecord
from bot.feedback.service import get_nps_report, list_feedback_records
from bot.kpis.compute import compute_kpi
from bot.org import service as directory
from bot.org import team_settings
from storage.core import list_audit_entries
from storage.db import SessionFactory, transaction
from tests.support import escalations as esc
from tests.support.slack import Result, SlackDriver, select_value, text_value, user_value

TEAM = "T0001"
REPORTER = "U0001"  # the driver's default user
OWNER = "U0FBOWNER"  # the feedback process owner
ADMIN = "U0ADMIN"
LEE = "U0LEE"
STRANGER = "U0STRANGER"
CHANNEL = "C0FEEDBACK"


@pytest.fixture(autouse=True)
def roles(sessions: SessionFactory, clock: FixedClock) -> None:
    directory.set_process_owner(
        sessions,
        team_id=TEAM,
        process_key=directory.FEEDBACK_PROCESS,
        process_name="Feedback triage",
        owner_id=OWNER,
        actor_id=ADMIN,
        now=clock(),
    )
    directory.set_admins(sessions, team_id=TEAM, user_ids=[ADMIN])


def stored(sessions: SessionFactory, *, include_deleted: bool = False) -> list[FeedbackRecord]:
    return list_feedback_records(
        sessions, team_id=None, since=None, include_deleted=include_deleted
    )


def log(slack: SlackDriver, text: str, *, user: str | None = None) -> Result:
    result = slack.command("/feedback", text, user=user)
    assert result.status == 200
    return result


def menu(
    slack: SlackDriver,
    verb: str,
    feedback_id: int,
    place: str = "r",
    *,
    user: str,
    message: dict[str, Any] | None = None,
    channel: str | None = None,
) -> Result:
    """Choose an option of a ⋯ menu (an ephemeral one unless `message` is given)."""
    value = f"{verb}:{feedback_id}:{place}"
    return slack.click(
        "feedback.triage",
        action_type="overflow",
        user=user,
        message=message,
        channel=channel,
        extra={"selected_option": {"value": value, "text": {"type": "plain_text", "text": verb}}},
    )


def opened_view(result: Result) -> dict[str, Any]:
    [call] = result.of("views.open")
    view: dict[str, Any] = call.params["view"]
    return view


def triage_form(
    *,
    status: str = "triaged",
    note: str | None = None,
    assignee: str | None = None,
    escalation: str | None = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "triage_status": {"triage_status": select_value(status)},
        "triage_note": {"triage_note": text_value(note)},
        "triage_assignee": {"triage_assignee": user_value(assignee)},
        "triage_escalation": {"triage_escalation": text_value(escalation)},
    }


def open_form(slack: SlackDriver, feedback_id: int, *, user: str) -> str:
    view = opened_view(menu(slack, "form", feedback_id, user=user))
    assert view["callback_id"] == "feedback.triage_form"
    return str(view["private_metadata"])


def items_in(blocks: list[dict[str, Any]]) -> list[int]:
    """The `item N` numbers quoted in a /feedback recent page, in order."""
    return [int(n) for n in re.findall(r"> item (\d+)", json.dumps(blocks))]


def export_rows(db_url: str, *args: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(
        cli,
        ["export", "feedback", *args],
        env={"DATABASE_URL": db_url, "OPSLOOP_LOG_LEVEL": "WARNING"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_triaged_then_closed_from_slack_and_the_export_shows_each_status(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, db_url: str
) -> None:
    log(slack, "Acme: CSV export times out #billing")
    [record] = stored(sessions)

    clock.advance(minutes=5)
    clicked = menu(slack, "triaged", record.id, user=OWNER)
    [redrawn] = clicked.of("response_url")
    assert redrawn.params["replace_original"] is True  # the receipt, redrawn in place
    assert f"Status: *triaged* by <@{OWNER}>" in json.dumps(redrawn.params["blocks"])
    [record] = stored(sessions)
    assert record.status == "triaged"
    triaged_at = clock()

    clock.advance(hours=2)
    meta = open_form(slack, record.id, user=OWNER)
    closed = slack.submit(
        "feedback.triage_form",
        triage_form(status="closed", note="Fixed in 4.2 & shipped <!here>"),
        private_metadata=meta,
        user=OWNER,
    )
    assert closed.body in ("", None) or "response_action" not in closed.body
    [card] = closed.of("chat.postEphemeral")  # the modal closed: the card says what changed
    card_text = json.dumps(card.params["blocks"])
    assert "Status: *closed*" in card_text
    assert "Fixed in 4.2 &amp; shipped &lt;!here&gt;" in card_text and "<!here>" not in card_text

    [record] = stored(sessions)
    assert [(s.status, s.actor_id, s.note) for s in record.history] == [
        ("triaged", OWNER, ""),
        ("closed", OWNER, "Fixed in 4.2 & shipped <!here>"),
    ]
    [row] = export_rows(db_url)
    assert row["status"] == "closed"
    assert row["triaged_by"] == OWNER and row["triaged_at"] == triaged_at.isoformat()
    assert row["closed_by"] == OWNER and row["closed_at"] == clock().isoformat()
    history = json.loads(row["status_history"])
    assert [(h["status"], h["by"]) for h in history] == [("triaged", OWNER), ("closed", OWNER)]
    assert history[1]["note"] == "Fixed in 4.2 & shipped <!here>"
    with transaction(sessions) as session:
        actions = [e.action for e in list_audit_entries(session, team_id=TEAM)]
    assert actions.count("feedback.triaged") == 2


def test_the_detractor_alert_is_triaged_in_place(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    directory.set_team_setting(
        sessions, team_id=TEAM, key=team_settings.FEEDBACK_CHANNEL, value=CHANNEL
    )
    logged = log(slack, "Initech: billing page is broken nps:2")
    [alert] = [c for c in logged.of("chat.postMessage") if c.params["channel"] == CHANNEL]
    options = [
        o["value"]
        for b in alert.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        for o in e.get("options", [])
    ]
    [record] = stored(sessions)
    assert f"triaged:{record.id}:a" in options
    ts = str(alert.response["ts"])

    clicked = menu(
        slack,
        "triaged",
        record.id,
        "a",
        user=OWNER,
        channel=CHANNEL,
        message={"type": "message", "ts": ts, "text": "alert"},
    )
    updates = {c.params["channel"]: c.params for c in clicked.of("chat.update")}
    assert set(updates) == {CHANNEL, "D" + OWNER[1:]}  # the channel alert and the owner's DM
    assert updates[CHANNEL]["ts"] == ts
    for update in updates.values():
        assert f"Status: *triaged* by <@{OWNER}>" in json.dumps(update["blocks"])
    assert stored(sessions)[0].status == "triaged"

    # closed from the receipt: the alerts still follow
    closed = menu(slack, "closed", record.id, "r", user=OWNER)
    channel_updates = [c for c in closed.of("chat.update") if c.params["channel"] == CHANNEL]
    assert "Status: *closed*" in json.dumps(channel_updates[-1].params["blocks"])

    # deleted from the receipt: the alerts stop quoting it
    view = opened_view(menu(slack, "delete", record.id, "r", user=ADMIN))
    deleted = slack.submit(
        "feedback.delete_form", {}, private_metadata=view["private_metadata"], user=ADMIN
    )
    for update in deleted.of("chat.update"):
        assert "was deleted" in update.params["text"]
        assert "was deleted" in json.dumps(update.params["blocks"])  # the old blocks replaced
        assert "billing page is broken" not in json.dumps(update.params)
    assert {c.params["channel"] for c in deleted.of("chat.update")} == {CHANNEL, "D" + OWNER[1:]}


def test_assigning_tells_the_assignee_and_lets_them_triage(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    log(slack, "Globex: wants SSO #security")
    [record] = stored(sessions)
    meta = open_form(slack, record.id, user=OWNER)
    result = slack.submit(
        "feedback.triage_form", triage_form(assignee=LEE), private_metadata=meta, user=OWNER
    )
    [dm] = [c for c in result.of("chat.postMessage") if c.params["channel"] == LEE]
    assert f"<@{OWNER}> assigned feedback #{record.id}" in dm.params["text"]
    assert "wants SSO" in json.dumps(dm.params["blocks"])
    [record] = stored(sessions)
    assert record.assignee_id == LEE and record.status == "triaged"

    # the assignee may now move it on; the DM's own menu works
    done = menu(slack, "closed", record.id, "c", user=LEE)
    assert "Status: *closed*" in done.reply_text
    assert f"Assigned to <@{LEE}>" in done.reply_text


def test_linking_an_escalation_shows_on_both(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    esc.setup_roles(sessions, clock)
    escalation = esc.raise_escalation(slack, sessions, clock)
    log(slack, "Acme GmbH: EU cards declined nps:3")
    [record] = stored(sessions)

    meta = open_form(slack, record.id, user=OWNER)
    unknown = slack.submit(
        "feedback.triage_form",
        triage_form(escalation="999"),
        private_metadata=meta,
        user=OWNER,
    )
    assert "no escalation #999" in unknown.body["errors"]["triage_escalation"]
    assert stored(sessions)[0].escalation_id is None

    linked = slack.submit(
        "feedback.triage_form",
        triage_form(escalation=f"#{escalation.id}"),
        private_metadata=meta,
        user=OWNER,
    )
    assert stored(sessions)[0].escalation_id == escalation.id
    assert f"Escalation #{escalation.id}" in json.dumps(linked.of("chat.postEphemeral")[0].params)
    [update] = [c for c in linked.of("chat.update") if c.params["ts"] == escalation.message_ts]
    assert f"Linked feedback: #{record.id}" in json.dumps(update.params["blocks"])


def test_everyone_else_is_refused_and_forged_values_change_nothing(
    slack: SlackDriver, sessions: SessionFactory
) -> None:
    log(slack, "Acme: slow reports")
    [record] = stored(sessions)
    refused = menu(slack, "closed", record.id, user=STRANGER)
    assert "Only the person who logged feedback" in refused.reply_text
    refused_form = menu(slack, "form", record.id, user=STRANGER)
    assert not refused_form.of("views.open")
    assert "Only the person who logged feedback" in refused_form.reply_text
    forged = slack.submit(
        "feedback.triage_form",
        triage_form(status="closed"),
        private_metadata=json.dumps({"feedback_id": record.id}),
        user=STRANGER,
    )
    assert "Only the person who logged" in json.dumps(forged.body)
    for value in ("closed:99999999999999:r", "explode:1:r", "closed:1", "<!channel>"):
        bad = slack.click(
            "feedback.triage",
            action_type="overflow",
            user=OWNER,
            extra={"selected_option": {"value": value}},
        )
        assert bad.status == 200
        assert "out of date" in bad.reply_text
    other_team = slack.submit(
        "feedback.triage_form",
        triage_form(status="closed"),
        private_metadata=json.dumps({"feedback_id": record.id + 1}),
        user=OWNER,
    )
    assert "does not exist" in json.dumps(other_team.body)
    assert stored(sessions)[0].status == "new"
    assert stored(sessions)[0].history == ()


def test_delete_by_the_reporter_within_15_minutes_then_only_admins(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, db_url: str
) -> None:
    log(slack, "Acme: typo, ignore me nps:1")
    log(slack, "Acme: real feedback nps:10")
    keep, mine = stored(sessions)[1], stored(sessions)[0]
    assert mine.text == "typo, ignore me"

    clock.advance(minutes=14)
    view = opened_view(menu(slack, "delete", mine.id, user=REPORTER))
    assert view["callback_id"] == "feedback.delete_form"
    deleted = slack.submit(
        "feedback.delete_form",
        {"delete_reason": {"delete_reason": text_value("logged by mistake")}},
        private_metadata=view["private_metadata"],
        user=REPORTER,
    )
    assert "was deleted" in json.dumps(deleted.of("chat.postEphemeral")[0].params)
    assert [r.id for r in stored(sessions)] == [keep.id]
    [gone] = [r for r in stored(sessions, include_deleted=True) if r.id == mine.id]
    assert gone.deleted_by == REPORTER and gone.deleted_at == clock()

    # excluded from NPS, the feedback KPIs, recent, triage and exports unless asked
    report = get_nps_report(sessions, team_id=TEAM, days=30, now=clock())
    assert report.current.responses == 1 and report.current.score == 100
    with transaction(sessions) as session:
        volume = compute_kpi(
            session,
            kind="feedback_volume",
            team_id=TEAM,
            start=clock() - timedelta(days=1),
            end=clock() + timedelta(days=1),
        )
        [audit] = [e for e in list_audit_entries(session, team_id=TEAM) if "deleted" in e.action]
    assert volume == 1
    assert audit.actor_id == REPORTER and audit.detail == {"reason": "logged by mistake"}
    assert f"#{mine.id}" not in slack.command("/feedback", "recent").reply_text
    again = menu(slack, "closed", mine.id, user=ADMIN)
    assert "was deleted" in again.reply_text
    assert [row["id"] for row in export_rows(db_url)] == [str(keep.id)]
    everything = export_rows(db_url, "--include-deleted")
    assert [(r["id"], r["deleted_by"]) for r in everything] == [
        (str(mine.id), REPORTER),
        (str(keep.id), ""),
    ]

    # past the window the reporter cannot, an admin can
    clock.advance(minutes=2)
    late = menu(slack, "delete", keep.id, user=REPORTER)
    assert not late.of("views.open")
    assert "only an Opsloop admin can delete it now" in late.reply_text
    view = opened_view(menu(slack, "delete", keep.id, user=ADMIN))
    slack.submit("feedback.delete_form", {}, private_metadata=view["private_metadata"], user=ADMIN)
    assert stored(sessions) == []


def test_recent_filters_by_status_and_tag_and_pages_past_ten(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    for n in range(12):
        clock.advance(minutes=1)
        log(slack, f"Customer{n}: item {n} #billing")
    log(slack, "Other: not billing #ux")
    billing = [r for r in stored(sessions) if "billing" in r.tags]
    for record in billing[:3]:
        menu(slack, "triaged", record.id, "l", user=OWNER)

    first = slack.command("/feedback", "recent tag:billing")
    assert items_in(first.answer.params["blocks"]) == list(range(11, 1, -1))
    assert "not billing" not in first.reply_text
    [more] = [
        e
        for b in first.answer.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "feedback.recent_more"
    ]
    assert more["value"] == "tag:billing page:2"
    page_two = slack.click("feedback.recent_more", more["value"])
    [reply] = page_two.of("response_url")
    assert reply.params["replace_original"] is False
    assert items_in(reply.params["blocks"]) == [1, 0]
    assert "feedback.recent_more" not in json.dumps(reply.params["blocks"])

    triaged = slack.command("/feedback", "recent status:triaged tag:billing")
    assert items_in(triaged.answer.params["blocks"]) == [2, 1, 0]
    assert "status *triaged*" in triaged.reply_text
    typo = slack.command("/feedback", "recent status:trieged")
    assert "Did you mean `triaged`?" in typo.reply_text
    assert "Did you mean `status:`?" in slack.command("/feedback", "recent stauts:new").reply_text
    assert "page:0" in slack.command("/feedback", "recent page:0").reply_text
    assert len(stored(sessions)) == 13  # none of these logged anything


@pytest.mark.parametrize("typed", ["1w", "2w", "4 weeks", "1m", "1 month", "3mo", "12w", "2d"])
def test_a_suggested_nps_period_is_one_nps_accepts(slack: SlackDriver, typed: str) -> None:
    """Before, `nps 2w` suggested `nps 14d`, which then answered with the periods it knows."""
    reply = slack.command("/feedback", f"nps {typed}").reply_text
    for suggested in re.findall(r"`/feedback (nps \w+)`", reply):
        assert "No NPS responses in the last" in slack.command("/feedback", suggested).reply_text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("nps abc", "`nps abc` is not a period"),
        ("nps 2w", "I can show NPS for 7d, 30d, 90d. To log"),  # no guess: 14d is refused
        ("nps 1w", "Did you mean `/feedback nps 7d`?"),
        ("nps 3 months", "Did you mean `/feedback nps 90d`?"),
        ("nps 3 months", "is not a period"),
        ("help me", "reads as a request for help"),
        ("recnet", "Did you mean `/feedback recent`?"),
        ("hlep", "Did you mean `/feedback help`?"),
    ],
)
def test_mistyped_subcommands_get_help_and_are_not_stored(
    slack: SlackDriver, sessions: SessionFactory, text: str, says: str
) -> None:
    reply = slack.command("/feedback", text).answer.params
    assert says in reply["text"]
    assert "/feedback Acme: CSV export times out" in reply["text"]  # the help follows
    assert stored(sessions) == []


@pytest.mark.parametrize(
    ("text", "score", "rest"),
    [
        ("Acme: love the new charts nps: 9", 9, "love the new charts"),
        ("nps: 4 the export is slow", 4, "the export is slow"),
        ("Acme: solid release nps:9/10", 9, "solid release"),
        ("Acme: solid release NPS= 7/10", 7, "solid release"),
    ],
)
def test_nps_written_as_people_write_it(
    slack: SlackDriver, sessions: SessionFactory, text: str, score: int, rest: str
) -> None:
    log(slack, text)
    [record] = stored(sessions)
    assert (record.nps_score, record.text) == (score, rest)
