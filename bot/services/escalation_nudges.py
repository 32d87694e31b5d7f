"""Escalation SLA clocks as a nudge source: each clock running past due, for its owner.

An unacknowledged escalation past its ack due time is nudged with *Done* = acknowledge
(the caller then refreshes the channel message). An unresolved one past its resolve due
time is nudged without *Done*: resolving needs a root cause and a corrective action, so the
item links to the escalation message, and a stale Done for it is refused with that link.
"""

from __future__ import annotations

from datetime import datetime

from bot.errors import NotFoundError, UserError
from bot.services import escalations
from bot.services.directory import ESCALATION_PROCESS
from bot.services.escalation_views import ChangeOutcome
from bot.services.nudges import OverdueItem, register_nudge_source
from storage.db import SessionFactory

ESCALATION_SOURCE = "escalation"
ACK, RESOLVE = "ack", "resolve"


def _item_id(escalation_id: int, kind: str) -> str:
    return f"{escalation_id}:{kind}"


def _parse(item_id: str) -> tuple[int, str]:
    number, _, kind = item_id.partition(":")
    if not number.isdigit() or kind not in (ACK, RESOLVE):
        raise NotFoundError("That escalation does not exist; nothing was changed.")
    return int(number), kind


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


register_nudge_source(ESCALATION_SOURCE, list_overdue_escalation_clocks, acknowledge_from_nudge)
