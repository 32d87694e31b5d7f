"""The checklist capability's records as KPI values.

Onboarding runs are the runs of templates whose name contains "onboarding" (the example
playbook's `customer-onboarding`); their median time from start to completion is the
`median_time_to_onboard` KPI, in days.
"""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy.orm import Session

from storage import kpis as kpi_store

ONBOARDING_TEMPLATES = "onboarding"


def checklists_completed(
    session: Session, team_id: str, start: datetime, end: datetime
) -> float | None:
    """Checklist runs completed in the period (0 is a value, not "no data")."""
    return float(
        kpi_store.count_completed_checklists(session, team_id=team_id, start=start, end=end)
    )


def median_time_to_onboard(
    session: Session, team_id: str, start: datetime, end: datetime
) -> float | None:
    """Median days from start to completion of onboarding runs completed in the period."""
    seconds = kpi_store.list_completed_run_durations(
        session, team_id=team_id, start=start, end=end, template_like=ONBOARDING_TEMPLATES
    )
    return statistics.median(seconds) / 86400 if seconds else None
