"""Feedback triage use cases: status (new → triaged → closed) with a note, an assignee, a
link to an escalation, and a soft delete. Each is one transaction, audited, and checks who
asks on every call: the ids behind a button come back from Slack and are looked up again.

Who may triage: the reporter, the assignee, the feedback process owner and Opsloop admins.
Who may delete: the reporter within `DELETE_WINDOW` of logging it, admins at any time.
The escalation link is stored on the feedback row only (feedback and escalations do not
import each other); the escalation's message finds its linked feedback with a storage query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.feedback.models import (
    DELETE_WINDOW,
    KEEP,
    MAX_NOTE_LENGTH,
    STATUSES,
    DeletedFeedback,
    FeedbackRecord,
    TriagedFeedback,
    TriageUpdate,
    detractor_alert_keys,
)
from bot.feedback.service import get_live_feedback, no_messages
from bot.feedback.service import record_of as _record
from bot.ids import is_user_id
from bot.org.service import FEEDBACK_PROCESS
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from bot.text import storable
from storage import escalations as escalation_store
from storage import feedback as store
from storage import org
from storage import outbox as outbox_store
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.feedback import Feedback

TriagedMessages = Callable[[TriagedFeedback], Sequence[Outgoing]]
DeletedMessages = Callable[[DeletedFeedback], Sequence[Outgoing]]


def get_for_triage(
    sessions: SessionFactory, *, team_id: str, feedback_id: int, user_id: str
) -> FeedbackRecord:
    """The record `user_id` wants to triage (to fill the triage form)."""
    with transaction(sessions) as session:
        return _record(_triageable(session, team_id, feedback_id, user_id))


def triage_feedback(
    sessions: SessionFactory,
    *,
    team_id: str,
    feedback_id: int,
    user_id: str,
    update: TriageUpdate,
    now: datetime,
    messages: TriagedMessages = no_messages,
) -> TriagedFeedback:
    """Apply one triage action. A status change (or a note) is a step in the record's
    history; the assignee and the escalation link are fields. Nothing changed: nothing
    stored, nothing said."""
    note = storable(update.note).strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise UserError(f"Keep the note under {MAX_NOTE_LENGTH:,} characters.")
    if update.status is not None and update.status not in STATUSES:
        raise UserError(f"A feedback status is one of: {', '.join(STATUSES)}.")
    if update.assignee_id not in (KEEP, None) and not is_user_id(update.assignee_id):
        raise UserError("Choose a person to assign it to.")
    with transaction(sessions) as session:
        row = _triageable(session, team_id, feedback_id, user_id)
        changed: list[str] = []
        detail: dict[str, object] = {}
        status = update.status or row.status
        if status != row.status or note:
            detail["status"] = {"from": row.status, "to": status}
            if note:
                detail["note"] = note
            changed.append("status" if status != row.status else "note")
            store.add_status_change(
                session, feedback=row, status=status, actor_id=user_id, at=now, note=note
            )
        newly_assigned: str | None = None
        previous_escalation = row.escalation_id
        if update.assignee_id is not KEEP and update.assignee_id != row.assignee_id:
            detail["assignee"] = {"from": row.assignee_id, "to": update.assignee_id}
            row.assignee_id = update.assignee_id
            newly_assigned = update.assignee_id
            changed.append("assignee")
        if update.escalation_id is not KEEP and update.escalation_id != row.escalation_id:
            if update.escalation_id is not None:
                _check_escalation(session, team_id, update.escalation_id)
            detail["escalation"] = {"from": row.escalation_id, "to": update.escalation_id}
            row.escalation_id = update.escalation_id
            changed.append("escalation")
        if not changed:
            return TriagedFeedback(_record(row), user_id, ())
        row.updated_at = now
        session.flush()
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=user_id,
            action="feedback.triaged",
            subject=str(feedback_id),
            at=now,
            detail=detail,
        )
        result = TriagedFeedback(
            _record(row),
            user_id,
            tuple(changed),
            newly_assigned,
            previous_escalation if "escalation" in changed else None,
            _posted_alerts(session, row),
        )
        enqueue(session, team_id=team_id, messages=messages(result), now=now)
        return result


def check_can_delete(
    sessions: SessionFactory, *, team_id: str, feedback_id: int, user_id: str, now: datetime
) -> FeedbackRecord:
    """The record, if `user_id` may delete it now (to open the confirmation)."""
    with transaction(sessions) as session:
        return _record(_deletable(session, team_id, feedback_id, user_id, now))


def delete_feedback(
    sessions: SessionFactory,
    *,
    team_id: str,
    feedback_id: int,
    user_id: str,
    reason: str,
    now: datetime,
    messages: DeletedMessages = no_messages,
) -> DeletedFeedback:
    """Soft delete: the row stays (exported with `--include-deleted`) but is left out of
    NPS, KPIs, the digest, `/feedback recent` and exports. Audited with the reason."""
    with transaction(sessions) as session:
        row = _deletable(session, team_id, feedback_id, user_id, now)
        row.deleted_at = now
        row.deleted_by = user_id
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=user_id,
            action="feedback.deleted",
            subject=str(feedback_id),
            at=now,
            detail={"reason": storable(reason).strip()[:MAX_NOTE_LENGTH]},
        )
        session.flush()
        deleted = DeletedFeedback(_record(row), user_id, _posted_alerts(session, row))
        enqueue(session, team_id=team_id, messages=messages(deleted), now=now)
        return deleted


def linked_feedback_ids(sessions: SessionFactory, *, team_id: str, escalation_id: int) -> list[int]:
    """Feedback items linked to an escalation (for the escalation's message)."""
    with transaction(sessions) as session:
        return store.list_linked_feedback_ids(session, team_id=team_id, escalation_id=escalation_id)


def _posted_alerts(session: Session, row: Feedback) -> tuple[str, ...]:
    """The detractor alerts of this record that are in the outbox (sent or on their way)."""
    return tuple(
        key
        for key in detractor_alert_keys(row.id)
        if outbox_store.exists(session, team_id=row.team_id, key=key)
    )


def _check_escalation(session: Session, team_id: str, escalation_id: int) -> None:
    if escalation_store.get_escalation(session, team_id=team_id, escalation_id=escalation_id):
        return
    raise NotFoundError(
        f"There is no escalation #{escalation_id}; the link was not changed.",
        example="/escalate list",
    )


def _may_triage(session: Session, row: Feedback, user_id: str) -> bool:
    if user_id in (row.reporter_id, row.assignee_id):
        return True
    if org.is_admin(session, team_id=row.team_id, user_id=user_id):
        return True
    process = org.get_process(session, team_id=row.team_id, key=FEEDBACK_PROCESS)
    return process is not None and process.owner_id == user_id


def _triageable(session: Session, team_id: str, feedback_id: int, user_id: str) -> Feedback:
    row = get_live_feedback(session, team_id=team_id, feedback_id=feedback_id)
    if not _may_triage(session, row, user_id):
        raise PermissionDeniedError(
            f"Only the person who logged feedback #{feedback_id}, its assignee, the feedback "
            "process owner or an Opsloop admin can triage it."
        )
    return row


def _deletable(
    session: Session, team_id: str, feedback_id: int, user_id: str, now: datetime
) -> Feedback:
    row = get_live_feedback(session, team_id=team_id, feedback_id=feedback_id)
    if org.is_admin(session, team_id=team_id, user_id=user_id):
        return row
    if row.reporter_id == user_id:
        if now - row.created_at <= DELETE_WINDOW:
            return row
        minutes = int(DELETE_WINDOW.total_seconds() // 60)
        raise PermissionDeniedError(
            f"Feedback #{feedback_id} was logged more than {minutes} minutes ago: only an "
            "Opsloop admin can delete it now. You can still close it."
        )
    raise PermissionDeniedError(
        f"Only the person who logged feedback #{feedback_id} (within 15 minutes) or an "
        "Opsloop admin can delete it."
    )
