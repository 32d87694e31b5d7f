"""*Log value* on a KPI owed in the nudge DM, through the real app on SQLite and PostgreSQL:
the form, the same validation as `/kpi log`, asking before a replace, the nudge brought up
to date, the export; and monthly KPIs, owed and shown once a month."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.clock import FixedClock
from bot.deps import Deps
from bot.nudges.render import FORM_ACTION, ItemRef
from tests.support.playbook import ADMIN, OTHER, OWNER, SMALL_PLAYBOOK, load_small_playbook
from tests.support.schedule import run_and_deliver
from tests.support.slack import ApiCall, Result, SlackDriver, SlackStandin, text_value

# 2026-11-23 is a Monday; the small playbook's team is in Europe/Berlin, nudges at 10:00.
MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, tzinfo=UTC)
MONTHLY_PLAYBOOK = SMALL_PLAYBOOK.replace(
    "kpis:\n",
    f"""kpis:
  - key: churn
    name: Monthly gross revenue churn
    unit: "%"
    target: 2
    direction: lower
    cadence: monthly
    owner: {OWNER}
""",
)


def nudge_dms(standin: SlackStandin, user: str) -> list[ApiCall]:
    return [
        c
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == user and "overdue item" in c.params["text"]
    ]


def log_value_button(dm: ApiCall, kpi: str) -> dict[str, Any]:
    [button] = [
        e
        for b in dm.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == FORM_ACTION and ItemRef.from_value(e["value"]).item_id == kpi
    ]
    assert button["text"]["text"] == "Log value"
    return button


def press_log_value(slack: SlackDriver, dm: ApiCall, kpi: str, *, user: str = OWNER) -> Result:
    button = log_value_button(dm, kpi)
    message = {"type": "message", "ts": dm.response["ts"], "text": dm.params["text"]}
    return slack.click(
        FORM_ACTION, button["value"], user=user, channel=dm.response["channel"], message=message
    )


def the_form(result: Result) -> dict[str, Any]:
    [call] = result.of("views.open")
    view: dict[str, Any] = call.params["view"]
    assert view["callback_id"] == "kpi.log_form"
    return view


def submit(
    slack: SlackDriver,
    view: dict[str, Any],
    value: str,
    *,
    note: str | None = None,
    replace: bool | None = None,
    user: str = OWNER,
) -> Result:
    values: dict[str, dict[str, dict[str, Any]]] = {
        "kpi_value": {"kpi_value": text_value(value)},
        "kpi_note": {"kpi_note": text_value(note)},
    }
    if replace is not None:
        chosen = [{"value": "replace"}] if replace else []
        values["kpi_replace"] = {"kpi_replace": {"type": "checkboxes", "selected_options": chosen}}
    return slack.submit(
        "kpi.log_form", values, private_metadata=view["private_metadata"], user=user
    )


def export_kpis(db_url: str) -> list[dict[str, str]]:
    result = CliRunner().invoke(
        cli,
        ["export", "kpis"],
        env={"DATABASE_URL": db_url, "OPSLOOP_LOG_LEVEL": "WARNING"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.fixture
def nudged(deps: Deps, standin: SlackStandin, clock: FixedClock) -> ApiCall:
    clock.now = MONDAY_10_BERLIN
    load_small_playbook(deps.sessions, clock())
    run_and_deliver(deps, clock())
    [dm] = nudge_dms(standin, OWNER)
    return dm


def test_a_value_logged_from_the_nudge_is_in_the_export(
    slack: SlackDriver, nudged: ApiCall, clock: FixedClock, db_url: str
) -> None:
    view = the_form(press_log_value(slack, nudged, "activation"))
    assert "Trial-to-paid activation" in json.dumps(view["blocks"])
    assert "2026-W48" in json.dumps(view["blocks"])
    assert "kpi_replace" not in json.dumps(view["blocks"])  # nothing logged yet: no question

    result = submit(slack, view, "27%", note="after the pricing change")
    assert not (isinstance(result.body, dict) and result.body.get("response_action"))
    [update] = result.of("chat.update")  # the nudge DM, brought up to date
    assert update.params["ts"] == nudged.response["ts"]
    assert "Logged 27% for *Trial-to-paid activation* (2026-W48)" in update.params["text"]
    assert "*1* overdue item:" in update.params["text"]
    assert "activation" not in update.params["text"].split("overdue item:")[1]

    rows = [r for r in export_kpis(db_url) if r["kpi_key"] == "activation"]
    assert [(r["value"], r["logged_by"], r["note"]) for r in rows] == [
        ("27.0", OWNER, "after the pricing change")
    ]
    assert rows[0]["measured_at"] == clock().isoformat()


def test_replacing_a_value_asks_first(
    slack: SlackDriver, nudged: ApiCall, clock: FixedClock, db_url: str
) -> None:
    clock.advance(minutes=5)
    slack.command("/kpi", "log activation 20", user=OWNER)
    view = the_form(press_log_value(slack, nudged, "activation"))
    question = json.dumps(view["blocks"])
    assert (
        "kpi_replace" in question and f"already has a value: 20% logged by <@{OWNER}>" in question
    )

    unticked = submit(slack, view, "30", replace=False)
    assert unticked.body["response_action"] == "errors"
    assert "Tick this to replace" in unticked.body["errors"]["kpi_replace"]
    assert [r["value"] for r in export_kpis(db_url) if r["kpi_key"] == "activation"] == ["20.0"]

    ticked = submit(slack, view, "30", replace=True)
    assert "Replaced 20%" in ticked.of("chat.update")[0].params["text"]
    shown = slack.command("/kpi", "show activation", user=OTHER).reply_text
    assert "2026-W48  30%" in shown
    values = [r["value"] for r in export_kpis(db_url) if r["kpi_key"] == "activation"]
    assert values == ["20.0", "30.0"]  # the replaced value is kept


def test_a_value_logged_while_the_form_was_open_is_shown_before_replacing(
    slack: SlackDriver, nudged: ApiCall, db_url: str
) -> None:
    view = the_form(press_log_value(slack, nudged, "activation"))
    slack.command("/kpi", "log activation 22", user=ADMIN)
    again = submit(slack, view, "31%", note="mine")
    assert again.body["response_action"] == "update"
    shown = json.dumps(again.body["view"]["blocks"])
    assert f"already has a value: 22% logged by <@{ADMIN}>" in shown
    assert "logged while this form was open" in shown
    assert '"initial_value": "31%"' in shown  # what was typed is kept
    assert [r["value"] for r in export_kpis(db_url) if r["kpi_key"] == "activation"] == ["22.0"]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("1,250", "is 1250, which is outside what activation can be"),
        ("101%", "from 0 to 100"),
        ("inf", "is not a number"),
        ("1e999", "too large"),
        ("3d", "is a duration"),
        ("", "is not a number"),
    ],
)
def test_the_form_refuses_what_kpi_log_refuses(
    slack: SlackDriver, nudged: ApiCall, db_url: str, value: str, says: str
) -> None:
    view = the_form(press_log_value(slack, nudged, "activation"))
    refused = submit(slack, view, value)
    assert refused.body["response_action"] == "errors"
    assert says in refused.body["errors"]["kpi_value"]
    command = slack.command("/kpi", f"log activation {value}".strip(), user=OWNER).reply_text
    if value:
        assert says in command  # one parser: the command says the same
    assert [r["value"] for r in export_kpis(db_url) if r["kpi_key"] == "activation"] == [""]


def test_only_the_owner_or_an_admin_opens_the_form_and_forged_buttons_do_nothing(
    slack: SlackDriver, nudged: ApiCall
) -> None:
    stranger = press_log_value(slack, nudged, "activation", user=OTHER)
    assert not stranger.of("views.open")
    assert "Only the owner of Trial-to-paid activation" in stranger.reply_text
    for value in (
        ItemRef("kpi", "nps").to_value(),  # computed: nothing to log
        ItemRef("kpi", "no_such_kpi").to_value(),
        ItemRef("checklist_item", "1").to_value(),
        "<!channel>",
    ):
        forged = slack.click(FORM_ACTION, value, user=OWNER, message={"ts": "1.1"})
        assert forged.status == 200 and not forged.of("views.open")
        assert forged.reply_text
    view = the_form(press_log_value(slack, nudged, "activation"))
    moved = submit(slack, view, "27", user=OTHER)  # a form passed on is checked again
    assert "Only the owner" in moved.body["errors"]["kpi_value"]


def test_monthly_kpis_are_owed_once_a_month_and_shown_per_month(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock, db_url: str
) -> None:
    # Tuesday 2026-12-01: the month's first nudge day (Monday) is the 7th.
    clock.now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    load_small_playbook(deps.sessions, clock(), MONTHLY_PLAYBOOK)
    preview = slack.command("/ops", "nudge preview", user=OWNER).reply_text
    assert "churn" not in preview.lower()

    clock.now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    run_and_deliver(deps, clock())
    dm = nudge_dms(standin, OWNER)[-1]
    assert "KPI owed this month: Monthly gross revenue churn" in dm.params["text"]
    view = the_form(press_log_value(slack, dm, "churn"))
    assert "2026-12" in json.dumps(view["blocks"])
    submit(slack, view, "1.5%")

    # a week later it is not owed again (the weekly ones still are)
    clock.now = datetime(2026, 12, 14, 9, tzinfo=UTC)
    assert "churn" not in slack.command("/ops", "nudge preview", user=OWNER).reply_text.lower()
    shown = slack.command("/kpi", "show churn", user=OTHER).reply_text
    assert "Last 6 months" in shown and "2026-12  1.5%" in shown and "2026-11  —" in shown
    digest = slack.command("/ops", "digest preview", user=ADMIN).reply_text
    assert "Monthly gross revenue churn" in digest and "last month" in digest

    # the next month it is owed again
    clock.now = datetime(2027, 1, 4, 9, tzinfo=UTC)
    assert "Monthly gross revenue churn" in (
        slack.command("/ops", "nudge preview", user=OWNER).reply_text
    )
    [row] = [r for r in export_kpis(db_url) if r["kpi_key"] == "churn"]
    assert (row["cadence"], row["value"]) == ("monthly", "1.5")
