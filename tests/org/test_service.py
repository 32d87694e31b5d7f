"""Process owners, admins and per-team settings, on both databases."""

from __future__ import annotations

from bot.clock import FixedClock
from bot.org import service as directory
from bot.org import team_settings
from storage.core import list_audit_entries
from storage.db import SessionFactory, transaction


def test_owner_change_is_audited_and_team_scoped(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    directory.set_process_owner(
        sessions,
        team_id="T1",
        process_key="escalations",
        process_name="Escalation handling",
        owner_id="U1",
        actor_id="UADMIN",
        now=clock(),
    )
    directory.set_process_owner(
        sessions,
        team_id="T1",
        process_key="escalations",
        process_name="Escalation handling",
        owner_id="U2",
        actor_id="UADMIN",
        now=clock(),
    )
    assert directory.get_process_owner(sessions, team_id="T1", process_key="escalations") == "U2"
    assert directory.get_process_owner(sessions, team_id="T2", process_key="escalations") is None
    with transaction(sessions) as session:
        entries = list_audit_entries(session, team_id="T1")
    assert [e.detail for e in entries] == [{"from": "U1", "to": "U2"}, {"from": None, "to": "U1"}]


def test_admins_are_replaced_not_accumulated(sessions: SessionFactory) -> None:
    directory.set_admins(sessions, team_id="T1", user_ids=["U1", "U2"])
    directory.set_admins(sessions, team_id="T1", user_ids=["U2", "U3"])
    assert not directory.is_admin(sessions, team_id="T1", user_id="U1")
    assert directory.is_admin(sessions, team_id="T1", user_id="U3")
    assert not directory.is_admin(sessions, team_id="T2", user_id="U3")


def test_team_settings_upsert(sessions: SessionFactory) -> None:
    key = team_settings.FEEDBACK_CHANNEL
    assert directory.get_team_setting(sessions, team_id="T1", key=key) is None
    directory.set_team_setting(sessions, team_id="T1", key=key, value="C1")
    directory.set_team_setting(sessions, team_id="T1", key=key, value="C2")
    assert directory.get_team_setting(sessions, team_id="T1", key=key) == "C2"
