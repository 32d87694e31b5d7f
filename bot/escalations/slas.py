"""The team's severity SLAs and escalation policy: built-in defaults with the playbook's
overrides, read and written."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from bot.escalations.sla import (
    DEFAULT_POLICY,
    SEVERITIES,
    EscalationPolicy,
    SeverityPolicy,
    SeveritySla,
    SlaTable,
)
from bot.org import service as directory
from bot.org.team_settings import ESCALATION_POLICY
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


def get_escalation_policy(sessions: SessionFactory, *, team_id: str) -> EscalationPolicy:
    """The team's escalation policy: its stored severities on top of the defaults."""
    stored = directory.get_team_setting(sessions, team_id=team_id, key=ESCALATION_POLICY)
    if not stored:
        return DEFAULT_POLICY
    try:
        return EscalationPolicy.model_validate_json(stored)
    except ValueError:
        return DEFAULT_POLICY  # written by an older or newer version: the defaults still hold


def set_escalation_policy(
    sessions: SessionFactory, *, team_id: str, policies: Mapping[str, SeverityPolicy]
) -> EscalationPolicy:
    """Store the policy of some severities (the others keep their defaults); returns it."""
    unknown = set(policies) - set(SEVERITIES)
    if unknown:
        raise ValueError(f"unknown severities: {', '.join(sorted(unknown))}")
    policy = EscalationPolicy(**dict(policies))
    directory.set_team_setting(
        sessions, team_id=team_id, key=ESCALATION_POLICY, value=policy.model_dump_json()
    )
    return policy
