"""Where overdue items come from: one `NudgeSource` per kind, and `SOURCES`, all of them.

- Checklist items of active runs past their due time; *Done* ticks the item (the caller
  then refreshes the checklist message).
- Escalation SLA clocks running past due. An unacknowledged escalation is nudged with
  *Done* = acknowledge (the caller refreshes the channel message); an unresolved one is
  nudged without *Done*: resolving needs a root cause and a corrective action, so the item
  links to the escalation message, and a stale Done for it is refused with that link.
- Manual KPIs owed this week: owed from the team's first nudge weekday of the ISO week at
  the nudge hour (team timezone; default Monday 10:00) until a value for that week is
  logged. A monthly KPI is owed once a month: from the first nudge weekday of the month
  until a value for the month is logged. No *Done*: logging needs the number, so the item
  carries *Log value* (a small form, handled in `handlers.nudges`) and names the `/kpi
  log` command. KPIs have no process, so no process owner hears about them.
- SOP reviews past their due date, for the process owner. *Done* marks the SOP reviewed
  today (no note; the reminder DM and the App Home offer the modal with a note).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NoReturn

from bot import periods
from bot.checklists import service as checklists
from bot.checklists.models import TickResult
from bot.errors import NotFoundError, UserError
from bot.escalations import service as escalations
from bot.escalations.models import ChangeOutcome
from bot.escalations.sla import UNSNOOZABLE_SEVERITIES
from bot.ids import parse_record_id
from bot.kpis import service as kpis
from bot.kpis.models import MANUAL_KIND
from bot.nudges import service as nudges
from bot.nudges.models import OverdueItem
from bot.nudges.service import NudgeSource
from bot.org import reviews
from bot.org import service as directory
from bot.org.service import ESCALATION_PROCESS, ONBOARDING_PROCESS
from storage import kpis as kpi_store
from storage.db import SessionFactory, transaction

# Checklist items: overdue items are nudged, *Done* ticks the item.
CHECKLIST_SOURCE = "checklist_item"


def list_overdue_checklist_items(
    sessions: SessionFactory, team_id: str, now: datetime
) -> list[OverdueItem]:
    """Open items of active checklist runs past their due time that have an owner."""
    items = []
    for item in checklists.list_overdue_items(sessions, team_id=team_id, now=now):
        if not item.owner_id:
            continue  # a role nobody holds: the process owner sees it in the digest instead
        context = f"{item.run_title}: {item.subject}" if item.subject else item.run_title
        items.append(
            OverdueItem(
                source=CHECKLIST_SOURCE,
                item_id=str(item.item_id),
                title=f"{item.title} ({context})",
                owner_id=item.owner_id,
                due_at=item.due_at,
                # Checklist runs are the onboarding process's; its owner hears of late items.
                process_key=ONBOARDING_PROCESS,
            )
        )
    return items


def mark_checklist_item_done(
    sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
) -> TickResult:
    """Tick the item, as if in the checklist message; the caller refreshes that message."""
    number = parse_record_id(item_id)
    if number is None:
        raise NotFoundError("That checklist item does not exist; nothing was changed.")
    return checklists.mark_item_done(
        sessions, team_id=team_id, item_id=number, user_id=user_id, now=now
    )


# Escalation SLA clocks: each clock running past due, for its owner.
ESCALATION_SOURCE = "escalation"
ACK, RESOLVE = "ack", "resolve"


def _item_id(escalation_id: int, kind: str) -> str:
    return f"{escalation_id}:{kind}"


def _parse(item_id: str) -> tuple[int, str]:
    number, _, kind = item_id.partition(":")
    escalation_id = parse_record_id(number)
    if escalation_id is None or kind not in (ACK, RESOLVE):
        raise NotFoundError("That escalation does not exist; nothing was changed.")
    return escalation_id, kind


def list_overdue_escalation_clocks(
    sessions: SessionFactory, team_id: str, now: datetime
) -> list[OverdueItem]:
    """Ack and resolve clocks still running past due, one item per clock, for the owner."""
    items = []
    for breach in escalations.list_overdue_escalations(sessions, team_id=team_id, now=now):
        e = escalations.get_escalation(
            sessions, team_id=team_id, escalation_id=breach.escalation_id, now=now
        )
        severity = breach.severity.upper()
        if breach.kind == ACK:
            title = f"Acknowledge escalation #{e.id} ({severity}): {e.title}"
        else:
            title = f"Resolve escalation #{e.id} ({severity}): {e.title} (root cause needed)"
        items.append(
            OverdueItem(
                source=ESCALATION_SOURCE,
                item_id=_item_id(e.id, breach.kind),
                title=title,
                owner_id=breach.owner_id,
                due_at=breach.due_at,
                process_key=ESCALATION_PROCESS,
                link=e.permalink,
                can_mark_done=breach.kind == ACK,
                can_snooze=breach.severity not in UNSNOOZABLE_SEVERITIES,
            )
        )
    return items


def acknowledge_from_nudge(
    sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
) -> ChangeOutcome:
    """*Done* on an ack item acknowledges; a resolve item is refused with where to resolve."""
    escalation_id, kind = _parse(item_id)
    if kind == RESOLVE:
        e = escalations.get_escalation(
            sessions, team_id=team_id, escalation_id=escalation_id, now=now
        )
        where = f"<{e.permalink}|its message>" if e.permalink else "its message"
        raise UserError(
            f"Escalation #{e.id} is resolved with a root cause and a corrective action: "
            f"press *Resolve* on {where}. Nothing was changed."
        )
    return escalations.acknowledge_escalation(
        sessions, team_id=team_id, escalation_id=escalation_id, actor_id=user_id, now=now
    )


def refuse_breached_sev1_snooze(
    sessions: SessionFactory, team_id: str, item_id: str, now: datetime
) -> None:
    """A breached SEV1 / SEV2 clock cannot be snoozed: say what ends its reminders."""
    escalation_id, kind = _parse(item_id)
    e = escalations.get_escalation(sessions, team_id=team_id, escalation_id=escalation_id, now=now)
    clock = e.ack_clock if kind == ACK else e.resolve_clock
    if e.severity in UNSNOOZABLE_SEVERITIES and clock.breached and clock.stopped_at is None:
        verb = "acknowledge" if kind == ACK else "resolve"
        where = f"<{e.permalink}|its message>" if e.permalink else "its message"
        raise UserError(
            f"A breached {e.severity.upper()} cannot be snoozed: escalation #{e.id} keeps "
            f"its reminders until someone will {verb} it on {where}, or reassigns it. "
            "Nothing was snoozed."
        )


# Manual KPIs: "KPIs owed this week" (or month).
KPI_SOURCE = "kpi"
LOG_VALUE_LABEL = "Log value"


def kpi_owed_from(
    sessions: SessionFactory, *, team_id: str, now: datetime, cadence: str = periods.WEEKLY
) -> datetime:
    """When this period's KPI values fall due: the first nudge weekday of the week (of the
    month, for a monthly KPI) at the nudge hour."""
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    settings = nudges.get_nudge_settings(sessions, team_id=team_id, default_timezone=tz)
    first_weekday = min(settings.weekdays, default=0)
    if cadence == periods.MONTHLY:
        start = periods.month_bounds(periods.month_of(now, settings.team_tz), settings.team_tz)[0]
        first = start.astimezone(settings.team_tz).date()
        day = first + timedelta(days=(first_weekday - first.weekday()) % 7)
    else:
        monday = periods.week_monday(periods.week_of(now, settings.team_tz))
        day = monday + timedelta(days=first_weekday)
    return datetime.combine(day, settings.at, tzinfo=settings.team_tz)


def list_owed_kpis(sessions: SessionFactory, team_id: str, now: datetime) -> list[OverdueItem]:
    """Manual KPIs whose owner has not logged this period's value once it fell due."""
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    due = {
        cadence: kpi_owed_from(sessions, team_id=team_id, now=now, cadence=cadence)
        for cadence in periods.CADENCES
    }
    items = []
    with transaction(sessions) as session:
        for kpi in kpi_store.list_kpis(session, team_id=team_id):
            if kpi.kind != MANUAL_KIND:
                continue
            info = kpis.kpi_info(session, kpi)
            due_at = due.get(info.cadence, due[periods.WEEKLY])
            if not info.owner_id or now < due_at:
                continue
            period = periods.period_of(now, periods.zone(tz), info.cadence)
            if kpis.week_value(session, kpi=kpi, week=period, tz=tz) is not None:
                continue
            items.append(
                OverdueItem(
                    source=KPI_SOURCE,
                    item_id=info.key,
                    title=f"KPI owed this {info.period_word}: {info.name} — press "
                    f"{LOG_VALUE_LABEL} or type `/kpi log {info.key} <value>`",
                    owner_id=info.owner_id,
                    due_at=due_at.astimezone(now.tzinfo),
                    can_mark_done=False,
                    form_label=LOG_VALUE_LABEL,
                )
            )
    return items


def refuse_done(
    sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
) -> NoReturn:
    """A KPI value cannot be logged by a click: say what logs it."""
    raise UserError(
        f"Log the value with *Log value* or `/kpi log {item_id} <value>`; nothing was changed.",
        example=f"/kpi log {item_id} 42",
    )


# SOP reviews: overdue ones are nudged to the process owner, *Done* records the review.
SOP_REVIEW_SOURCE = "sop_review"


def list_overdue_reviews(
    sessions: SessionFactory, team_id: str, now: datetime
) -> list[OverdueItem]:
    """Owned processes whose SOP review date has passed."""
    items = []
    for target in reviews.overdue_reviews(sessions, team_id=team_id, now=now):
        due_at = reviews.due_at(target)
        assert target.owner_id is not None and due_at is not None
        items.append(
            OverdueItem(
                source=SOP_REVIEW_SOURCE,
                item_id=target.key,
                title=f"SOP review of {target.name} (last reviewed {target.last_reviewed})",
                owner_id=target.owner_id,
                due_at=due_at,
                link=target.sop_url,
            )
        )
    return items


def mark_reviewed_from_nudge(
    sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
) -> None:
    """*Done* on an overdue review: the SOP is marked reviewed today (owner or admin only)."""
    tz = directory.team_timezone(sessions, team_id=team_id, default="UTC")
    reviews.mark_reviewed(
        sessions,
        team_id=team_id,
        actor_id=user_id,
        process_key=item_id,
        note="",
        now=now,
        default_timezone=tz,
    )


SOURCES: tuple[NudgeSource, ...] = (
    NudgeSource(CHECKLIST_SOURCE, list_overdue_checklist_items, mark_checklist_item_done),
    NudgeSource(
        ESCALATION_SOURCE,
        list_overdue_escalation_clocks,
        acknowledge_from_nudge,
        refuse_breached_sev1_snooze,
    ),
    NudgeSource(KPI_SOURCE, list_owed_kpis, refuse_done),
    NudgeSource(SOP_REVIEW_SOURCE, list_overdue_reviews, mark_reviewed_from_nudge),
)
