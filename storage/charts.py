"""Query functions for KPI charts (see storage.models.charts)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models.charts import KpiChart
from storage.upsert import insert_if_absent


def add_chart_if_absent(
    session: Session,
    *,
    team_id: str,
    chart_hash: str,
    kind: str,
    kpi_key: str | None,
    period: str,
    spec: str,
    title: str,
    alt_text: str,
    now: datetime,
) -> KpiChart:
    """The chart named `chart_hash`, stored first if it is new (by this or another process)."""
    insert_if_absent(
        session,
        KpiChart.__table__,  # type: ignore[arg-type]
        {
            "team_id": team_id,
            "chart_hash": chart_hash,
            "kind": kind,
            "kpi_key": kpi_key,
            "period": period,
            "spec": spec,
            "title": title,
            "alt_text": alt_text,
            "created_at": now,
        },
    )
    chart = get_chart(session, team_id=team_id, chart_hash=chart_hash)
    assert chart is not None
    return chart


def get_chart(session: Session, *, team_id: str, chart_hash: str) -> KpiChart | None:
    return session.scalar(
        select(KpiChart).where(KpiChart.team_id == team_id, KpiChart.chart_hash == chart_hash)
    )


def list_file_ids(session: Session, *, team_id: str, hashes: Iterable[str]) -> dict[str, str]:
    """hash → Slack file id of those of `hashes` that were uploaded."""
    wanted = list(set(hashes))
    if not wanted:
        return {}
    rows = session.execute(
        select(KpiChart.chart_hash, KpiChart.file_id).where(
            KpiChart.team_id == team_id,
            KpiChart.chart_hash.in_(wanted),
            KpiChart.file_id.is_not(None),
        )
    )
    return {chart_hash: file_id for chart_hash, file_id in rows if file_id}


def set_file_id(
    session: Session, *, team_id: str, chart_hash: str, file_id: str, now: datetime
) -> None:
    """Keep the Slack file a chart was uploaded as (in the transaction marking it sent)."""
    session.execute(
        update(KpiChart)
        .where(KpiChart.team_id == team_id, KpiChart.chart_hash == chart_hash)
        .values(file_id=file_id, uploaded_at=now)
        .execution_options(synchronize_session=False)
    )
