"""`opsloop export checklists`: runs and their items, one row per item."""

from __future__ import annotations

from datetime import datetime

from bot.deps import Deps
from bot.exporting import EXPORTERS, Export
from bot.services.checklist_export import EXPORT_COLUMNS, export_rows


def export_checklists(deps: Deps, team_id: str | None, since: datetime | None) -> Export:
    """Every item of every run (started on or after `since`), with its run's fields."""
    return Export(
        columns=list(EXPORT_COLUMNS),
        rows=export_rows(deps.sessions, team_id=team_id, since=since),
    )


EXPORTERS["checklists"] = export_checklists
