"""Putting messages in the outbox, inside the caller's transaction, and managing them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.outbox.models import Delivery, OutboxEntry, Outgoing
from storage import outbox as rows
from storage.db import SessionFactory, transaction
from storage.models.outbox import OutboxMessage


def enqueue(session: Session, *, team_id: str, messages: Iterable[Outgoing], now: datetime) -> int:
    """Store `messages` with the change being committed in `session`; how many are new."""
    added = 0
    for message in messages:
        added += rows.enqueue(
            session,
            rows.NewOutboxRow(
                team_id=team_id,
                key=message.key,
                method=message.method,
                channel=message.channel,
                payload=json.dumps(message.payload(), ensure_ascii=False),
                user_id=message.user_id,
                parent_key=message.parent_key,
                ts=message.ts,
                subject=message.subject,
                notify_user=message.notify_user,
                fallback_dm=message.fallback_dm,
                replace=message.replace,
            ),
            now=now,
        )
    return added


def enqueue_messages(
    sessions: SessionFactory, *, team_id: str, messages: Iterable[Outgoing], now: datetime
) -> int:
    """`enqueue` in a transaction of its own (scheduled posts, which change nothing else)."""
    with transaction(sessions) as session:
        return enqueue(session, team_id=team_id, messages=messages, now=now)


def is_enqueued(sessions: SessionFactory, *, team_id: str, key: str) -> bool:
    with transaction(sessions) as session:
        return rows.exists(session, team_id=team_id, key=key)


def entry_of(row: OutboxMessage) -> OutboxEntry:
    try:
        text = str(json.loads(row.payload).get("text") or "")
    except (ValueError, AttributeError):
        text = ""
    return OutboxEntry(
        id=row.id,
        team_id=row.team_id,
        key=row.key,
        method=row.method,
        channel=row.channel,
        state=row.state,
        attempts=row.attempts,
        unsure=row.unsure,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        sent_at=row.sent_at,
        posted_ts=row.posted_ts,
        error=row.error,
        text=text,
    )


def get_entry(sessions: SessionFactory, *, team_id: str, key: str) -> OutboxEntry | None:
    with transaction(sessions) as session:
        row = rows.get_by_key(session, team_id=team_id, key=key)
        return entry_of(row) if row is not None else None


def list_entries(
    sessions: SessionFactory,
    *,
    team_id: str | None = None,
    states: Iterable[Delivery] = (),
    limit: int = 200,
) -> list[OutboxEntry]:
    """Rows newest first."""
    with transaction(sessions) as session:
        found = rows.list_messages(
            session, team_id=team_id, states=[str(s) for s in states], limit=limit
        )
        return [entry_of(row) for row in found]


def counts(sessions: SessionFactory) -> dict[str, int]:
    with transaction(sessions) as session:
        return rows.count_by_state(session)


def resend(sessions: SessionFactory, *, message_id: int) -> bool:
    with transaction(sessions) as session:
        return rows.resend(session, message_id=message_id)


def skip(sessions: SessionFactory, *, message_id: int) -> bool:
    with transaction(sessions) as session:
        return rows.skip(session, message_id=message_id)


def still_pending(
    sessions: SessionFactory,
    *,
    keys: Iterable[tuple[str, str]] = (),
    due_by: datetime | None = None,
) -> int:
    """Rows not yet delivered or given up (of these (team, key) pairs, if given; only those
    due by `due_by`, if given)."""
    with transaction(sessions) as session:
        return rows.pending_count(session, keys=list(keys), due_by=due_by)
