"""What other capabilities use: overdue items, marking an item done by id, the export."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from bot.checklists import service as checklists
from bot.cli import cli
from bot.cli.export import EXPORTERS
from bot.clock import FixedClock
from bot.deps import Deps
from bot.errors import NotFoundError
from bot.exports import write_csv
from bot.org import team_settings
from tests.support.checklists import (
    CHANNEL,
    ONBOARDING,
    TEAM,
    add_templates,
    click_item,
    current_message,
    only_run,
    ticked,
)
from tests.support.slack import SlackDriver, SlackStandin


def test_list_overdue_items_returns_open_items_past_due(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme")
    run = only_run(deps)
    # due dates are the end of the due day in the team's timezone
    assert run.items[0].due_at.isoformat() == "2026-11-18T23:59:59+00:00"
    assert checklists.list_overdue_items(deps.sessions, team_id=TEAM, now=clock()) == []

    clock.advance(days=3)  # Saturday: items 1 (due Wed) and 2 (due Fri) are overdue
    click_item(slack, current_message(standin, run), 0)
    [overdue] = checklists.list_overdue_items(deps.sessions, team_id=TEAM, now=clock())
    assert overdue.title == "Provision the workspace"
    assert overdue.owner_id == "U0002"
    assert (overdue.channel_id, overdue.message_ts) == (CHANNEL, run.message_ts)
    assert overdue.subject == "Acme" and overdue.run_title == "Customer onboarding"
    assert checklists.list_overdue_items(deps.sessions, team_id="T0OTHER", now=clock()) == []
    assert ":warning: 1 overdue" in str(current_message(standin, run))


def test_team_timezone_moves_the_end_of_the_due_day(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    from bot.org import service as directory

    directory.set_team_setting(
        deps.sessions, team_id=TEAM, key=team_settings.TEAM_TIMEZONE, value="Asia/Tokyo"
    )
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme")
    # 10:00 UTC is 19:00 in Tokyo: "today" ends at 23:59:59 Tokyo time = 14:59:59 UTC
    assert only_run(deps).items[0].due_at.isoformat() == "2026-11-18T14:59:59+00:00"


def test_mark_item_done_ticks_once_and_refuses_other_teams(
    deps: Deps, slack: SlackDriver, clock: FixedClock
) -> None:
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme")
    run = only_run(deps)
    item_id = run.items[1].id
    with pytest.raises(NotFoundError):
        checklists.mark_item_done(
            deps.sessions, team_id="T0OTHER", item_id=item_id, user_id="U0002", now=clock()
        )
    result = checklists.mark_item_done(
        deps.sessions, team_id=TEAM, item_id=item_id, user_id="U0002", now=clock()
    )
    assert result.changed == (1,) and result.run.items[1].done_by == "U0002"
    again = checklists.mark_item_done(
        deps.sessions, team_id=TEAM, item_id=item_id, user_id="U0003", now=clock()
    )
    assert again.changed == () and again.run.items[1].done_by == "U0002"
    for item in run.items:
        last = checklists.mark_item_done(
            deps.sessions, team_id=TEAM, item_id=item.id, user_id="U0002", now=clock()
        )
    assert last.completed and last.run.status == "completed"


def test_export_has_runs_and_items_with_owners_due_done_and_durations(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding =HYPERLINK(1)")
    run = only_run(deps)
    message = current_message(standin, run)
    for position in range(3):
        clock.advance(hours=2)
        click_item(slack, message, position, user="U0004")
        message = current_message(standin, run)
    assert ticked(message) == {0, 1, 2}
    export = EXPORTERS["checklists"](deps.sessions, team_id=TEAM, since=None, now=clock())
    rows = list(export.rows)
    assert [r["item_position"] for r in rows] == [1, 2, 3]
    last = rows[2]
    assert last["owner"] == "process:onboarding" and last["owner_id"] is None
    assert last["done_by"] == "U0004" and last["item_duration_seconds"] == 6 * 3600
    assert last["run_duration_seconds"] == 6 * 3600 and last["status"] == "completed"
    assert rows[1]["owner_id"] == "U0002" and rows[0]["owner_id"] == "U0001"
    out = io.StringIO()
    write_csv(export, out)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert parsed[0]["subject"] == "'=HYPERLINK(1)"  # spreadsheet-safe
    assert (
        EXPORTERS["checklists"](deps.sessions, team_id="T0OTHER", since=None, now=clock()).rows
        == []
    )
    later = EXPORTERS["checklists"](deps.sessions, team_id=TEAM, since=clock(), now=clock())
    assert list(later.rows) == []


def test_opsloop_export_checklists_from_the_command_line(
    deps: Deps, slack: SlackDriver, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_templates(deps, ONBOARDING)
    slack.command("/checklist", "start onboarding Acme")
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["export", "checklists", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["item_title"] for row in data] == [i["title"] for i in ONBOARDING["items"]]
