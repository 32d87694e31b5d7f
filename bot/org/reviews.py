"""SOP reviews: *Mark reviewed* from Slack (process owner or admin, audited), the processes
whose review falls due soon (the reminder) and those overdue (the nudge).

A review is dated by the team's local day and stored as `last_reviewed_at` at midnight UTC
of that day, the same shape an imported `last_reviewed: 2026-10-01` has, so
`opsloop playbook export` writes today's date back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from bot import periods
from bot.errors import NotFoundError, PermissionDeniedError
from bot.org import service as directory
from bot.org.models import (
    DEFAULT_REVIEW_REMINDER_DAYS,
    REVIEW_NOTE_LIMIT,
    ReviewRecorded,
    ReviewTarget,
    review_due_date,
)
from bot.org.team_settings import REVIEW_REMINDER_DAYS
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from bot.slack.mrkdwn import user_ref
from bot.text import storable
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.org import Process

REVIEWED_ACTION = "process.reviewed"
# The shape of a process key (the playbook's, and the built-in ones): a value from a button
# that is not one (10 KB, NUL, markup) is refused before it reaches a query.
_PROCESS_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def _target(process: Process) -> ReviewTarget:
    last = process.last_reviewed_at.date() if process.last_reviewed_at else None
    return ReviewTarget(
        key=process.key,
        name=process.name,
        owner_id=process.owner_id,
        sop_url=process.sop_url,
        last_reviewed=last,
        due=review_due_date(last, process.review_every_days),
        review_every_days=process.review_every_days,
    )


def _process(session: Session, *, team_id: str, process_key: str) -> Process:
    found = None
    if _PROCESS_KEY.fullmatch(process_key):
        found = org.get_process(session, team_id=team_id, key=process_key)
    if found is None:
        raise NotFoundError("That process no longer exists; nothing was marked reviewed.")
    return found


def _check_may_review(session: Session, *, team_id: str, user_id: str, process: Process) -> None:
    if user_id and user_id == process.owner_id:
        return
    if org.is_admin(session, team_id=team_id, user_id=user_id):
        return
    owner = f"its owner {user_ref(process.owner_id)}" if process.owner_id else "its owner"
    raise PermissionDeniedError(
        f"Only {owner} or an Opsloop admin can mark the *{process.name}* SOP reviewed; "
        "nothing was changed."
    )


def ensure_can_review(
    sessions: SessionFactory, *, team_id: str, user_id: str, process_key: str
) -> ReviewTarget:
    """The process behind a *Mark reviewed* button, if `user_id` may review it (its owner or
    an admin); `NotFoundError` / `PermissionDeniedError` otherwise."""
    with transaction(sessions) as session:
        process = _process(session, team_id=team_id, process_key=process_key)
        _check_may_review(session, team_id=team_id, user_id=user_id, process=process)
        return _target(process)


def team_today(sessions: SessionFactory, *, team_id: str, now: datetime, default_tz: str) -> date:
    """The team's local date at `now` (a review is dated by the day the team lives in)."""
    tz = directory.team_timezone(sessions, team_id=team_id, default=default_tz)
    return now.astimezone(periods.zone(tz)).date()


def mark_reviewed(
    sessions: SessionFactory,
    *,
    team_id: str,
    actor_id: str,
    process_key: str,
    note: str,
    now: datetime,
    default_timezone: str,
    messages: Callable[[ReviewRecorded], Sequence[Outgoing]] = lambda _recorded: (),
) -> ReviewRecorded:
    """Record that `actor_id` reviewed the process's SOP today (with an optional note of what
    changed): permission re-checked, `last_reviewed` set, the review kept and audited, and
    what `messages` says about it queued in the same transaction."""
    kept = storable(note).strip()[:REVIEW_NOTE_LIMIT]
    today = team_today(sessions, team_id=team_id, now=now, default_tz=default_timezone)
    with transaction(sessions) as session:
        process = _process(session, team_id=team_id, process_key=process_key)
        _check_may_review(session, team_id=team_id, user_id=actor_id, process=process)
        previous = process.last_reviewed_at.date() if process.last_reviewed_at else None
        process.last_reviewed_at = datetime.combine(today, time(0), tzinfo=UTC)
        org.add_process_review(
            session,
            team_id=team_id,
            process_key=process.key,
            reviewed_by=actor_id,
            reviewed_at=now,
            note=kept,
        )
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=actor_id,
            action=REVIEWED_ACTION,
            subject=process.key,
            at=now,
            detail={
                "from": previous.isoformat() if previous else None,
                "to": today.isoformat(),
                "note": kept,
            },
        )
        recorded = ReviewRecorded(_target(process), actor_id, kept)
        enqueue(session, team_id=team_id, messages=messages(recorded), now=now)
        return recorded


def reminder_days(sessions: SessionFactory, *, team_id: str) -> int:
    """How many days before a review is due its owner is reminded (playbook setting)."""
    stored = directory.get_team_setting(sessions, team_id=team_id, key=REVIEW_REMINDER_DAYS)
    if stored is not None and stored.strip().isdigit():
        return int(stored)
    return DEFAULT_REVIEW_REMINDER_DAYS


def reviews_to_remind(sessions: SessionFactory, *, team_id: str, today: date) -> list[ReviewTarget]:
    """Owned processes whose review is due within the reminder days (or already due),
    soonest first: each owner's reminder of this review cycle. A process never reviewed
    has no review date to count down to: `/ops status` and the App Home flag it instead."""
    ahead = timedelta(days=reminder_days(sessions, team_id=team_id))
    with transaction(sessions) as session:
        targets = [_target(p) for p in org.list_processes(session, team_id=team_id) if p.owner_id]
    due = [t for t in targets if t.due is not None and t.due - ahead <= today]
    return sorted(due, key=lambda t: (t.due or date.min, t.key))


def overdue_reviews(sessions: SessionFactory, *, team_id: str, now: datetime) -> list[ReviewTarget]:
    """Owned processes whose SOP review date has passed (never-reviewed ones have no date:
    they are reminded once and shown in `/ops status`, not nudged daily as "due today")."""
    with transaction(sessions) as session:
        targets = [_target(p) for p in org.list_processes(session, team_id=team_id) if p.owner_id]
    return [t for t in targets if t.due is not None and _due_at(t.due) < now]


def _due_at(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def due_at(target: ReviewTarget) -> datetime | None:
    """When the review of `target` fell (or falls) due, as an aware UTC time."""
    return _due_at(target.due) if target.due else None
