"""Escalations: open, acknowledge, reassign, resolve, reopen; SLA breaches; the export.

Every change is one transaction: load the escalation (NotFound for another team's id),
check who may act, apply a conditional UPDATE on the current status, and append a timeline
event only when the update won. A change that lost (double-click, a stale message, two
people at once) returns the current state and why nothing happened, instead of raising,
so the caller can still refresh the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.services.directory import ESCALATION_PROCESS
from bot.services.sla import SEVERITIES, SlaClock, evaluate_clock, get_severity_slas
from storage import escalations as store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.escalations import ACKNOWLEDGED, OPEN, RESOLVED, UNRESOLVED
from storage.models.escalations import Escalation, EscalationEvent

ListScope = Literal["open", "mine", "all"]
Refusal = Literal["already_acknowledged", "already_resolved", "not_resolved", "same_owner"]

TITLE_LIMIT = 150
CUSTOMER_LIMIT = 200
LINK_LIMIT = 1000


@dataclass(frozen=True)
class EscalationDraft:
    """What the reporter filled in (already validated by the caller)."""

    title: str
    severity: str
    owner_id: str
    customer: str = ""
    description: str = ""
    link: str | None = None


@dataclass(frozen=True)
class EscalationView:
    """An escalation as stored, with its two SLA clocks evaluated at `ack_clock.as_of`."""

    id: int
    team_id: str
    title: str
    customer: str
    severity: str
    description: str
    link: str | None
    owner_id: str
    reporter_id: str
    status: str
    version: int
    created_at: datetime
    ack_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    root_cause: str | None
    corrective_action: str | None
    channel_id: str | None
    message_ts: str | None
    permalink: str | None
    ack_clock: SlaClock
    resolve_clock: SlaClock

    @property
    def is_resolved(self) -> bool:
        return self.status == RESOLVED

    @property
    def breached(self) -> bool:
        return self.ack_clock.breached or self.resolve_clock.breached


@dataclass(frozen=True)
class TimelineEvent:
    """One change: who did what, when (detail: e.g. previous and new owner)."""

    escalation_id: int
    actor_id: str
    kind: str
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeOutcome:
    """The escalation after an attempted change; `event` None when nothing changed."""

    escalation: EscalationView
    event: TimelineEvent | None
    refusal: Refusal | None = None


@dataclass(frozen=True)
class SlaBreach:
    """An SLA clock past its due time, for the digest and the nudges."""

    escalation_id: int
    title: str
    owner_id: str
    severity: str
    kind: Literal["ack", "resolve"]
    due_at: datetime
    stopped_at: datetime | None


def open_escalation(
    sessions: SessionFactory,
    *,
    team_id: str,
    reporter_id: str,
    draft: EscalationDraft,
    now: datetime,
) -> EscalationView:
    """Store a new escalation with due times from its severity's SLA."""
    if draft.severity not in SEVERITIES:
        raise UserError(f"Unknown severity; choose one of {', '.join(SEVERITIES)}.")
    if not draft.title.strip():
        raise UserError("An escalation needs a title.")
    sla = get_severity_slas(sessions, team_id=team_id).for_severity(draft.severity)
    with transaction(sessions) as session:
        row = store.add_escalation(
            session,
            team_id=team_id,
            title=draft.title.strip()[:TITLE_LIMIT],
            customer=draft.customer.strip()[:CUSTOMER_LIMIT],
            severity=draft.severity,
            description=draft.description.strip(),
            link=(draft.link or "").strip()[:LINK_LIMIT] or None,
            owner_id=draft.owner_id,
            reporter_id=reporter_id,
            created_at=now,
            ack_due_at=now + sla.ack_within,
            resolve_due_at=now + sla.resolve_within,
        )
        store.add_event(
            session,
            team_id=team_id,
            escalation_id=row.id,
            actor_id=reporter_id,
            kind="opened",
            at=now,
            detail={"severity": draft.severity, "owner": draft.owner_id},
        )
        return _view(row, now)


def record_escalation_message(
    sessions: SessionFactory,
    *,
    team_id: str,
    escalation_id: int,
    channel_id: str,
    message_ts: str,
    permalink: str | None,
) -> None:
    """Remember the channel message that shows the escalation."""
    with transaction(sessions) as session:
        store.set_message(
            session,
            team_id=team_id,
            escalation_id=escalation_id,
            channel_id=channel_id,
            message_ts=message_ts,
            permalink=permalink,
        )


def get_escalation(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, now: datetime
) -> EscalationView:
    """One escalation of the team (NotFoundError for unknown ids and other teams' ids)."""
    with transaction(sessions) as session:
        return _view(_load(session, team_id, escalation_id), now)


def ensure_can_act(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, user_id: str, now: datetime
) -> EscalationView:
    """The escalation, if `user_id` may change it; PermissionDeniedError otherwise."""
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, user_id)
        return _view(row, now)


def acknowledge_escalation(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, actor_id: str, now: datetime
) -> ChangeOutcome:
    """open → acknowledged; a second click (or a stale message) changes nothing."""
    values = {"status": ACKNOWLEDGED, "acknowledged_at": now, "acknowledged_by": actor_id}
    return _transition(
        sessions, team_id, escalation_id, actor_id, now, (OPEN,), values, "acknowledged", {}
    )


def reassign_escalation(
    sessions: SessionFactory,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    new_owner_id: str,
    now: datetime,
) -> ChangeOutcome:
    """Give an unresolved escalation to another owner."""
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, actor_id)
        if row.status in UNRESOLVED and row.owner_id == new_owner_id:
            return ChangeOutcome(_view(row, now), None, "same_owner")
        previous = row.owner_id
        won = store.claim_transition(
            session,
            team_id=team_id,
            escalation_id=escalation_id,
            from_statuses=UNRESOLVED,
            values={"owner_id": new_owner_id},
        )
        return _finish(
            session, row, won, actor_id, now, "reassigned", {"from": previous, "to": new_owner_id}
        )


def resolve_escalation(
    sessions: SessionFactory,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    root_cause: str,
    corrective_action: str,
    now: datetime,
) -> ChangeOutcome:
    """open/acknowledged → resolved with root cause and corrective action (both required).

    Resolving an escalation nobody acknowledged also stops its acknowledgement clock.
    """
    root_cause, corrective_action = root_cause.strip(), corrective_action.strip()
    if not root_cause or not corrective_action:
        raise UserError("Resolving needs both a root cause and a corrective action.")
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, actor_id)
        values: dict[str, Any] = {
            "status": RESOLVED,
            "resolved_at": now,
            "resolved_by": actor_id,
            "root_cause": root_cause,
            "corrective_action": corrective_action,
        }
        won = store.claim_transition(
            session,
            team_id=team_id,
            escalation_id=escalation_id,
            from_statuses=UNRESOLVED,
            values=values,
            keep_existing={"acknowledged_at": now, "acknowledged_by": actor_id},
        )
        detail = {"root_cause": root_cause, "corrective_action": corrective_action}
        return _finish(session, row, won, actor_id, now, "resolved", detail)


def reopen_escalation(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, actor_id: str, now: datetime
) -> ChangeOutcome:
    """resolved → acknowledged again; the original due times stay (the promise is unchanged)."""
    values = {
        "status": ACKNOWLEDGED,
        "resolved_at": None,
        "resolved_by": None,
        "root_cause": None,
        "corrective_action": None,
    }
    return _transition(
        sessions, team_id, escalation_id, actor_id, now, (RESOLVED,), values, "reopened", {}
    )


def list_escalations(
    sessions: SessionFactory,
    *,
    team_id: str,
    scope: ListScope,
    user_id: str,
    now: datetime,
    limit: int = 20,
) -> list[EscalationView]:
    """`open`: every unresolved one; `mine`: unresolved ones `user_id` owns; `all`: every one."""
    with transaction(sessions) as session:
        rows = store.list_escalations(
            session,
            team_id=team_id,
            statuses=None if scope == "all" else UNRESOLVED,
            owner_id=user_id if scope == "mine" else None,
            limit=limit,
        )
        return [_view(row, now) for row in rows]


def list_timeline(
    sessions: SessionFactory, *, team_id: str, escalation_id: int
) -> list[TimelineEvent]:
    """Every change of an escalation, oldest first."""
    with transaction(sessions) as session:
        _load(session, team_id, escalation_id)
        events = store.list_events(session, team_id=team_id, escalation_id=escalation_id)
        return [_event(e) for e in events]


def list_sla_breaches(
    sessions: SessionFactory, *, team_id: str, now: datetime, since: datetime | None = None
) -> list[SlaBreach]:
    """Every breached clock as of `now`: running past due, or stopped late.

    `since` keeps only clocks due at or after it (e.g. the week a digest covers).
    """
    with transaction(sessions) as session:
        rows = store.list_escalations_past_due(session, team_id=team_id, now=now)
        breaches = [
            _breach(row, clock)
            for row in rows
            for clock in _clocks(row, now)
            if clock.breached and (since is None or clock.due_at >= since)
        ]
    return sorted(breaches, key=lambda b: (b.due_at, b.escalation_id))


def list_overdue_escalations(
    sessions: SessionFactory, *, team_id: str, now: datetime, owner_id: str | None = None
) -> list[SlaBreach]:
    """Clocks still running past due (unacknowledged or unresolved), optionally one owner's."""
    return [
        b
        for b in list_sla_breaches(sessions, team_id=team_id, now=now)
        if b.stopped_at is None and (owner_id is None or b.owner_id == owner_id)
    ]


def export_escalations(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None, now: datetime
) -> list[EscalationView]:
    """Every escalation (of one team or all), oldest first, for `opsloop export`."""
    with transaction(sessions) as session:
        rows = store.list_escalations(session, team_id=team_id, since=since)
        return [_view(row, now) for row in reversed(rows)]


# -- internals --------------------------------------------------------------------------------
def _load(session: Any, team_id: str, escalation_id: int) -> Escalation:
    row = store.get_escalation(session, team_id=team_id, escalation_id=escalation_id)
    if row is None:
        raise NotFoundError(
            f"I can't find escalation #{escalation_id} in this workspace; "
            "it may have been removed, or the button is not one of mine."
        )
    return row


def _check_permission(session: Any, row: Escalation, user_id: str) -> None:
    if user_id == row.owner_id:
        return
    process = org.get_process(session, team_id=row.team_id, key=ESCALATION_PROCESS)
    process_owner = process.owner_id if process else None
    if user_id == process_owner or org.is_admin(session, team_id=row.team_id, user_id=user_id):
        return
    who = f"its owner <@{row.owner_id}>"
    if process_owner:
        who += f", the escalation process owner <@{process_owner}>"
    raise PermissionDeniedError(
        f"Only {who} or an Opsloop admin can change escalation #{row.id}. "
        "Nothing was changed; ask one of them, or reply in the thread."
    )


def _transition(
    sessions: SessionFactory,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    now: datetime,
    from_statuses: tuple[str, ...],
    values: dict[str, Any],
    kind: str,
    detail: dict[str, Any],
) -> ChangeOutcome:
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, actor_id)
        won = store.claim_transition(
            session,
            team_id=team_id,
            escalation_id=escalation_id,
            from_statuses=from_statuses,
            values=values,
        )
        return _finish(session, row, won, actor_id, now, kind, detail)


def _finish(
    session: Any,
    row: Escalation,
    won: bool,
    actor_id: str,
    now: datetime,
    kind: str,
    detail: dict[str, Any],
) -> ChangeOutcome:
    # The conditional UPDATE bypassed the ORM: reload what the database now holds.
    session.refresh(row)
    if not won:
        return ChangeOutcome(_view(row, now), None, _refusal(row, kind))
    event = store.add_event(
        session,
        team_id=row.team_id,
        escalation_id=row.id,
        actor_id=actor_id,
        kind=kind,
        at=now,
        detail=detail,
    )
    add_audit_entry(
        session,
        team_id=row.team_id,
        actor_id=actor_id,
        action=f"escalation.{kind}",
        subject=f"escalation #{row.id}",
        at=now,
        detail=detail,
    )
    return ChangeOutcome(_view(row, now), _event(event))


def _refusal(row: Escalation, kind: str) -> Refusal:
    if kind == "reopened":
        return "not_resolved"
    if row.status == RESOLVED:
        return "already_resolved"
    return "already_acknowledged"


def _clocks(row: Escalation, now: datetime) -> tuple[SlaClock, SlaClock]:
    ack = evaluate_clock(
        "ack",
        started_at=row.created_at,
        due_at=row.ack_due_at,
        stopped_at=row.acknowledged_at,
        now=now,
    )
    resolve = evaluate_clock(
        "resolve",
        started_at=row.created_at,
        due_at=row.resolve_due_at,
        stopped_at=row.resolved_at,
        now=now,
    )
    return ack, resolve


def _breach(row: Escalation, clock: SlaClock) -> SlaBreach:
    return SlaBreach(
        escalation_id=row.id,
        title=row.title,
        owner_id=row.owner_id,
        severity=row.severity,
        kind=clock.kind,
        due_at=clock.due_at,
        stopped_at=clock.stopped_at,
    )


def _view(row: Escalation, now: datetime) -> EscalationView:
    ack, resolve = _clocks(row, now)
    return EscalationView(
        id=row.id,
        team_id=row.team_id,
        title=row.title,
        customer=row.customer,
        severity=row.severity,
        description=row.description,
        link=row.link,
        owner_id=row.owner_id,
        reporter_id=row.reporter_id,
        status=row.status,
        version=row.version,
        created_at=row.created_at,
        ack_due_at=row.ack_due_at,
        resolve_due_at=row.resolve_due_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        root_cause=row.root_cause,
        corrective_action=row.corrective_action,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        permalink=row.permalink,
        ack_clock=ack,
        resolve_clock=resolve,
    )


def _event(event: EscalationEvent) -> TimelineEvent:
    return TimelineEvent(event.escalation_id, event.actor_id, event.kind, event.at, event.detail)


def duration_seconds(delta: timedelta | None) -> int | None:
    """Whole seconds of a duration, for exports (None stays None)."""
    return None if delta is None else int(delta.total_seconds())
