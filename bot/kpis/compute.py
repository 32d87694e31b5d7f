"""Computed KPIs: each kind is a function of the stored records over a period.

`COMPUTED_KPIS[kind](session, team_id, start, end)` returns the KPI's value for the period
[start, end) (aware UTC; callers take the bounds from `bot.services.periods`), or None when
there is no data. Each capability computes its own kinds from its tables
(`checklist_kpis`, `escalation_kpis`, `feedback_kpis`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.checklists import kpis as checklist_kpis
from bot.escalations import kpis as escalation_kpis
from bot.feedback import kpis as feedback_kpis

ComputeKpi = Callable[[Session, str, datetime, datetime], float | None]


COMPUTED_KPIS: dict[str, ComputeKpi] = {
    "nps_30d": feedback_kpis.nps_30d,
    "feedback_volume": feedback_kpis.feedback_volume,
    "median_time_to_ack": escalation_kpis.median_time_to_ack,
    "median_time_to_resolve": escalation_kpis.median_time_to_resolve,
    "sla_breaches": escalation_kpis.sla_breaches,
    "checklists_completed": checklist_kpis.checklists_completed,
    "median_time_to_onboard": checklist_kpis.median_time_to_onboard,
    "overdue_items": escalation_kpis.overdue_items,
}


def compute_kpi(
    session: Session, *, kind: str, team_id: str, start: datetime, end: datetime
) -> float | None:
    """The value of a computed kind for [start, end), or None (no data / unknown kind)."""
    function = COMPUTED_KPIS.get(kind)
    return None if function is None else function(session, team_id, start, end)
