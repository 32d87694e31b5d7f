"""SLA clocks live: the scheduler tick shows *due soon* and *breached* on time, tells the owner
once, and brings in the process owner and the admins as the playbook's policy says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.escalations import modals, service
from bot.escalations.breaches import breach_key
from bot.escalations.models import EscalationView
from bot.escalations.render import SEVERITY, SeverityChoice
from bot.escalations.sla import DEFAULT_POLICY
from bot.escalations.slas import get_escalation_policy
from bot.outbox.service import is_enqueued
from bot.playbook.schema import PlaybookInvalidError, parse_playbook
from bot.playbook.service import export_playbook, import_playbook
from storage.db import make_engine, make_session_factory
from tests.conftest import START
from tests.support.escalations import (
    ADMIN,
    OWNER,
    PROCESS_OWNER,
    STRANGER,
    TEAM,
    dump,
    press,
    raise_escalation,
    setup_roles,
    submit_reopen,
    submit_resolve,
    updates_of,
)
from tests.support.schedule import run_and_deliver
from tests.support.slack import ApiCall, SlackDriver, SlackStandin

# Wednesday 18 Nov 2026, 10:00 UTC (tests.conftest.START).
PLAYBOOK = f"""\
timezone: UTC
admins: [{ADMIN}]
processes:
  - key: escalations
    name: Escalation handling
    owner: {PROCESS_OWNER}
severity_slas:
  sev1: {{ack_minutes: 1, resolve_minutes: 60}}
  sev3: {{ack_minutes: 1, resolve_minutes: 600}}
escalation_policy:
  sev1: {{process_owner_after_minutes: 5, admins_after_minutes: 10}}
"""


def _import(deps: Deps, clock: FixedClock, text: str = PLAYBOOK) -> None:
    import_playbook(deps.sessions, TEAM, parse_playbook(text), clock())


def _dms_to(standin: SlackStandin, user: str) -> list[ApiCall]:
    return [c for c in standin.calls("chat.postMessage") if c.params.get("channel") == user]


def _notes(standin: SlackStandin, e: EscalationView) -> list[str]:
    texts = [
        str(c.params.get("text"))
        for c in standin.calls("chat.postMessage")
        if c.params.get("thread_ts") == e.message_ts
    ]
    return [t for t in texts if "promise" in t or "bringing in" in t]


def _alert_dms(standin: SlackStandin, user: str) -> list[str]:
    return [
        str(c.params["text"])
        for c in _dms_to(standin, user)
        if "promise" in str(c.params.get("text")) or "brought in" in str(c.params.get("text"))
    ]


def _raise_sev1(deps: Deps, slack: SlackDriver, clock: FixedClock) -> EscalationView:
    _import(deps, clock)
    e = raise_escalation(slack, deps.sessions, clock, severity="sev1")
    assert e.ack_due_at == clock() + timedelta(minutes=1)
    assert e.message_ts
    return e


def test_a_one_minute_sev1_breach_is_shown_and_told_once(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    e = _raise_sev1(deps, slack, clock)
    standin.clear()
    # Due soon (the last quarter of the minute): the message says so without a click.
    clock.advance(seconds=50)
    run_and_deliver(deps, clock())
    [soon] = updates_of(standin, e)
    assert "Acknowledge by" in dump(soon) and "*due soon*" in dump(soon)
    assert _alert_dms(standin, OWNER) == []
    # 30 s past the deadline: breached in place, the owner told by DM and in the thread.
    clock.advance(seconds=40)
    report = run_and_deliver(deps, clock())
    assert [(a.level, a.recipients) for a in report.sla_alerts] == [("owner", (OWNER,))]
    update = updates_of(standin, e)[-1]
    assert "Acknowledge by" in dump(update) and "*breached*" in dump(update)
    [dm] = _alert_dms(standin, OWNER)
    assert "SEV1 escalation #" in dm and "missed its acknowledgement promise" in dm
    [note] = _notes(standin, e)
    assert f"<@{OWNER}>, please acknowledge it" in note
    calls = len(standin.calls())

    # A second tick and a second scheduler (its own engine) add nothing.
    clock.advance(seconds=20)
    assert run_and_deliver(deps, clock()).sla_alerts == []
    other_engine = make_engine(deps.settings.database_url)
    try:
        other = Deps(**{**vars(deps), "sessions": make_session_factory(other_engine)})
        assert run_and_deliver(other, clock()).sla_alerts == []
    finally:
        other_engine.dispose()
    assert len(standin.calls()) == calls
    assert is_enqueued(deps.sessions, team_id=TEAM, key=breach_key(e.id, "ack", "owner"))


def test_the_policy_brings_in_the_process_owner_then_the_admins(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    e = _raise_sev1(deps, slack, clock)
    due = e.ack_due_at
    clock.now = due + timedelta(seconds=30)
    run_and_deliver(deps, clock())
    assert _alert_dms(standin, PROCESS_OWNER) == []
    clock.now = due + timedelta(minutes=5)  # the playbook's 5 minutes
    report = run_and_deliver(deps, clock())
    assert [(a.level, a.recipients) for a in report.sla_alerts] == [
        ("process_owner", (PROCESS_OWNER,))
    ]
    [dm] = _alert_dms(standin, PROCESS_OWNER)
    assert f"owned by <@{OWNER}>" in dm and "still not acknowledged 5 minutes after" in dm
    assert _alert_dms(standin, ADMIN) == []
    clock.now = due + timedelta(minutes=10)
    run_and_deliver(deps, clock())
    [admin_dm] = _alert_dms(standin, ADMIN)
    assert "brought in as an Opsloop admin" in admin_dm
    notes = _notes(standin, e)
    assert len(notes) == 3 and f"bringing in the admins <@{ADMIN}>" in notes[-1]
    # Acknowledged: nothing more, whatever the clock says.
    press(slack, "escalation.acknowledge", e, user=OWNER)
    standin.clear()
    clock.now = due + timedelta(minutes=30)  # the resolve clock (60 min) is still running
    assert run_and_deliver(deps, clock()).sla_alerts == []
    assert _alert_dms(standin, OWNER) == []


def test_an_acknowledged_escalation_breaching_its_resolve_clock_is_announced(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    e = _raise_sev1(deps, slack, clock)
    press(slack, "escalation.acknowledge", e, user=OWNER)
    clock.now = e.resolve_due_at + timedelta(seconds=1)
    report = run_and_deliver(deps, clock())
    assert [(a.clock, a.level) for a in report.sla_alerts] == [("resolve", "owner")]
    assert "missed its resolution promise" in _alert_dms(standin, OWNER)[0]
    assert "Resolve by" in dump(updates_of(standin, e)[-1])


def test_weekdays_only_waits_for_monday_but_a_sev1_never_waits(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    _import(deps, clock)
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    clock.now = saturday
    sev3 = raise_escalation(slack, deps.sessions, clock, severity="sev3", title="Slow page")
    sev1 = raise_escalation(slack, deps.sessions, clock, severity="sev1", title="Down")
    clock.now = saturday + timedelta(minutes=2)
    report = run_and_deliver(deps, clock())
    assert [(a.escalation_id, a.level) for a in report.sla_alerts] == [(sev1.id, "owner")]
    # The SEV3 message shows *breached* all the same; its alerts wait for the weekday.
    assert "*breached*" in dump(updates_of(standin, sev3)[-1])
    clock.now = datetime(2026, 11, 23, 0, 5, tzinfo=UTC)  # Monday
    report = run_and_deliver(deps, clock())
    # 38 hours later: every level of both clocks is due (4 h / 1 day after each deadline).
    sev3_levels = {(a.clock, a.level) for a in report.sla_alerts if a.escalation_id == sev3.id}
    assert sev3_levels == {
        (clock_kind, level)
        for clock_kind in ("ack", "resolve")
        for level in ("owner", "process_owner", "admins")
    }


def test_policy_in_the_playbook_defaults_and_export(deps: Deps, clock: FixedClock) -> None:
    assert get_escalation_policy(deps.sessions, team_id=TEAM) == DEFAULT_POLICY
    _import(deps, clock)
    policy = get_escalation_policy(deps.sessions, team_id=TEAM)
    assert policy.sev1.process_owner_after == timedelta(minutes=5)
    assert policy.sev2 == DEFAULT_POLICY.sev2
    exported = export_playbook(deps.sessions, team_id=TEAM)
    assert "escalation_policy:" in exported and "process_owner_after_minutes: 5" in exported
    # `null` never brings a level in; a field left out keeps the default.
    _import(deps, clock, PLAYBOOK.replace("admins_after_minutes: 10", "admins_after_minutes: null"))
    policy = get_escalation_policy(deps.sessions, team_id=TEAM)
    assert policy.sev1.admins_after is None
    assert policy.sev1.process_owner_after == timedelta(minutes=5)
    assert json.loads(policy.model_dump_json())["sev3"]["weekdays_only"] is True


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("sev1: {weekdays_only: true}", "a SEV1 never waits for a weekday"),
        ("sev2: {admins_after_minutes: -5}", "greater than or equal to 0"),
        ("sev5: {admins_after_minutes: 5}", "unknown setting 'sev5'"),
        ("sev2: {admins_after: 5}", "unknown setting 'admins_after'"),
    ],
)
def test_a_bad_policy_is_refused_with_its_line(policy: str, message: str) -> None:
    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook(f"escalation_policy:\n  {policy}\n", "team.yaml")
    assert "team.yaml:2:" in str(caught.value) and message in str(caught.value)


def _pick_severity(
    slack: SlackDriver, e: EscalationView, severity: str, *, user: str, value: str | None = None
) -> Any:
    option = value or SeverityChoice(id=e.id, severity=severity).encode()  # type: ignore[arg-type]
    return slack.click(
        SEVERITY,
        user=user,
        channel=e.channel_id,
        action_type="static_select",
        message={"type": "message", "ts": e.message_ts, "text": "escalation"},
        extra={"selected_option": {"value": option, "text": {"type": "plain_text", "text": "x"}}},
    )


def test_severity_is_changed_from_the_message_and_the_clocks_follow(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    setup_roles(deps.sessions, clock)
    e = raise_escalation(slack, deps.sessions, clock, severity="sev3")
    assert e.ack_due_at == START + timedelta(hours=4)
    [post] = [c for c in standin.calls("chat.postMessage") if c.params.get("ts") is None][:1]
    select = next(
        el
        for b in post.params["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el["action_id"] == SEVERITY
    )
    assert SeverityChoice.decode(select["initial_option"]["value"]).severity == "sev3"
    clock.advance(minutes=20)
    # Someone who may not act is refused; a forged choice is refused; nothing changes.
    denied = _pick_severity(slack, e, "sev1", user=STRANGER)
    assert "Only" in denied.reply_text
    forged = _pick_severity(slack, e, "sev1", user=OWNER, value='{"id": 1, "severity": "sev9"}')
    assert "not valid" in forged.reply_text and "Traceback" not in forged.reply_text
    result = _pick_severity(slack, e, "sev1", user=OWNER)
    assert result.status == 200
    after = service.get_escalation(deps.sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    # Recomputed from when it was opened: a 15-minute SEV1 promise is breached 5 min ago.
    assert (after.severity, after.ack_due_at) == ("sev1", START + timedelta(minutes=15))
    assert after.resolve_due_at == START + timedelta(hours=4)
    assert after.ack_clock.breached
    update = updates_of(standin, e)[-1]
    assert "SEV1 escalation" in dump(update) and "*breached*" in dump(update)
    [note] = [t for t in _thread_texts(standin, e) if "changed the severity" in t]
    assert "from SEV3 to SEV1" in note
    timeline = service.list_timeline(deps.sessions, team_id=TEAM, escalation_id=e.id)
    assert (timeline[-1].kind, timeline[-1].detail["from"], timeline[-1].detail["to"]) == (
        "severity_changed",
        "sev3",
        "sev1",
    )
    # The next tick announces the breach the new severity made.
    report = run_and_deliver(deps, clock())
    assert [(a.clock, a.level) for a in report.sla_alerts] == [("ack", "owner")]
    again = _pick_severity(slack, e, "sev1", user=OWNER)
    [told] = again.of("chat.postEphemeral")
    assert told.params["user"] == OWNER and "already SEV1; nothing changed" in told.params["text"]
    assert len(service.list_timeline(deps.sessions, team_id=TEAM, escalation_id=e.id)) == 2


def test_reopen_needs_a_reason_and_only_for_those_who_may(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    setup_roles(deps.sessions, clock)
    e = raise_escalation(slack, deps.sessions, clock, severity="sev2")
    assert submit_resolve(slack, e.id, user=OWNER).status == 200
    denied = press(slack, "escalation.reopen", e, user=STRANGER)
    assert "Only" in denied.reply_text and not denied.of("views.open")
    empty = submit_reopen(slack, e.id, user=OWNER, reason="   ")
    assert empty.body["response_action"] == "errors"
    assert modals.REOPEN_REASON in empty.body["errors"]
    still = service.get_escalation(deps.sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert still.status == "resolved"
    long_reason = "x" * 10_000 + "\x00"
    assert submit_reopen(slack, e.id, user=OWNER, reason=long_reason).status == 200
    reopened = service.get_escalation(deps.sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert reopened.status == "acknowledged"
    # A stale reopen form on an escalation already reopened changes nothing more.
    stale = submit_reopen(slack, e.id, user=OWNER, reason="again")
    assert stale.status == 200
    kinds = [t.kind for t in service.list_timeline(deps.sessions, team_id=TEAM, escalation_id=e.id)]
    assert kinds == ["opened", "resolved", "reopened"]


def _thread_texts(standin: SlackStandin, e: EscalationView) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in standin.calls("chat.postMessage")
        if c.params.get("thread_ts") == e.message_ts
    ]
