"""`opsloop export kpis`: KPI definitions and every logged value."""

from __future__ import annotations

from datetime import datetime

from bot.deps import Deps
from bot.exporting import EXPORTERS, Export
from bot.services.kpis import KPI_EXPORT_COLUMNS, export_kpi_rows


def export_kpis(deps: Deps, team_id: str | None, since: datetime | None) -> Export:
    """Definitions joined with measurements (since `since`), for one team or all."""
    rows = export_kpi_rows(deps.sessions, team_id=team_id, since=since)
    return Export(columns=list(KPI_EXPORT_COLUMNS), rows=rows)


EXPORTERS["kpis"] = export_kpis
