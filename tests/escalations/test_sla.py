"""SLA clocks at their boundaries (injected clock), breaches for the digest, overrides, export."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from bot.cli.export import EXPORTERS
from bot.clock import FixedClock
from bot.deps import Deps
from bot.escalations import service
from bot.escalations.sla import DEFAULT_SLAS, ClockState, SeveritySla, SlaTable, clock_state
from bot.escalations.slas import get_severity_slas, set_severity_slas
from bot.exports import write_csv, write_json
from storage.db import SessionFactory
from tests.conftest import START
from tests.support.escalations import OWNER, TEAM, dump, press, raise_escalation, submit_resolve
from tests.support.slack import SlackDriver, SlackStandin

WINDOW = timedelta(minutes=15)
DUE = START + WINDOW


@pytest.mark.parametrize(
    ("after", "stopped_after", "expected"),
    [
        (timedelta(0), None, ClockState.ON_TRACK),
        (WINDOW * 0.75 - timedelta(microseconds=1), None, ClockState.ON_TRACK),
        (WINDOW * 0.75, None, ClockState.DUE_SOON),  # exactly a quarter left
        (WINDOW, None, ClockState.DUE_SOON),  # at the due instant: not yet breached
        (WINDOW + timedelta(microseconds=1), None, ClockState.BREACHED),
        (timedelta(days=9), WINDOW, ClockState.MET),  # stopped exactly at due
        (timedelta(days=9), WINDOW + timedelta(seconds=1), ClockState.BREACHED),
        (timedelta(minutes=1), timedelta(seconds=30), ClockState.MET),
    ],
)
def test_clock_state_boundaries(
    after: timedelta, stopped_after: timedelta | None, expected: ClockState
) -> None:
    stopped = None if stopped_after is None else START + stopped_after
    state = clock_state(started_at=START, due_at=DUE, stopped_at=stopped, now=START + after)
    assert state is expected


def _listed_state(slack: SlackDriver) -> str:
    return slack.command("/escalate", "list").reply_text


def test_ack_clock_through_slack_at_each_boundary(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, standin: SlackStandin
) -> None:
    e = raise_escalation(slack, sessions, clock, severity="sev1")
    assert (e.ack_due_at, e.resolve_due_at) == (START + WINDOW, START + timedelta(hours=4))
    clock.advance(minutes=11, seconds=14)
    assert "ack on track" in _listed_state(slack)
    clock.advance(seconds=1)  # 3 min 45 s left = 25 % of 15 min
    assert "ack due soon" in _listed_state(slack)
    clock.advance(minutes=3, seconds=45)  # exactly due
    assert "ack due soon" in _listed_state(slack)
    assert service.list_sla_breaches(sessions, team_id=TEAM, now=clock()) == []
    clock.advance(seconds=1)
    assert "ack breached" in _listed_state(slack)
    [overdue] = service.list_overdue_escalations(sessions, team_id=TEAM, now=clock())
    assert (overdue.kind, overdue.owner_id, overdue.due_at) == ("ack", OWNER, START + WINDOW)
    assert overdue.title == "Checkout fails for EU cards" and overdue.stopped_at is None

    clock.advance(minutes=1)  # acknowledged 1 min 1 s late
    result = press(slack, "escalation.acknowledge", e, user=OWNER)
    message = dump(result.of("chat.update")[0])
    assert "Acknowledge: *breached*" in message and "1 minute late" in message
    assert "Resolve by" in message and "on track" in message
    [breach] = service.list_sla_breaches(sessions, team_id=TEAM, now=clock())
    assert (breach.kind, breach.stopped_at) == ("ack", clock())
    # A late acknowledgement is a breach for the digest, but no longer overdue for nudges.
    assert service.list_overdue_escalations(sessions, team_id=TEAM, now=clock()) == []
    assert "resolve on track" in _listed_state(slack)

    clock.now = START + timedelta(hours=3)  # a quarter of 4 h left
    assert "resolve due soon" in _listed_state(slack)
    clock.now = START + timedelta(hours=4, seconds=1)
    overdue_kinds = [
        b.kind for b in service.list_overdue_escalations(sessions, team_id=TEAM, now=clock())
    ]
    assert overdue_kinds == ["resolve"]
    assert (
        service.list_overdue_escalations(sessions, team_id=TEAM, now=clock(), owner_id="U0SOMEONE")
        == []
    )


def test_acknowledged_exactly_at_due_is_met(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    e = raise_escalation(slack, sessions, clock, severity="sev3")
    clock.advance(hours=4)
    result = press(slack, "escalation.acknowledge", e, user=OWNER)
    assert "Acknowledge: *met*" in dump(result.of("chat.update")[0])
    assert service.list_sla_breaches(sessions, team_id=TEAM, now=clock()) == []


@pytest.mark.parametrize(
    ("severity", "ack", "resolve"),
    [
        ("sev1", timedelta(minutes=15), timedelta(hours=4)),
        ("sev2", timedelta(hours=1), timedelta(days=1)),
        ("sev3", timedelta(hours=4), timedelta(days=3)),
        ("sev4", timedelta(days=1), timedelta(days=7)),
    ],
)
def test_default_slas_set_due_times(
    slack: SlackDriver,
    sessions: SessionFactory,
    clock: FixedClock,
    severity: str,
    ack: timedelta,
    resolve: timedelta,
) -> None:
    e = raise_escalation(slack, sessions, clock, severity=severity)
    assert (e.ack_due_at - START, e.resolve_due_at - START) == (ack, resolve)


def test_team_sla_overrides_apply_to_new_escalations_only(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    before = raise_escalation(slack, sessions, clock, severity="sev1")
    table = set_severity_slas(
        sessions,
        team_id=TEAM,
        slas={
            "sev1": SeveritySla(ack_within=timedelta(minutes=5), resolve_within=timedelta(hours=1))
        },
    )
    assert table.sev1.ack_within == timedelta(minutes=5)
    assert table.sev2 == DEFAULT_SLAS.sev2
    assert get_severity_slas(sessions, team_id="T0OTHER") == DEFAULT_SLAS
    after = raise_escalation(slack, sessions, clock, severity="sev1")
    assert after.ack_due_at == START + timedelta(minutes=5)
    assert after.resolve_due_at == START + timedelta(hours=1)
    unchanged = service.get_escalation(sessions, team_id=TEAM, escalation_id=before.id, now=clock())
    assert unchanged.ack_due_at == START + WINDOW
    # A whole table replaces every severity.
    set_severity_slas(sessions, team_id=TEAM, slas=SlaTable())
    assert get_severity_slas(sessions, team_id=TEAM) == DEFAULT_SLAS


def test_invalid_sla_overrides_are_refused(sessions: SessionFactory) -> None:
    with pytest.raises(ValidationError):
        SeveritySla(ack_within=timedelta(hours=2), resolve_within=timedelta(hours=1))
    with pytest.raises(ValidationError):
        SeveritySla(ack_within=timedelta(0), resolve_within=timedelta(hours=1))
    with pytest.raises(ValueError, match="sev9"):
        set_severity_slas(sessions, team_id=TEAM, slas={"sev9": DEFAULT_SLAS.sev1})


def test_breaches_are_per_team_and_filter_by_due_time(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    raise_escalation(slack, sessions, clock, severity="sev1")
    slack.team_id = "T0OTHER"
    raise_escalation(slack, sessions, clock, severity="sev1")
    slack.team_id = TEAM
    clock.advance(hours=5)
    breaches = service.list_sla_breaches(sessions, team_id=TEAM, now=clock())
    assert [b.kind for b in breaches] == ["ack", "resolve"]
    later = service.list_sla_breaches(
        sessions, team_id=TEAM, now=clock(), since=START + timedelta(hours=1)
    )
    assert [b.kind for b in later] == ["resolve"]


def test_export_has_every_field_durations_and_breaches(
    slack: SlackDriver, sessions: SessionFactory, clock: FixedClock, deps: Deps
) -> None:
    late = raise_escalation(slack, sessions, clock, severity="sev1", title="=HYPERLINK(evil)")
    fine = raise_escalation(slack, sessions, clock, severity="sev4", title="Typo on pricing")
    clock.advance(minutes=20)
    press(slack, "escalation.acknowledge", late, user=OWNER)
    press(slack, "escalation.acknowledge", fine, user=OWNER)
    clock.advance(hours=1)
    submit_resolve(slack, fine.id, user=OWNER)

    export = EXPORTERS["escalations"](deps.sessions, team_id=TEAM, since=None, now=deps.clock())
    rows = {row["id"]: row for row in export.rows}
    assert rows[late.id]["time_to_acknowledge_seconds"] == 20 * 60
    assert rows[late.id]["ack_breached"] is True and rows[late.id]["breached"] is True
    assert rows[late.id]["time_to_resolve_seconds"] is None
    assert rows[fine.id]["time_to_resolve_seconds"] == 80 * 60
    assert rows[fine.id]["breached"] is False and rows[fine.id]["resolve_sla"] == "met"
    assert rows[fine.id]["root_cause"] == "An expired TLS certificate at the card processor."
    for column in ("title", "customer", "severity", "owner_id", "reporter_id", "permalink"):
        assert column in export.columns

    out = io.StringIO()
    assert (
        write_csv(
            EXPORTERS["escalations"](deps.sessions, team_id=TEAM, since=None, now=deps.clock()), out
        )
        == 2
    )
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["breached"] for r in parsed] == ["yes", "no"]
    assert parsed[0]["title"] == "'=HYPERLINK(evil)"  # spreadsheet-safe

    out = io.StringIO()
    write_json(
        EXPORTERS["escalations"](
            deps.sessions, team_id=None, since=START + timedelta(days=1), now=deps.clock()
        ),
        out,
    )
    assert json.loads(out.getvalue()) == []


def test_cli_export_escalations(
    slack: SlackDriver,
    sessions: SessionFactory,
    clock: FixedClock,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import cli

    raise_escalation(slack, sessions, clock, title="Exported <one>")
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(cli, ["export", "escalations", "--format", "json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["title"] == "Exported <one>" and row["severity"] == "sev1"
