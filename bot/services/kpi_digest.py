"""The digest's KPI section: each KPI's value this week and last, target, status, owner."""

from __future__ import annotations

from datetime import datetime

from bot.services import directory, kpis
from bot.services.digest import DigestSection, register_digest_section
from bot.services.periods import week_of, zone
from storage.db import SessionFactory

KPI_SECTION = "kpis"


def kpi_section(
    sessions: SessionFactory, team_id: str, week_start: datetime, week_end: datetime, now: datetime
) -> DigestSection:
    """Every KPI of the team for the digest's week and the week before."""
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    # The middle of the digest's week names it in any timezone a few hours off.
    middle = week_start + (week_end - week_start) / 2
    week = week_of(middle, zone(tz))
    reports = kpis.list_kpi_reports(
        sessions, team_id=team_id, now=middle, tz=tz, weeks=2, as_of=now
    )
    rows = []
    for report in reports:
        last, this = report.weeks[-2].value, report.weeks[-1].value
        info = report.kpi
        rows.append(
            {
                "name": info.name,
                "unit": info.unit,
                "this_week": this,
                "last_week": last,
                "target": info.target,
                "status": kpis.kpi_status(this, info.target, info.direction).replace(" ", "_"),
                "owner_id": info.owner_id,
                "week": week,
            }
        )
    empty = None if rows else "No KPIs are set up yet: define them in the playbook."
    return DigestSection(KPI_SECTION, "KPIs", {"kpis": rows}, empty)


register_digest_section(KPI_SECTION, kpi_section)
