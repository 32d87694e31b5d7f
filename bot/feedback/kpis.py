"""The feedback capability's records as KPI values: NPS over 30 days and feedback volume."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.feedback.nps import summarize_scores
from storage import feedback as feedback_store
from storage import kpis as kpi_store

NPS_WINDOW = timedelta(days=30)
# count_nps_scores counts (since, until]; the KPI period is [start, end).
_JUST_BEFORE = timedelta(microseconds=1)


def nps_30d(session: Session, team_id: str, start: datetime, end: datetime) -> float | None:
    """NPS (-100..100) of the responses in the 30 days ending at `end`; None without any."""
    counts = feedback_store.count_nps_scores(
        session, team_id=team_id, since=end - NPS_WINDOW - _JUST_BEFORE, until=end - _JUST_BEFORE
    )
    return summarize_scores(counts).score


def feedback_volume(session: Session, team_id: str, start: datetime, end: datetime) -> float | None:
    """Feedback items logged in the period (0 is a value, not "no data")."""
    return float(kpi_store.count_feedback(session, team_id=team_id, start=start, end=end))
