"""Manual KPIs as a nudge source: "KPIs owed this week".

A manual KPI with an owner is owed from the team's first nudge weekday of the ISO week at
the nudge hour (team timezone; default Monday 10:00) until a value for that week is logged.
The nudge has no *Done*: logging needs the number, so the item names the `/kpi log`
command. KPIs have no process, so no process owner hears about them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import UserError
from bot.services import directory, kpis, nudges, periods
from bot.services.kpi_compute import MANUAL_KIND
from bot.services.nudges import OverdueItem, register_nudge_source
from storage import kpis as kpi_store
from storage.db import SessionFactory, transaction

KPI_SOURCE = "kpi"


def kpi_owed_from(sessions: SessionFactory, *, team_id: str, now: datetime) -> datetime:
    """When this week's KPI values fall due: the first nudge weekday at the nudge hour."""
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    settings = nudges.get_nudge_settings(sessions, team_id=team_id, default_timezone=tz)
    week = periods.week_of(now, settings.team_tz)
    monday = periods.week_monday(week)
    day = monday + timedelta(days=min(settings.weekdays, default=0))
    return datetime.combine(day, settings.at, tzinfo=settings.team_tz)


def list_owed_kpis(sessions: SessionFactory, team_id: str, now: datetime) -> list[OverdueItem]:
    """Manual KPIs whose owner has not logged this week's value once it fell due."""
    due_at = kpi_owed_from(sessions, team_id=team_id, now=now)
    if now < due_at:
        return []
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    week = periods.week_of(now, periods.zone(tz))
    items = []
    with transaction(sessions) as session:
        for kpi in kpi_store.list_kpis(session, team_id=team_id):
            if kpi.kind != MANUAL_KIND:
                continue
            info = kpis.kpi_info(session, kpi)
            if not info.owner_id:
                continue
            if kpis.week_value(session, kpi=kpi, week=week, tz=tz) is not None:
                continue
            items.append(
                OverdueItem(
                    source=KPI_SOURCE,
                    item_id=info.key,
                    title=f"KPI owed this week: {info.name} — log it with "
                    f"`/kpi log {info.key} <value>`",
                    owner_id=info.owner_id,
                    due_at=due_at.astimezone(now.tzinfo),
                    can_mark_done=False,
                )
            )
    return items


def refuse_done(
    sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
) -> None:
    """A KPI value cannot be logged by a click: say which command logs it."""
    raise UserError(
        f"Log this week's value with `/kpi log {item_id} <value>`; nothing was changed.",
        example=f"/kpi log {item_id} 42",
    )


register_nudge_source(KPI_SOURCE, list_owed_kpis, refuse_done)
