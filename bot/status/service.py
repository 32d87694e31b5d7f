"""`/ops status`: what is missing in the operating model right now."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.kpis.compute import compute_kpi
from bot.kpis.models import MANUAL_KIND
from bot.org.models import sop_review_due
from bot.org.people import get_people
from bot.org.service import resolve_owner
from bot.periods import MONTHLY
from bot.status.models import DeactivatedOwner, StaleSop, StatusReport
from storage import kpis as kpi_store
from storage import org
from storage.db import SessionFactory, transaction

NO_DATA_AFTER = timedelta(weeks=2)
# A monthly KPI is logged once a month: silent when two months pass without a value.
NO_DATA_AFTER_MONTHLY = timedelta(days=62)


def operation_status(sessions: SessionFactory, *, team_id: str, now: datetime) -> StatusReport:
    """Processes without owner, deactivated owners, KPIs silent for 2 weeks, stale SOPs."""
    owned: dict[str, list[str]] = {}
    with transaction(sessions) as session:
        processes = org.list_processes(session, team_id=team_id)
        kpis = kpi_store.list_kpis(session, team_id=team_id)
        without_owner = tuple(p.name for p in processes if not p.owner_id)
        stale: list[StaleSop] = []
        for p in processes:
            if p.owner_id:
                owned.setdefault(p.owner_id, []).append(p.name)
            due = sop_review_due(p.last_reviewed_at, p.review_every_days)
            if due is None or due < now:
                stale.append(StaleSop(p.key, p.name, due.date() if due else None, p.sop_url))
        silent: list[str] = []
        for kpi in kpis:
            owner = resolve_owner(session, team_id=team_id, owner_ref=kpi.owner_ref)
            if owner and kpi.owner_ref == owner:
                owned.setdefault(owner, []).append(f"KPI {kpi.name}")
            if kpi.kind == MANUAL_KIND:
                latest = kpi_store.get_latest_measurement(session, kpi_id=kpi.id)
                quiet = NO_DATA_AFTER_MONTHLY if kpi.cadence == MONTHLY else NO_DATA_AFTER
                has_data = latest is not None and latest.at >= now - quiet
            else:
                value = compute_kpi(
                    session, kind=kpi.kind, team_id=team_id, start=now - NO_DATA_AFTER, end=now
                )
                has_data = value is not None
            if not has_data:
                silent.append(kpi.name)
    people = get_people(sessions, team_id=team_id, user_ids=owned)
    deactivated = tuple(
        DeactivatedOwner(uid, people[uid].display_name, tuple(owned[uid]))
        for uid in sorted(owned)
        if uid in people and people[uid].is_deleted
    )
    return StatusReport(
        process_count=len(processes),
        kpi_count=len(kpis),
        processes_without_owner=without_owner,
        deactivated_owners=deactivated,
        kpis_without_data=tuple(silent),
        stale_sops=tuple(stale),
    )
