"""Importing the playbook: idempotent, at start only when changed, and exported back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.kpis import service as kpis
from bot.org import owners, team_settings
from bot.org import service as directory
from bot.playbook import service as playbook
from bot.playbook.schema import PlaybookInvalidError, parse_playbook
from bot.wiring import import_playbook_at_start
from storage.core import list_audit_entries
from storage.db import SessionFactory, transaction
from tests.support.paths import REPO_ROOT
from tests.support.playbook import ADMIN, OWNER, SMALL_PLAYBOOK, TEAM, load_small_playbook
from tests.support.slack import SlackStandin

ROOT = REPO_ROOT


def _with_playbook(deps: Deps, path: Path) -> Deps:
    settings = deps.settings.model_copy(update={"opsloop_playbook": path})
    return dataclasses.replace(deps, settings=settings)


def test_import_writes_everything_and_is_idempotent(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    first = load_small_playbook(sessions, clock())
    assert (first.processes_created, first.kpis_created, first.admins) == (3, 3, 1)
    again = load_small_playbook(sessions, clock())
    assert (again.processes_created, again.processes_updated) == (0, 0)
    assert (again.kpis_created, again.kpis_updated) == (0, 0)

    get = lambda key: directory.get_team_setting(sessions, team_id=TEAM, key=key)  # noqa: E731
    assert get(team_settings.TEAM_TIMEZONE) == "Europe/Berlin"
    assert get(team_settings.ESCALATIONS_CHANNEL) == "C0ESC"
    assert get(team_settings.DIGEST_CHANNEL) == "C0DIGEST"
    assert get(team_settings.FEEDBACK_CHANNEL) is None
    assert get(team_settings.NUDGE_TIME) == "10:00"
    slas = playbook.get_severity_slas(sessions, team_id=TEAM)
    assert (slas["sev1"].ack_minutes, slas["sev1"].resolve_minutes) == (15, 240)
    assert directory.is_admin(sessions, team_id=TEAM, user_id=ADMIN)
    rows = {row.key: row.owner_id for row in owners.list_owners(sessions, team_id=TEAM)}
    assert rows == {"onboarding": OWNER, "escalations": ADMIN, "renewals": None}
    with transaction(sessions) as session:
        kpi = kpis.find_kpi(session, team_id=TEAM, ref="activation")
        info = kpis.kpi_info(session, kpi)
        # the owner of a process-owned KPI follows the process owner
        assert (info.owner_ref, info.owner_id, info.unit) == ("process:onboarding", OWNER, "%")
        nps = kpis.kpi_info(session, kpis.find_kpi(session, team_id=TEAM, ref="NPS"))
        assert nps.unit == "points"  # the computed kind's unit
        # owner assignments by the playbook are audited once, not on every import
        assert len(list_audit_entries(session, team_id=TEAM)) == 2


def test_changed_playbook_updates_in_place(sessions: SessionFactory, clock: FixedClock) -> None:
    load_small_playbook(sessions, clock())
    changed = SMALL_PLAYBOOK.replace("target: 25", "target: 30")
    summary = load_small_playbook(sessions, clock(), text=changed)
    assert (summary.kpis_created, summary.kpis_updated, summary.processes_updated) == (0, 1, 0)
    with transaction(sessions) as session:
        assert kpis.find_kpi(session, team_id=TEAM, ref="activation").target == 30


def test_teams_do_not_share_a_playbook(sessions: SessionFactory, clock: FixedClock) -> None:
    load_small_playbook(sessions, clock())
    assert owners.list_owners(sessions, team_id="T0OTHER") == []
    assert not directory.is_admin(sessions, team_id="T0OTHER", user_id=ADMIN)


def test_start_imports_once_and_keeps_changes_made_in_slack(
    deps: Deps, tmp_path: Path, standin: SlackStandin
) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text(SMALL_PLAYBOOK)
    started = _with_playbook(deps, path)
    summary = import_playbook_at_start(started)  # team from auth.test
    assert summary is not None and summary.team_id == "T0STANDIN" and summary.processes_created
    assert standin.calls("auth.test")
    owners.change_process_owner(
        deps.sessions,
        team_id="T0STANDIN",
        actor_id=ADMIN,
        process_ref="renewals",
        owner_id="UNEW1",
        now=deps.clock(),
    )
    again = import_playbook_at_start(started)
    assert again is not None and again.skipped
    rows = {r.key: r.owner_id for r in owners.list_owners(deps.sessions, team_id="T0STANDIN")}
    assert rows["renewals"] == "UNEW1"
    # an edited file is applied again
    path.write_text(SMALL_PLAYBOOK.replace("name: Renewal risk review", "name: Renewals"))
    third = import_playbook_at_start(started)
    assert third is not None and not third.skipped and third.processes_updated == 1


def test_start_without_playbook_does_nothing(deps: Deps) -> None:
    assert import_playbook_at_start(deps) is None


def test_broken_playbook_stops_the_start(deps: Deps, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("processes:\n  - key: a\n    name: A\n    review_every_days: -3\n")
    with pytest.raises(PlaybookInvalidError) as caught:
        import_playbook_at_start(_with_playbook(deps, path), team_id=TEAM)
    assert f"{path}:4: processes[0].review_every_days" in str(caught.value)
    assert owners.list_owners(deps.sessions, team_id=TEAM) == []


def test_export_round_trips_with_names_as_comments(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    example = parse_playbook((ROOT / "playbook.example.yaml").read_text(), "example")
    playbook.import_playbook(sessions, TEAM, example, clock())
    from bot.org.models import PersonInfo
    from bot.org.people import sync_people

    sync_people(
        sessions,
        team_id=TEAM,
        user_ids=["U05CSLEAD"],
        fetch=lambda uid: PersonInfo(uid, "Dana Okafor", "Europe/Berlin", False),
        now=clock(),
    )
    text = playbook.export_playbook(sessions, team_id=TEAM)
    assert "owner: U05CSLEAD  # Dana Okafor" in text
    exported = parse_playbook(text, "exported.yaml")
    assert exported == example.model_copy(
        update={"processes": sorted(example.processes, key=lambda p: p.name)}
    )
    summary = playbook.import_playbook(sessions, TEAM, exported, clock())
    assert (summary.processes_updated, summary.kpis_updated) == (0, 0)
    assert summary.templates_changed == 0


def test_playbook_templates_can_be_started_in_slack(slack, deps: Deps) -> None:  # type: ignore[no-untyped-def]
    load_small_playbook(deps.sessions, deps.clock())
    assert "customer-onboarding" in slack.command("/checklist", "templates").reply_text
    result = slack.command("/checklist", "start customer-onboarding Acme", user=ADMIN)
    [post] = result.of("chat.postMessage")
    assert "Kickoff call" in json.dumps(post.params, ensure_ascii=False)
    # the item owned through the process went to the process owner
    assert OWNER in json.dumps(post.params)
    # a playbook that no longer lists checklists leaves the templates alone
    load_small_playbook(deps.sessions, deps.clock(), text="admins: [UADMIN1]\n")
    assert "customer-onboarding" in slack.command("/checklist", "templates").reply_text


def test_playbook_severity_slas_set_the_escalation_due_times(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    from datetime import timedelta

    from bot.escalations import service as escalations
    from bot.escalations.models import EscalationDraft

    text = SMALL_PLAYBOOK.replace(
        "sev1: {ack_minutes: 15, resolve_minutes: 240}",
        "sev1: {ack_minutes: 5, resolve_minutes: 60}\n"
        "  sev3: {ack_minutes: 30, resolve_minutes: 90}",
    )
    assert text != SMALL_PLAYBOOK
    load_small_playbook(sessions, clock(), text)
    opened = {}
    for severity in ("sev1", "sev2", "sev3"):
        draft = EscalationDraft(title="t", severity=severity, owner_id=OWNER)
        view = escalations.open_escalation(sessions, team_id=TEAM, reporter_id=OWNER,
                                           draft=draft, now=clock())  # fmt: skip
        opened[severity] = (view.ack_due_at - clock(), view.resolve_due_at - clock())
    assert opened["sev1"] == (timedelta(minutes=5), timedelta(hours=1))
    assert opened["sev3"] == (timedelta(minutes=30), timedelta(minutes=90))
    assert opened["sev2"] == (timedelta(hours=1), timedelta(days=1))  # default kept
