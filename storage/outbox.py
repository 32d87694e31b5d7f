"""Query functions for the outbox: enqueue in the caller's transaction, claim, mark, manage.

Claiming is safe between replicas: on PostgreSQL the due rows are locked with
`FOR UPDATE SKIP LOCKED` (a second sender skips them instead of waiting); on SQLite, where
a transaction holds the only write lock, one conditional UPDATE decides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnClause, and_, case, func, literal_column, or_, select, tuple_, update
from sqlalchemy.orm import Session

from storage.charts import set_file_id
from storage.models.checklists import ChecklistRun
from storage.models.escalations import Escalation
from storage.models.feedback import Feedback
from storage.models.outbox import (
    OUTBOX_FAILED,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OUTBOX_SENT,
    OUTBOX_SKIPPED,
    OutboxMessage,
)
from storage.upsert import insert_if_absent

# The subject kind of a chart upload ("chart:<hash>"), whose file id is kept on the chart.
CHART_SUBJECT = "chart"


@dataclass(frozen=True)
class NewOutboxRow:
    """What a change asks to send; see storage.models.outbox for each field."""

    team_id: str
    key: str
    method: str
    channel: str
    payload: str
    user_id: str | None = None
    parent_key: str | None = None
    ts: str | None = None
    subject: str | None = None
    notify_user: str | None = None
    fallback_dm: bool = False
    # A newer version replaces a pending (or already delivered) one: message updates.
    replace: bool = False


def enqueue(session: Session, row: NewOutboxRow, *, now: datetime) -> bool:
    """Add `row` in the caller's transaction; True when something new is to be sent.

    An existing key adds nothing (a repeated change, a second scheduler), unless the row
    asks to replace: then the stored payload becomes this one and is sent again.
    """
    values: dict[str, Any] = {
        "team_id": row.team_id,
        "key": row.key,
        "method": row.method,
        "channel": row.channel,
        "user_id": row.user_id,
        "parent_key": row.parent_key,
        "ts": row.ts,
        "payload": row.payload,
        "subject": row.subject,
        "notify_user": row.notify_user,
        "fallback_dm": row.fallback_dm,
        "state": OUTBOX_PENDING,
        "revision": 1,
        "attempts": 0,
        "unsure": False,
        "created_at": now,
    }
    if insert_if_absent(session, OutboxMessage.__table__, values):  # type: ignore[arg-type]
        return True
    if not row.replace:
        return False
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == row.team_id,
            OutboxMessage.key == row.key,
            # a person gave up on this message on purpose (`opsloop outbox skip`)
            OutboxMessage.state != OUTBOX_SKIPPED,
        )
        .values(
            payload=row.payload,
            ts=row.ts,
            channel=row.channel,
            parent_key=row.parent_key,
            revision=OutboxMessage.revision + 1,
            # A row being sent stays claimed; its sender sees the new revision and leaves
            # the row pending for the next pass instead of marking it sent.
            state=case(
                (OutboxMessage.state == OUTBOX_SENDING, OUTBOX_SENDING), else_=OUTBOX_PENDING
            ),
            attempts=0,
            error=None,
            next_attempt_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def replace_pending_payload(session: Session, *, team_id: str, key: str, payload: str) -> bool:
    """Rewrite a message that was not sent yet (so it goes out current); False otherwise."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.key == key,
            OutboxMessage.state == OUTBOX_PENDING,
            OutboxMessage.unsure.is_(False),
        )
        .values(payload=payload, revision=OutboxMessage.revision + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def exists(session: Session, *, team_id: str, key: str) -> bool:
    return (
        session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.team_id == team_id, OutboxMessage.key == key
            )
        )
        is not None
    )


def get(session: Session, *, message_id: int) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def get_by_key(session: Session, *, team_id: str, key: str) -> OutboxMessage | None:
    return session.scalar(
        select(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.key == key)
    )


def revive_stale_claims(session: Session, *, now: datetime, stale_after: timedelta) -> int:
    """Rows whose sender died mid-send go back to pending, marked unsure (never reposted
    blindly: the sender first looks for them in Slack)."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == OUTBOX_SENDING,
            OutboxMessage.claimed_at < now - stale_after,
        )
        .values(state=OUTBOX_PENDING, unsure=True, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def list_due(session: Session, *, now: datetime, limit: int) -> list[OutboxMessage]:
    """Pending rows whose time has come, oldest first (not locked: see `claim`)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == OUTBOX_PENDING,
                or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
    )


# Any constant both replicas agree on: with the outbox table's own id, the key of the
# PostgreSQL advisory lock one claim pass holds at a time. Advisory locks belong to the
# whole database; keyed by the table the pass claims from (as search_path resolves it),
# deployments or test runs with their own outbox in another schema of the same database
# never wait for each other, and replicas sharing one outbox always exclude each other.
_CLAIM_LOCK_KEY = 0x0B0C1A1
_OUTBOX_TABLE_ID: ColumnClause[int] = literal_column("'outbox'::regclass::oid::int")


def one_claim_pass_at_a_time(session: Session) -> None:
    """Until this transaction ends, no other sender (another replica) is in its claim
    pass: what one pass reads of the channels' posts in flight stays true until its own
    claims are committed. SQLite's write transactions are one at a time already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_CLAIM_LOCK_KEY, _OUTBOX_TABLE_ID)))


def channels_posting(
    session: Session,
    *,
    method: str,
    lanes: Collection[tuple[str, str]],
    since: datetime,
    claimed_since: datetime,
) -> dict[tuple[str, str], datetime | None]:
    """Of `lanes` (team, channel), those with a `method` call in flight, by any sender,
    claimed after `claimed_since` (None), or answered after `since` (the latest answer)."""
    if not lanes:
        return {}
    in_flight = and_(
        OutboxMessage.state == OUTBOX_SENDING, OutboxMessage.claimed_at > claimed_since
    )
    found = session.execute(
        select(
            OutboxMessage.team_id,
            OutboxMessage.channel,
            func.max(case((in_flight, 1), else_=0)),
            func.max(OutboxMessage.sent_at),
        )
        .where(
            OutboxMessage.team_id.in_({team for team, _ in lanes}),
            OutboxMessage.channel.in_({channel for _, channel in lanes}),
            OutboxMessage.method == method,
            or_(in_flight, OutboxMessage.sent_at > since),
        )
        .group_by(OutboxMessage.team_id, OutboxMessage.channel)
    )
    wanted = set(lanes)
    return {
        (team, channel): None if in_flight else answered
        for team, channel, in_flight, answered in found
        if (team, channel) in wanted
    }


def claim(
    session: Session, *, message_ids: Sequence[int], token: str, now: datetime
) -> list[OutboxMessage]:
    """Claim those of `message_ids` still pending; the claimed rows, in id order."""
    if not message_ids:
        return []
    ids = list(message_ids)
    if session.get_bind().dialect.name == "postgresql":
        ids = list(
            session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OUTBOX_PENDING)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.state == OUTBOX_PENDING)
        .values(
            state=OUTBOX_SENDING,
            claim_token=token,
            claimed_at=now,
            claimed_revision=OutboxMessage.revision,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claim_token == token)
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(rows)


def _claimed(message_id: int, token: str) -> Any:
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.claim_token == token,
        OutboxMessage.state == OUTBOX_SENDING,
    )


def renew_claim(session: Session, *, message_id: int, token: str, now: datetime) -> bool:
    """Renew a claim that is still held by `token`; False when it was lost."""
    result = session.execute(
        update(OutboxMessage)
        .where(_claimed(message_id, token))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def mark_sent(
    session: Session,
    *,
    message_id: int,
    token: str,
    now: datetime,
    channel: str | None,
    ts: str | None,
    permalink: str | None = None,
    file_id: str | None = None,
) -> bool:
    """Record a delivery; a row whose payload was replaced meanwhile stays pending (its newer
    version is still to be sent). The record the message belongs to gets its channel and ts
    in this same transaction. False when the claim was lost."""
    row = session.get(OutboxMessage, message_id, populate_existing=True)
    if row is None or row.claim_token != token or row.state != OUTBOX_SENDING:
        return False
    # The record first, then this row: a change to the record (a tick on a checklist)
    # locks the record and then replaces its message's outbox row, so taking them the other
    # way round here deadlocks on PostgreSQL when a tick meets a delivery.
    if row.subject and file_id:
        # An uploaded chart: its file id is kept with it, in this same transaction.
        kind, _, ident = row.subject.partition(":")
        if kind == CHART_SUBJECT:
            set_file_id(session, team_id=row.team_id, chart_hash=ident, file_id=file_id, now=now)
    elif row.subject:
        _record_on_subject(session, row.team_id, row.subject, channel, ts, permalink)
    # Read again, locked, now that the record is ours: a change that replaced this row's
    # payload while we waited for the record's lock (or before) committed a newer revision
    # the first read did not see; deciding on that read marked the newer version sent.
    # Locked, a change still to come waits for this commit and then sets the row pending.
    session.refresh(row, with_for_update=True)
    if row.claim_token != token or row.state != OUTBOX_SENDING:
        return False
    newer = row.claimed_revision is not None and row.revision != row.claimed_revision
    row.state = OUTBOX_PENDING if newer else OUTBOX_SENT
    row.claim_token = None
    row.unsure = False
    row.error = None
    if channel:
        row.posted_channel = channel
    if ts:
        row.posted_ts = ts
    row.sent_at = now
    return True


def _record_on_subject(
    session: Session,
    team_id: str,
    subject: str,
    channel: str | None,
    ts: str | None,
    permalink: str | None,
) -> None:
    kind, _, ident = subject.partition(":")
    if kind == "feedback" and ident.isdigit():
        if permalink:
            session.execute(
                update(Feedback)
                .where(Feedback.team_id == team_id, Feedback.id == int(ident))
                .values(permalink=permalink)
                .execution_options(synchronize_session=False)
            )
        return
    if not (channel and ts):
        return
    if kind == "escalation" and ident.isdigit():
        values: dict[str, Any] = {"channel_id": channel, "message_ts": ts}
        if permalink:
            values["permalink"] = permalink
        session.execute(
            update(Escalation)
            .where(Escalation.team_id == team_id, Escalation.id == int(ident))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    elif kind == "checklist":
        session.execute(
            update(ChecklistRun)
            .where(ChecklistRun.team_id == team_id, ChecklistRun.key == ident)
            .values(channel_id=channel, message_ts=ts)
            .execution_options(synchronize_session=False)
        )


def mark_retry(
    session: Session,
    *,
    message_id: int,
    token: str,
    at: datetime,
    error: str,
    unsure: bool = False,
    count_attempt: bool = True,
) -> bool:
    """Put a claimed row back to pending until `at` (a 429, a timeout, a 5xx)."""
    values: dict[str, Any] = {
        "state": OUTBOX_PENDING,
        "claim_token": None,
        "next_attempt_at": at,
        "error": error[:2000],
    }
    if unsure:
        values["unsure"] = True
    if not count_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    result = session.execute(
        update(OutboxMessage)
        .where(_claimed(message_id, token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def mark_failed(session: Session, *, message_id: int, token: str, error: str) -> bool:
    """The sender gave up: the row stays, `failed`, for a person to resend or skip. A row
    whose payload was replaced while it was being sent gets its newer version tried
    instead (False: nobody is told)."""
    # Locked: a replacement committing between this read and the write must not be lost.
    row = session.get(OutboxMessage, message_id, populate_existing=True, with_for_update=True)
    if row is None or row.claim_token != token or row.state != OUTBOX_SENDING:
        return False
    row.claim_token = None
    row.error = error[:2000]
    if row.claimed_revision is not None and row.revision != row.claimed_revision:
        row.state = OUTBOX_PENDING
        row.attempts = 0
        return False
    row.state = OUTBOX_FAILED
    return True


def list_messages(
    session: Session,
    *,
    team_id: str | None = None,
    states: Sequence[str] = (),
    limit: int = 200,
) -> list[OutboxMessage]:
    """Rows newest first, optionally of one team and some states."""
    statement = select(OutboxMessage)
    if team_id is not None:
        statement = statement.where(OutboxMessage.team_id == team_id)
    if states:
        statement = statement.where(OutboxMessage.state.in_(list(states)))
    return list(session.scalars(statement.order_by(OutboxMessage.id.desc()).limit(limit)))


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all()
    return {str(state): int(count) for state, count in rows}


def resend(session: Session, *, message_id: int) -> bool:
    """A failed or skipped row goes back to pending, attempts reset; False for other states."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.state.in_([OUTBOX_FAILED, OUTBOX_SKIPPED]),
        )
        # A person said "send it": a post whose fate could not be checked is posted.
        .values(state=OUTBOX_PENDING, attempts=0, next_attempt_at=None, error=None, unsure=False)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def skip(session: Session, *, message_id: int) -> bool:
    """A pending or failed row is given up on purpose; False for other states."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.state.in_([OUTBOX_PENDING, OUTBOX_FAILED]),
        )
        .values(state=OUTBOX_SKIPPED, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def pending_count(
    session: Session, *, keys: Sequence[tuple[str, str]] = (), due_by: datetime | None = None
) -> int:
    """How many rows are still pending or being sent (of these (team, key) pairs, if given;
    only those due by `due_by`, if given)."""
    statement = select(func.count()).where(
        OutboxMessage.state.in_([OUTBOX_PENDING, OUTBOX_SENDING])
    )
    if due_by is not None:
        statement = statement.where(
            or_(
                OutboxMessage.state == OUTBOX_SENDING,
                OutboxMessage.next_attempt_at.is_(None),
                OutboxMessage.next_attempt_at <= due_by,
            )
        )
    if keys:
        statement = statement.where(
            tuple_(OutboxMessage.team_id, OutboxMessage.key).in_(list(keys))
        )
    return int(session.scalar(statement) or 0)


def oldest_created_at(session: Session, *, states: Sequence[str]) -> datetime | None:
    """When the oldest row in one of `states` was queued (None when there is none)."""
    statement = select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.state.in_(list(states))
    )
    oldest = session.scalar(statement)
    return oldest if isinstance(oldest, datetime) or oldest is None else None
