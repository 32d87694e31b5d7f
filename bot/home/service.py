"""The App Home dashboard's data: my open items, my escalations, my processes, the KPIs.

Checklist items and escalations come from their domains through `HomeSections` (the real
ones are `HOME_SECTIONS`, passed in through `Deps.home_sections`); a section that fails is
shown as unavailable instead of blanking the whole tab.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot import periods
from bot.escalations.rows import clocks_of
from bot.home.models import HomeData, HomeItem, OwnedProcess
from bot.kpis.service import list_kpi_reports
from bot.org.models import sop_review_due
from storage import checklists as checklist_store
from storage import core, org
from storage import escalations as escalation_store
from storage.db import SessionFactory, transaction

log = logging.getLogger(__name__)


# (sessions, team_id, user_id, now) → the user's open items of that kind, most urgent first
HomeProvider = Callable[[SessionFactory, str, str, datetime], list[HomeItem]]


def my_open_checklist_items(
    sessions: SessionFactory, team_id: str, user_id: str, now: datetime
) -> list[HomeItem]:
    """Undone items of active checklist runs that `user_id` owns, soonest due first."""
    with transaction(sessions) as session:
        rows = checklist_store.list_open_checklist_items(session, team_id=team_id, owner_id=user_id)
        person = core.get_person(session, team_id=team_id, user_id=user_id)
        zone = periods.zone(person.timezone if person else None)
        return [
            HomeItem(
                title=item.title,
                detail=" · ".join(
                    part
                    for part in (
                        run.title,
                        run.subject,
                        f"due {item.due_at.astimezone(zone):%a %d %b}",
                        periods.overdue_text(item.due_at, now) if item.due_at < now else "",
                    )
                    if part
                ),
                url=item.help_url,
                overdue=item.due_at < now,
            )
            for item, run in rows
        ]


def my_open_escalations(
    sessions: SessionFactory, team_id: str, user_id: str, now: datetime
) -> list[HomeItem]:
    """Unresolved escalations `user_id` owns, with the state of their SLA clocks."""
    with transaction(sessions) as session:
        rows = escalation_store.list_open_for_owner(session, team_id=team_id, owner_id=user_id)
        person = core.get_person(session, team_id=team_id, user_id=user_id)
        zone = periods.zone(person.timezone if person else None)
        items = []
        for row in rows:
            ack, resolve = clocks_of(row, now)
            running = ack if ack.stopped_at is None else resolve
            verb = "acknowledge" if running is ack else "resolve"
            items.append(
                HomeItem(
                    title=f"{row.severity.upper()} #{row.id} {row.title}",
                    detail=" · ".join(
                        part
                        for part in (
                            row.customer,
                            row.status,
                            f"{verb} by {periods.zone_label(running.due_at, zone)}: "
                            f"{running.state}",
                        )
                        if part
                    ),
                    url=row.permalink,
                    overdue=running.breached,
                )
            )
        # breached first, then the earliest deadline
        return sorted(items, key=lambda item: not item.overdue)


@dataclass(frozen=True)
class HomeSections:
    """Where the two lists of "mine" come from."""

    checklist_items: HomeProvider
    escalations: HomeProvider


HOME_SECTIONS = HomeSections(
    checklist_items=my_open_checklist_items, escalations=my_open_escalations
)


def _section(
    name: str,
    provider: HomeProvider,
    sessions: SessionFactory,
    team_id: str,
    user_id: str,
    now: datetime,
) -> tuple[tuple[HomeItem, ...], bool]:
    try:
        return tuple(provider(sessions, team_id, user_id, now)), True
    except Exception:  # one broken section must not blank the whole home tab
        log.exception("home section %s failed", name)
        return (), False


def build_home(
    sessions: SessionFactory,
    *,
    sections: HomeSections,
    team_id: str,
    user_id: str,
    now: datetime,
    tz: str,
) -> HomeData:
    """Everything the App Home of `user_id` shows."""
    checklist_items, ok_items = _section(
        "checklist items", sections.checklist_items, sessions, team_id, user_id, now
    )
    escalations, ok_escalations = _section(
        "escalations", sections.escalations, sessions, team_id, user_id, now
    )
    with transaction(sessions) as session:
        processes = []
        for p in org.list_processes(session, team_id=team_id):
            if p.owner_id != user_id:
                continue
            due = sop_review_due(p.last_reviewed_at, p.review_every_days)
            processes.append(
                OwnedProcess(
                    p.key, p.name, p.sop_url, due.date() if due else None, due is None or due < now
                )
            )
    kpis = list_kpi_reports(sessions, team_id=team_id, now=now, tz=tz)
    unavailable = tuple(
        name
        for name, ok in (("checklist items", ok_items), ("escalations", ok_escalations))
        if not ok
    )
    return HomeData(
        user_id, checklist_items, escalations, tuple(processes), tuple(kpis), unavailable
    )
