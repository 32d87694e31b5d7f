"""Query functions for processes and admins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models.org import Admin, PlaybookImport, Process, ProcessReview, TeamSetting
from storage.upsert import insert_if_absent


def get_process(session: Session, *, team_id: str, key: str) -> Process | None:
    """One process by its key (e.g. `escalations`)."""
    return session.scalar(select(Process).where(Process.team_id == team_id, Process.key == key))


def list_processes(session: Session, *, team_id: str) -> list[Process]:
    """Every process of a team, by name."""
    return list(
        session.scalars(select(Process).where(Process.team_id == team_id).order_by(Process.name))
    )


def add_or_get_process(session: Session, *, team_id: str, key: str, name: str) -> Process:
    """The process with `key`, created (unowned) when missing."""
    insert_if_absent(
        session,
        Process.__table__,  # type: ignore[arg-type]
        {"team_id": team_id, "key": key, "name": name, "description": "", "review_every_days": 90},
    )
    process = get_process(session, team_id=team_id, key=key)
    assert process is not None
    return process


def is_admin(session: Session, *, team_id: str, user_id: str) -> bool:
    """True when `user_id` is an Opsloop admin of the team."""
    found = session.scalar(
        select(Admin.id).where(Admin.team_id == team_id, Admin.user_id == user_id)
    )
    return found is not None


def set_admins(session: Session, *, team_id: str, user_ids: list[str]) -> None:
    """Make exactly `user_ids` the team's admins."""
    session.execute(delete(Admin).where(Admin.team_id == team_id, Admin.user_id.not_in(user_ids)))
    for user_id in user_ids:
        insert_if_absent(session, Admin.__table__, {"team_id": team_id, "user_id": user_id})  # type: ignore[arg-type]


def get_team_setting(session: Session, *, team_id: str, key: str) -> str | None:
    """One per-team setting, or None when unset."""
    return session.scalar(
        select(TeamSetting.value).where(TeamSetting.team_id == team_id, TeamSetting.key == key)
    )


def set_team_setting(session: Session, *, team_id: str, key: str, value: str) -> None:
    """Create or replace one per-team setting."""
    insert_if_absent(
        session,
        TeamSetting.__table__,  # type: ignore[arg-type]
        {"team_id": team_id, "key": key, "value": value},
    )
    session.execute(
        update(TeamSetting)
        .where(TeamSetting.team_id == team_id, TeamSetting.key == key)
        .values(value=value)
    )


def list_admins(session: Session, *, team_id: str) -> list[str]:
    """The user ids of a team's admins, sorted."""
    return list(
        session.scalars(
            select(Admin.user_id).where(Admin.team_id == team_id).order_by(Admin.user_id)
        )
    )


def list_team_ids_with_settings(session: Session) -> list[str]:
    """Teams the scheduler serves: every team that has any setting (channels, timezone…)."""
    return list(
        session.scalars(select(TeamSetting.team_id).distinct().order_by(TeamSetting.team_id))
    )


def add_process_review(
    session: Session,
    *,
    team_id: str,
    process_key: str,
    reviewed_by: str,
    reviewed_at: datetime,
    note: str,
) -> ProcessReview:
    """Record one SOP review."""
    review = ProcessReview(
        team_id=team_id,
        process_key=process_key,
        reviewed_by=reviewed_by,
        reviewed_at=reviewed_at,
        note=note,
    )
    session.add(review)
    return review


def list_process_reviews(
    session: Session, *, team_id: str, process_key: str
) -> list[ProcessReview]:
    """The reviews of one process, newest first."""
    return list(
        session.scalars(
            select(ProcessReview)
            .where(ProcessReview.team_id == team_id, ProcessReview.process_key == process_key)
            .order_by(ProcessReview.reviewed_at.desc(), ProcessReview.id.desc())
        )
    )


def add_playbook_import(
    session: Session, *, team_id: str, imported_at: datetime, actor_id: str, snapshot: str
) -> None:
    """Keep the playbook as imported now: the base of the next import's merge."""
    session.add(
        PlaybookImport(
            team_id=team_id, imported_at=imported_at, actor_id=actor_id, snapshot=snapshot
        )
    )


def last_playbook_import(session: Session, *, team_id: str) -> str | None:
    """The snapshot of the team's last playbook import, or None before the first."""
    return session.scalar(
        select(PlaybookImport.snapshot)
        .where(PlaybookImport.team_id == team_id)
        .order_by(PlaybookImport.id.desc())
        .limit(1)
    )
