"""The digest's escalation section: opened, resolved, still open, SLA breaches, time to ack.

Everything is counted as of the end of the digest's week, so a digest posted late (or
previewed later) still reports that week: escalations opened / resolved in the week, those
open at its end by severity, SLA clocks due in the week and missed, and the median minutes
to acknowledge the escalations opened in the week.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.services import escalation_kpis
from bot.services.digest import DigestSection, register_digest_section
from bot.services.escalation_views import clocks_of
from bot.services.sla import SEVERITIES
from storage import escalations as store
from storage.db import SessionFactory, transaction

ESCALATION_SECTION = "escalations"
EMPTY_TEXT = "No escalations this week"
# The missed clocks named in the section (the count covers them all).
LISTED_BREACHES = 5


def escalation_section(
    sessions: SessionFactory, team_id: str, week_start: datetime, week_end: datetime, now: datetime
) -> DigestSection:
    """Escalation activity in [week_start, week_end) and what was still open at its end."""
    with transaction(sessions) as session:
        opened = store.list_opened_between(session, team_id=team_id, start=week_start, end=week_end)
        resolved = store.list_resolved_between(
            session, team_id=team_id, start=week_start, end=week_end
        )
        still_open = store.list_open_at(session, team_id=team_id, at=week_end)
        missed = [
            {"id": row.id, "title": row.title, "severity": row.severity, "kind": clock.kind}
            for row in store.list_due_between(
                session, team_id=team_id, start=week_start, end=week_end
            )
            for clock in clocks_of(row, week_end)
            if clock.breached and week_start <= clock.due_at < week_end
        ]
        median_ack = escalation_kpis.median_time_to_ack(session, team_id, week_start, week_end)
    if not opened and not resolved and not still_open and not missed:
        return DigestSection(ESCALATION_SECTION, "Escalations", empty_text=EMPTY_TEXT)
    counts = Counter(row.severity for row in still_open)
    order = [s for s in SEVERITIES if s in counts] + sorted(set(counts) - set(SEVERITIES))
    missed.sort(key=lambda b: (str(b["severity"]), int(b["id"]), str(b["kind"])))
    facts = {
        "opened": len(opened),
        "resolved": len(resolved),
        "open_by_severity": {severity: counts[severity] for severity in order},
        "sla_breaches": len(missed),
        "median_ack_minutes": median_ack,
        "breaches": missed[:LISTED_BREACHES],
    }
    return DigestSection(ESCALATION_SECTION, "Escalations", facts)


register_digest_section(ESCALATION_SECTION, escalation_section)
