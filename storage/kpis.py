"""Query functions for KPIs and their measurements."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from storage.models.checklists import ChecklistRun
from storage.models.feedback import Feedback
from storage.models.kpis import Kpi, KpiMeasurement
from storage.upsert import insert_if_absent


def get_kpi(session: Session, *, team_id: str, key: str) -> Kpi | None:
    """One KPI by its key."""
    return session.scalar(select(Kpi).where(Kpi.team_id == team_id, Kpi.key == key))


def list_kpis(session: Session, *, team_id: str) -> list[Kpi]:
    """Every KPI of a team, in the order they were defined."""
    return list(session.scalars(select(Kpi).where(Kpi.team_id == team_id).order_by(Kpi.id)))


def add_or_get_kpi(session: Session, *, team_id: str, key: str, name: str) -> Kpi:
    """The KPI with `key`, created (manual, no target) when missing."""
    insert_if_absent(
        session,
        Kpi.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "key": key,
            "name": name,
            "description": "",
            "unit": "",
            "direction": "higher",
            "kind": "manual",
        },
    )
    kpi = get_kpi(session, team_id=team_id, key=key)
    assert kpi is not None
    return kpi


def add_measurement(
    session: Session, *, kpi: Kpi, value: float, at: datetime, by_id: str, note: str
) -> KpiMeasurement:
    """Record one value of a KPI."""
    measurement = KpiMeasurement(
        team_id=kpi.team_id, kpi_id=kpi.id, value=value, at=at, by_id=by_id, note=note
    )
    session.add(measurement)
    session.flush()
    return measurement


def list_measurements(
    session: Session, *, kpi_id: int, start: datetime | None = None, end: datetime | None = None
) -> list[KpiMeasurement]:
    """Values of one KPI in [start, end), oldest first."""
    statement = select(KpiMeasurement).where(KpiMeasurement.kpi_id == kpi_id)
    if start is not None:
        statement = statement.where(KpiMeasurement.at >= start)
    if end is not None:
        statement = statement.where(KpiMeasurement.at < end)
    return list(session.scalars(statement.order_by(KpiMeasurement.at, KpiMeasurement.id)))


def get_latest_measurement(
    session: Session, *, kpi_id: int, before: datetime | None = None
) -> KpiMeasurement | None:
    """The newest value of a KPI (strictly before `before` when given)."""
    statement = select(KpiMeasurement).where(KpiMeasurement.kpi_id == kpi_id)
    if before is not None:
        statement = statement.where(KpiMeasurement.at < before)
    return session.scalar(
        statement.order_by(KpiMeasurement.at.desc(), KpiMeasurement.id.desc()).limit(1)
    )


def list_kpis_with_measurements(
    session: Session, *, team_id: str | None, since: datetime | None
) -> list[tuple[Kpi, KpiMeasurement | None]]:
    """Every KPI with each of its measurements (None for a KPI without any), for export."""
    joined = KpiMeasurement.kpi_id == Kpi.id
    if since is not None:
        joined = and_(joined, KpiMeasurement.at >= since)
    statement = select(Kpi, KpiMeasurement).outerjoin(KpiMeasurement, joined)
    if team_id is not None:
        statement = statement.where(Kpi.team_id == team_id)
    statement = statement.order_by(Kpi.team_id, Kpi.id, KpiMeasurement.at, KpiMeasurement.id)
    return [(row[0], row[1]) for row in session.execute(statement)]


# -- sources of computed KPIs in other capabilities' tables ------------------------------


def count_completed_checklists(
    session: Session, *, team_id: str, start: datetime, end: datetime
) -> int:
    """Checklist runs completed in [start, end)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(ChecklistRun)
            .where(
                ChecklistRun.team_id == team_id,
                ChecklistRun.status == "completed",
                ChecklistRun.completed_at >= start,
                ChecklistRun.completed_at < end,
            )
        )
        or 0
    )


def list_completed_run_durations(
    session: Session, *, team_id: str, start: datetime, end: datetime, template_like: str
) -> list[float]:
    """Seconds from start to completion of matching runs completed in [start, end)."""
    rows = session.execute(
        select(ChecklistRun.started_at, ChecklistRun.completed_at).where(
            ChecklistRun.team_id == team_id,
            ChecklistRun.status == "completed",
            ChecklistRun.completed_at >= start,
            ChecklistRun.completed_at < end,
            ChecklistRun.template_name.contains(template_like),
        )
    )
    return [(done - began).total_seconds() for began, done in rows if done is not None]


def count_feedback(session: Session, *, team_id: str, start: datetime, end: datetime) -> int:
    """Feedback items created in [start, end)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(
                Feedback.team_id == team_id,
                Feedback.created_at >= start,
                Feedback.created_at < end,
                Feedback.deleted_at.is_(None),
            )
        )
        or 0
    )
