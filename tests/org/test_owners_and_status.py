"""`/ops owners`, `/ops owner` and `/ops status` end to end, with the people cache."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.org import owners
from bot.org.people import get_people
from storage.core import list_audit_entries
from storage.db import transaction
from tests.support.playbook import ADMIN, OTHER, OWNER, TEAM, load_small_playbook
from tests.support.slack import SlackDriver, SlackStandin


@pytest.fixture
def team(deps: Deps, standin: SlackStandin) -> Deps:
    standin.add_user(OWNER, "Dana Okafor", tz="Europe/Berlin")
    standin.add_user(ADMIN, "Priya Raman", tz="Asia/Kolkata")
    standin.add_user("UNEW1", "Kai Nakamura", tz="America/New_York")
    load_small_playbook(deps.sessions, deps.clock())
    return deps


def test_owners_table_flags_processes_without_owner(slack: SlackDriver, team: Deps) -> None:
    result = slack.command("/ops", "owners")
    text = result.reply_text
    assert f"*Customer onboarding* (`onboarding`) — <@{OWNER}>" in text
    assert ":warning: *Renewal risk review* (`renewals`) — *no owner*" in text
    assert "1 process(es) without an owner" in text


def test_names_and_timezones_are_cached_and_refreshed_daily(
    slack: SlackDriver, team: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    slack.command("/ops", "owners")
    assert {c.params["user"] for c in standin.calls("users.info")} == {OWNER, ADMIN}
    people = get_people(team.sessions, team_id=TEAM, user_ids=[OWNER])
    assert people[OWNER].display_name == "Dana Okafor"
    assert people[OWNER].timezone == "Europe/Berlin"
    standin.clear()
    clock.advance(hours=23)
    slack.command("/ops", "owners")
    assert standin.calls("users.info") == []  # fresh enough
    clock.advance(hours=2)
    standin.add_user(OWNER, "Dana O.", tz="Europe/Lisbon")
    slack.command("/ops", "owners")
    assert len(standin.calls("users.info")) == 2
    people = get_people(team.sessions, team_id=TEAM, user_ids=[OWNER])
    assert (people[OWNER].display_name, people[OWNER].timezone) == ("Dana O.", "Europe/Lisbon")


def test_admin_changes_an_owner_by_mention_and_it_is_audited(
    slack: SlackDriver, team: Deps
) -> None:
    result = slack.command("/ops", "owner Renewal risk review <@UNEW1|kai>", user=ADMIN)
    assert result.answer.method == "ack"  # answered in the ack, after the change is stored
    assert "<@UNEW1> now owns *Renewal risk review* (it had no owner)" in result.reply_text
    # after answering, the cached names of the owners (the new one among them) are refreshed
    looked_up = [c.params["user"] for c in result.of("users.info")]
    assert "UNEW1" in looked_up and len(looked_up) == len(set(looked_up))
    result = slack.command("/ops", "owner onboarding <@UNEW1>", user=ADMIN)
    assert f"(was <@{OWNER}>)" in result.reply_text
    assert result.of("users.info") == []  # cached a moment ago: fresh enough
    rows = {r.key: r for r in owners.list_owners(team.sessions, team_id=TEAM)}
    assert rows["renewals"].owner_id == "UNEW1" and rows["onboarding"].owner_id == "UNEW1"
    assert rows["renewals"].owner_name == "Kai Nakamura"
    with transaction(team.sessions) as session:
        entries = [e for e in list_audit_entries(session, team_id=TEAM) if e.actor_id == ADMIN]
    assert [(e.subject, e.detail) for e in entries] == [
        ("onboarding", {"from": OWNER, "to": "UNEW1"}),
        ("renewals", {"from": None, "to": "UNEW1"}),
    ]
    # the KPI owned through the process follows the new owner
    text = slack.command("/kpi", "log activation 30", user="UNEW1").reply_text
    assert "Logged 30%" in text


def test_non_admin_gets_an_explanation(slack: SlackDriver, team: Deps) -> None:
    text = slack.command("/ops", "owner renewals <@UNEW1|kai>", user=OWNER).reply_text
    assert "Only Opsloop admins can change process owners" in text
    assert f"Ask <@{ADMIN}>" in text
    rows = {r.key: r.owner_id for r in owners.list_owners(team.sessions, team_id=TEAM)}
    assert rows["renewals"] is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("owner renewals", "mention the new owner with @"),
        ("owner renewals @kai", "mention the new owner with @"),
        ("owner renewals <@UNEW1> <@U0002>", "one person only"),
        ("owner <@UNEW1>", "Which process?"),
        ("owner onbording <@UNEW1>", "Did you mean `onboarding`?"),
    ],
)
def test_bad_owner_commands(slack: SlackDriver, team: Deps, text: str, says: str) -> None:
    reply = slack.command("/ops", text, user=ADMIN).reply_text
    assert says in reply
    assert "Example: `/ops owner onboarding @dana`" in reply


def test_escaped_process_name_from_slack_is_understood(slack: SlackDriver, deps: Deps) -> None:
    text = "admins: [UADMIN1]\nprocesses:\n  - key: qa\n    name: Q&A sessions\n"
    load_small_playbook(deps.sessions, deps.clock(), text=text)
    reply = slack.command("/ops", "owner Q&amp;A sessions <@UNEW1>", user=ADMIN).reply_text
    assert "now owns *Q&amp;A sessions*" in reply


def test_an_owner_slack_does_not_know_is_flagged_by_status(
    slack: SlackDriver, team: Deps, standin: SlackStandin
) -> None:
    """`/ops owner releases <@U0NOSUCH1>` is accepted (a listener never waits on Slack to
    check an id); Slack then answers users.info with user_not_found. Before, that person
    was cached as an active one with no name and `/ops status` never mentioned them."""
    reply = slack.command("/ops", "owner onboarding <@U0NOSUCH1>", user=ADMIN).reply_text
    assert "now owns" in reply
    slack.command("/ops", "status")  # answers from the cache, and refreshes it
    text = slack.command("/ops", "status").reply_text
    assert "*Owner deactivated or not in this Slack:*" in text
    assert "*Owner deactivated or not in this Slack:* `U0NOSUCH1` still owns Customer" in text


def test_status_lists_what_is_missing(
    slack: SlackDriver, team: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    standin.add_user(OWNER, "Dana Okafor", deleted=True)
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    slack.command("/kpi", "log time_to_first_value 9", user=ADMIN)  # 16 days ago: too old
    clock.now = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
    slack.command("/kpi", "log activation 26", user=ADMIN)
    # the first status answers from the (empty) people cache and refreshes it afterwards
    first = slack.command("/ops", "status")
    assert "Owner deactivated" not in first.reply_text
    assert OWNER in {c.params["user"] for c in first.of("users.info")}
    text = slack.command("/ops", "status").reply_text
    assert "*Processes without an owner:* Renewal risk review" in text
    assert "*Owner deactivated or not in this Slack:* Dana Okafor (`UOWNER1`) still owns" in text
    assert "Customer onboarding" in text and "KPI Time to first value" in text
    kpi_line = next(line for line in text.splitlines() if "no value for two weeks" in line)
    assert "Time to first value" in kpi_line and "NPS" in kpi_line
    assert "activation" not in kpi_line.lower()
    sop_line = next(line for line in text.splitlines() if "past their review date" in line)
    # reviewed 2026-01-05 every 90 days; renewals never; onboarding (2026-10-01) is fine
    assert "Escalation handling (due 2026-04-05)" in sop_line
    assert "Renewal risk review (never reviewed)" in sop_line
    assert "Customer onboarding" not in sop_line


def test_status_of_a_healthy_operation(slack: SlackDriver, deps: Deps, clock: FixedClock) -> None:
    text = (
        "admins: [UADMIN1]\nprocesses:\n  - key: a\n    name: A\n    owner: UADMIN1\n"
        "    last_reviewed: 2026-11-01\nkpis:\n  - key: k\n    name: K\n    owner: UADMIN1\n"
    )
    load_small_playbook(deps.sessions, clock(), text=text)
    slack.command("/kpi", "log k 3", user=ADMIN)
    reply = slack.command("/ops", "status", user=OTHER).reply_text
    assert "All healthy." in reply and ":warning:" not in reply


def test_status_of_a_team_with_many_deactivated_owners_fits_one_message() -> None:
    """Before: one section per deactivated owner, so 60 of them made 62 blocks and Slack
    refused the whole reply."""
    from bot.status.models import DeactivatedOwner, StatusReport
    from bot.status.render import render_status

    owners = tuple(
        DeactivatedOwner(f"U0GONE{i:02d}", f"Person {i} <!here>", (f"Process {i}",))
        for i in range(60)
    )
    report = StatusReport(60, 0, (), owners, (), ())
    text, blocks = render_status(report)
    assert len(blocks) <= 50
    assert "50 more owners deactivated or not in Slack" in text
    assert "<!here>" not in text
    assert all(len(b.to_dict().get("text", {}).get("text", "")) <= 3000 for b in blocks)
