"""Escalations: open, acknowledge, reassign, resolve, reopen; SLA breaches; the export.

Every change is one transaction: load the escalation (NotFound for another team's id),
check who may act, apply a conditional UPDATE on the current status, and append a timeline
event only when the update won. A change that lost (double-click, a stale message, two
people at once) returns the current state and why nothing happened, instead of raising,
so the caller can still refresh the message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.escalations.models import (
    CUSTOMER_LIMIT,
    LINK_LIMIT,
    TITLE_LIMIT,
    ChangeOutcome,
    EscalationDraft,
    EscalationView,
    Refusal,
    SlaBreach,
    TimelineEvent,
)
from bot.escalations.rows import breach_of, clocks_of, event_of, view_of
from bot.escalations.sla import SEVERITIES
from bot.escalations.slas import get_severity_slas
from bot.org.service import ESCALATION_PROCESS
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from bot.slack.mrkdwn import user_ref
from storage import escalations as store
from storage import feedback as feedback_store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.escalations import ACKNOWLEDGED, OPEN, RESOLVED, UNRESOLVED
from storage.models.escalations import Escalation
from storage.outbox import exists

ListScope = Literal["open", "mine", "all"]

# Outbox subjects, rendered by bot.escalations.messages when sent: the channel message,
# one change in its thread, and the DM telling an owner the escalation is theirs.
MESSAGE_SUBJECT = "escalation"
EVENT_SUBJECT = "escalation-event"
OWNER_SUBJECT = "escalation-owner"


def message_key(escalation_id: int) -> str:
    """The outbox key of an escalation's channel message."""
    return f"{MESSAGE_SUBJECT}:{escalation_id}"


def _owner_dm(row: Escalation, *, assigned_by: str | None, key: str) -> Outgoing:
    # Sent after the channel message, so it links to it.
    return outbox.rendered_post(
        key,
        row.owner_id,
        subject=f"{OWNER_SUBJECT}:{row.id}:{assigned_by or ''}",
        after=message_key(row.id),
    )


def open_escalation(
    sessions: SessionFactory,
    *,
    team_id: str,
    reporter_id: str,
    draft: EscalationDraft,
    now: datetime,
    post_in: Sequence[str] = (),
    messages: Callable[[EscalationView], Sequence[Outgoing]] = lambda _: (),
    submission_key: str | None = None,
) -> EscalationView:
    """Store a new escalation with due times from its severity's SLA, and in the outbox:
    its message (in the first of `post_in` that takes it, else the owner's DM), the owner's
    DM and `messages` of the stored escalation (the reporter's confirmation). A repeated
    `submission_key` (Slack's retry, a double click) returns the stored one and queues
    nothing again."""
    if draft.severity not in SEVERITIES:
        raise UserError(f"Unknown severity; choose one of {', '.join(SEVERITIES)}.")
    if not draft.title.strip():
        raise UserError("An escalation needs a title.")
    sla = get_severity_slas(sessions, team_id=team_id).for_severity(draft.severity)
    with transaction(sessions) as session:
        row, created = store.add_escalation(
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
            submission_key=submission_key,
        )
        if not created:
            return view_of(row, now)
        store.add_event(
            session,
            team_id=team_id,
            escalation_id=row.id,
            actor_id=reporter_id,
            kind="opened",
            at=now,
            detail={"severity": draft.severity, "owner": draft.owner_id},
        )
        channels = list(dict.fromkeys([*(c for c in post_in if c), draft.owner_id]))
        view = view_of(row, now)
        queued = [
            outbox.rendered_post(
                message_key(row.id),
                channels[0],
                subject=f"{MESSAGE_SUBJECT}:{row.id}",
                fallback_channels=channels[1:],
                notify_user=reporter_id,
            ),
            *messages(view),
        ]
        if channels != [draft.owner_id]:
            queued.append(_owner_dm(row, assigned_by=None, key=f"{message_key(row.id)}:owner"))
        enqueue(session, team_id=team_id, messages=queued, now=now)
        return view


def get_escalation(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, now: datetime
) -> EscalationView:
    """One escalation of the team (NotFoundError for unknown ids and other teams' ids)."""
    with transaction(sessions) as session:
        return view_of(_load(session, team_id, escalation_id), now)


def linked_feedback_ids(sessions: SessionFactory, *, team_id: str, escalation_id: int) -> list[int]:
    """Feedback items linked to the escalation (the link is stored on the feedback, which
    this domain does not import: a storage query reads it)."""
    with transaction(sessions) as session:
        return feedback_store.list_linked_feedback_ids(
            session, team_id=team_id, escalation_id=escalation_id
        )


def ensure_can_act(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, user_id: str, now: datetime
) -> EscalationView:
    """The escalation, if `user_id` may change it; PermissionDeniedError otherwise."""
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, user_id)
        return view_of(row, now)


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
            return ChangeOutcome(view_of(row, now), None, "same_owner")
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


REASON_LIMIT = 3000


def reopen_escalation(
    sessions: SessionFactory,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    reason: str,
    now: datetime,
) -> ChangeOutcome:
    """resolved → acknowledged again, with why; the original due times stay (the promise is
    unchanged). The resolution it replaces is kept in the timeline event, so the message
    can still show the previous root cause and corrective action."""
    reason = reason.strip()
    if not reason:
        raise UserError("Say why it is reopened: what came back, or what was missed.")
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, actor_id)
        detail = {
            "reason": reason[:REASON_LIMIT],
            "previous_root_cause": row.root_cause,
            "previous_corrective_action": row.corrective_action,
        }
        values = {
            "status": ACKNOWLEDGED,
            "resolved_at": None,
            "resolved_by": None,
            "root_cause": None,
            "corrective_action": None,
        }
        won = store.claim_transition(
            session,
            team_id=team_id,
            escalation_id=escalation_id,
            from_statuses=(RESOLVED,),
            values=values,
        )
        return _finish(session, row, won, actor_id, now, "reopened", detail)


def change_severity(
    sessions: SessionFactory,
    *,
    team_id: str,
    escalation_id: int,
    actor_id: str,
    severity: str,
    now: datetime,
) -> ChangeOutcome:
    """Give an unresolved escalation another severity: both due times are recomputed from
    when it was opened with the new severity's SLA (a clock already stopped keeps its stop)."""
    if severity not in SEVERITIES:
        raise UserError(f"Unknown severity; choose one of {', '.join(SEVERITIES)}.")
    sla = get_severity_slas(sessions, team_id=team_id).for_severity(severity)
    with transaction(sessions) as session:
        row = _load(session, team_id, escalation_id)
        _check_permission(session, row, actor_id)
        if row.status in UNRESOLVED and row.severity == severity:
            return ChangeOutcome(view_of(row, now), None, "same_severity")
        ack_due, resolve_due = row.created_at + sla.ack_within, row.created_at + sla.resolve_within
        detail = {
            "from": row.severity,
            "to": severity,
            "ack_due_at": ack_due.isoformat(),
            "resolve_due_at": resolve_due.isoformat(),
        }
        won = store.claim_transition(
            session,
            team_id=team_id,
            escalation_id=escalation_id,
            from_statuses=UNRESOLVED,
            values={"severity": severity, "ack_due_at": ack_due, "resolve_due_at": resolve_due},
        )
        return _finish(session, row, won, actor_id, now, "severity_changed", detail)


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
        return [view_of(row, now) for row in rows]


def get_event(sessions: SessionFactory, *, team_id: str, event_id: int) -> TimelineEvent | None:
    """One change of an escalation, if it exists."""
    with transaction(sessions) as session:
        event = store.get_event(session, team_id=team_id, event_id=event_id)
        return event_of(event) if event is not None else None


def list_timeline(
    sessions: SessionFactory, *, team_id: str, escalation_id: int
) -> list[TimelineEvent]:
    """Every change of an escalation, oldest first."""
    with transaction(sessions) as session:
        _load(session, team_id, escalation_id)
        events = store.list_events(session, team_id=team_id, escalation_id=escalation_id)
        return [event_of(e) for e in events]


def list_sla_breaches(
    sessions: SessionFactory, *, team_id: str, now: datetime, since: datetime | None = None
) -> list[SlaBreach]:
    """Every breached clock as of `now`: running past due, or stopped late.

    `since` keeps only clocks due at or after it (e.g. the week a digest covers).
    """
    with transaction(sessions) as session:
        if since is None:
            rows = store.list_escalations_past_due(session, team_id=team_id, now=now)
        else:  # an index range read: the cost follows the period, not the history
            rows = store.list_due_between(session, team_id=team_id, start=since, end=now)
        breaches = [
            breach_of(row, clock)
            for row in rows
            for clock in clocks_of(row, now)
            if clock.breached and (since is None or clock.due_at >= since)
        ]
    return sorted(breaches, key=lambda b: (b.due_at, b.escalation_id))


def list_overdue_escalations(
    sessions: SessionFactory, *, team_id: str, now: datetime, owner_id: str | None = None
) -> list[SlaBreach]:
    """Clocks still running past due (unacknowledged or unresolved), optionally one owner's."""
    with transaction(sessions) as session:
        rows = store.list_unresolved_past_due(session, team_id=team_id, now=now)
        breaches = [
            breach_of(row, clock)
            for row in rows
            for clock in clocks_of(row, now)
            if clock.breached and clock.stopped_at is None
        ]
    return [
        b
        for b in sorted(breaches, key=lambda b: (b.due_at, b.escalation_id))
        if owner_id is None or b.owner_id == owner_id
    ]


def export_escalations(
    sessions: SessionFactory, *, team_id: str | None, since: datetime | None, now: datetime
) -> list[EscalationView]:
    """Every escalation (of one team or all), oldest first, for `opsloop export`."""
    with transaction(sessions) as session:
        rows = store.list_escalations(session, team_id=team_id, since=since)
        return [view_of(row, now) for row in reversed(rows)]


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
    who = f"its owner {user_ref(row.owner_id)}"
    if process_owner:
        who += f", the escalation process owner {user_ref(process_owner)}"
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
        # Nothing changed, but the message the user clicked may be stale: refresh it.
        _refresh_message(session, row, now)
        return ChangeOutcome(view_of(row, now), None, _refusal(row, kind))
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
    _refresh_message(session, row, now)
    parent = message_key(row.id)
    queued = []
    if row.channel_id or store_has_message(session, row):
        queued.append(
            outbox.rendered_post(
                f"{parent}:event:{event.id}",
                row.channel_id or "",
                subject=f"{EVENT_SUBJECT}:{event.id}",
                thread_of=parent,
                thread_ts=row.message_ts,
            )
        )
    if kind == "reassigned":
        queued.append(_owner_dm(row, assigned_by=actor_id, key=f"{parent}:owner:{event.id}"))
    enqueue(session, team_id=row.team_id, messages=queued, now=now)
    return ChangeOutcome(view_of(row, now), event_of(event))


def refresh_message(
    sessions: SessionFactory, *, team_id: str, escalation_id: int, now: datetime
) -> None:
    """Queue a re-rendering of the escalation's message (a click on a stale one)."""
    with transaction(sessions) as session:
        _refresh_message(session, _load(session, team_id, escalation_id), now)


def store_has_message(session: Session, row: Escalation) -> bool:
    """Whether the escalation has a channel message, delivered or still in the outbox."""
    return bool(row.message_ts) or exists(session, team_id=row.team_id, key=message_key(row.id))


def _refresh_message(session: Session, row: Escalation, now: datetime) -> None:
    """Queue the re-rendering of the escalation's message, if it has one."""
    if not store_has_message(session, row):
        return  # stored before the outbox, and never posted: nothing to bring up to date
    refresh = outbox.refresh(
        f"{message_key(row.id)}:update",
        subject=f"{MESSAGE_SUBJECT}:{row.id}",
        of=message_key(row.id),
        channel=row.channel_id or "",
        ts=row.message_ts,
    )
    enqueue(session, team_id=row.team_id, messages=[refresh], now=now)


def _refusal(row: Escalation, kind: str) -> Refusal:
    if kind == "reopened":
        return "not_resolved"
    if kind == "severity_changed" and row.status != RESOLVED:
        return "same_severity"
    if row.status == RESOLVED:
        return "already_resolved"
    return "already_acknowledged"
