"""`opsloop export kpis`: KPI definitions and every logged value."""

from __future__ import annotations

from datetime import datetime

from bot.exports import Export
from bot.kpis.service import KPI_EXPORT_COLUMNS, export_kpi_rows
from storage.db import SessionFactory


def export_kpis(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None, now: datetime
) -> Export:
    """Definitions joined with measurements (since `since`), for one team or all."""
    rows = export_kpi_rows(sessions, team_id=team_id, since=since)
    return Export(columns=list(KPI_EXPORT_COLUMNS), rows=rows)
