"""The SLA job: every minute, refresh escalation messages whose clocks turned due soon or
breached, and bring in the people the escalation policy names (see bot.escalations.breaches;
the outbox keys make each alert once, whichever scheduler queues it first)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.deps import Deps
from bot.escalations.breaches import SlaAlert, queue_sla_updates, teams_with_open_escalations

log = logging.getLogger(__name__)


def run(deps: Deps, *, now: datetime, team_ids: list[str]) -> list[SlaAlert]:
    """Queue every SLA refresh and alert due at `now`; returns the alerts queued."""
    alerts: list[SlaAlert] = []
    # A team that never imported a playbook still has its escalations' promises kept.
    for team_id in sorted(set(team_ids) | set(teams_with_open_escalations(deps.sessions))):
        result = queue_sla_updates(
            deps.sessions,
            team_id=team_id,
            now=now,
            default_timezone=deps.settings.opsloop_timezone,
        )
        for alert in result.alerts:
            log.info(
                "escalation #%s %s breached: %s told (%s)",
                alert.escalation_id,
                alert.clock,
                alert.level,
                ", ".join(alert.recipients),
            )
        alerts.extend(result.alerts)
    return alerts
