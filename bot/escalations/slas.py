"""The team's severity SLAs: the built-in table with the playbook's overrides, read and written."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.escalations.sla import SEVERITIES, SeveritySla, SlaTable
from storage import escalations as store
from storage.db import SessionFactory, transaction
from storage.models.escalations import SeveritySlaOverride


def get_severity_slas(sessions: SessionFactory, *, team_id: str) -> SlaTable:
    """The team's SLA table: its stored overrides on top of the defaults."""
    with transaction(sessions) as session:
        return _sla_table(store.list_sla_overrides(session, team_id=team_id))


def set_severity_slas(
    sessions: SessionFactory, *, team_id: str, slas: SlaTable | Mapping[str, SeveritySla]
) -> SlaTable:
    """Store a team's SLAs (a full table, or some severities); returns the table now in force.

    Only future escalations use the new times: due times are fixed when one is opened.
    """
    given = slas.model_dump() if isinstance(slas, SlaTable) else dict(slas)
    unknown = set(given) - set(SEVERITIES)
    if unknown:
        raise ValueError(f"unknown severities: {', '.join(sorted(unknown))}")
    with transaction(sessions) as session:
        for severity, value in given.items():
            sla = SeveritySla.model_validate(value)
            store.set_sla_override(
                session,
                team_id=team_id,
                severity=severity,
                ack_seconds=int(sla.ack_within.total_seconds()),
                resolve_seconds=int(sla.resolve_within.total_seconds()),
            )
        return _sla_table(store.list_sla_overrides(session, team_id=team_id))


def _sla_table(overrides: list[SeveritySlaOverride]) -> SlaTable:
    values = {
        row.severity: SeveritySla(
            ack_within=timedelta(seconds=row.ack_seconds),
            resolve_within=timedelta(seconds=row.resolve_seconds),
        )
        for row in overrides
        if row.severity in SEVERITIES
    }
    return SlaTable(**values)
