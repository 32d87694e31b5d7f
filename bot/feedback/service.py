"""Feedback use cases: log, edit, look up, and who must hear about a detractor."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.errors import NotFoundError, PermissionDeniedError
from bot.feedback.models import (
    NEW,
    DetractorAlert,
    EditedFeedback,
    FeedbackRecord,
    LoggedFeedback,
    MessageOrigin,
    RecentFeedback,
    StatusStep,
)
from bot.feedback.nps import NpsReport, is_detractor, summarize_scores
from bot.feedback.parse import MAX_TAG_LENGTH, ParsedFeedback, parse_recent_query
from bot.org import team_settings
from bot.org.service import FEEDBACK_PROCESS
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from storage import feedback as store
from storage import org
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.feedback import Feedback

RECENT_LIMIT = 10
KNOWN_TAGS_LIMIT = 100  # a static/multi select holds at most 100 options

# What a stored (or edited) record makes Opsloop say in Slack: rendered by the caller,
# stored in the outbox in the same transaction as the record.
LoggedMessages = Callable[[LoggedFeedback], Sequence[Outgoing]]
EditedMessages = Callable[[EditedFeedback], Sequence[Outgoing]]


def no_messages(_: object) -> Sequence[Outgoing]:
    return ()


def new_submission_key(prefix: str) -> str:
    """A fresh key: every `/feedback` command (or opened modal) is its own submission."""
    return f"{prefix}:{uuid.uuid4().hex}"


def log_feedback(
    sessions: SessionFactory,
    *,
    team_id: str,
    reporter_id: str,
    parsed: ParsedFeedback,
    submission_key: str,
    now: datetime,
    origin: MessageOrigin | None = None,
    messages: LoggedMessages = no_messages,
) -> LoggedFeedback:
    """Store feedback once per submission key; a repeated key returns the stored record.

    The first time, `messages` of the result (receipt, detractor alert) go in the outbox
    in the same transaction; a repeated submission says nothing again."""
    columns = _columns(team_id, reporter_id, parsed, submission_key, now, origin)
    with transaction(sessions) as session:
        new_id = store.insert_feedback(session.connection(), **columns)
        if new_id is None:
            return LoggedFeedback(_stored(session, team_id, submission_key), created=False)
        record = _new_record(new_id, columns)
        logged = LoggedFeedback(record, True, _detractor_alert(session, record))
        enqueue(session, team_id=team_id, messages=messages(logged), now=now)
        return logged


def log_command_feedback(
    sessions: SessionFactory,
    *,
    team_id: str,
    reporter_id: str,
    parsed: ParsedFeedback,
    submission_key: str,
    now: datetime,
    alerts: Callable[[FeedbackRecord, DetractorAlert], Sequence[Outgoing]],
) -> LoggedFeedback:
    """`log_feedback` for a record whose receipt is the command's own answer, so the only
    messages it can cause are `alerts` to whoever hears about a detractor.

    Whether it is a detractor is known before anything is written. One that is not is
    stored by one statement on PostgreSQL, without a transaction around it
    (`storage.feedback.store_feedback`): this is the ack path of every `/feedback <text>`."""
    if is_detractor(parsed.nps):
        return log_feedback(
            sessions,
            team_id=team_id,
            reporter_id=reporter_id,
            parsed=parsed,
            submission_key=submission_key,
            now=now,
            messages=lambda logged: alerts(logged.feedback, logged.alert) if logged.alert else (),
        )
    columns = _columns(team_id, reporter_id, parsed, submission_key, now, None)
    new_id = store.store_feedback(sessions, **columns)
    if new_id is None:
        with transaction(sessions) as session:
            return LoggedFeedback(_stored(session, team_id, submission_key), created=False)
    return LoggedFeedback(_new_record(new_id, columns), created=True)


def _columns(
    team_id: str,
    reporter_id: str,
    parsed: ParsedFeedback,
    submission_key: str,
    now: datetime,
    origin: MessageOrigin | None,
) -> dict[str, Any]:
    """What a new record of `parsed` stores (its tags under `tags`)."""
    return {
        "team_id": team_id,
        "submission_key": submission_key,
        "tags": tuple(dict.fromkeys(parsed.tags)),
        "text": parsed.text,
        "customer": parsed.customer,
        "customer_key": _customer_key(parsed.customer),
        "source": parsed.source,
        "nps_score": parsed.nps,
        "reporter_id": reporter_id,
        "author_id": origin.author_id if origin else None,
        "channel_id": origin.channel_id if origin else None,
        "message_ts": origin.message_ts if origin else None,
        "created_at": now,
    }


def _stored(session: Session, team_id: str, submission_key: str) -> FeedbackRecord:
    row = store.get_feedback_by_key(session, team_id=team_id, submission_key=submission_key)
    assert row is not None  # the insert just met its submission key
    return _record(row)


def _new_record(new_id: int, columns: dict[str, Any]) -> FeedbackRecord:
    """The record `columns` just stored as `new_id`, as the database holds it (read back
    from nothing: a new record's other columns are empty and its status is new)."""
    return FeedbackRecord(
        id=new_id,
        team_id=columns["team_id"],
        text=columns["text"],
        customer=columns["customer"],
        source=columns["source"],
        tags=columns["tags"],
        nps_score=columns["nps_score"],
        status=NEW,
        reporter_id=columns["reporter_id"],
        author_id=columns["author_id"],
        channel_id=columns["channel_id"],
        message_ts=columns["message_ts"],
        permalink=None,
        # as a read-back gives it (UTCDateTime): the same instant in UTC
        created_at=columns["created_at"].astimezone(UTC),
        updated_at=None,
        submission_key=columns["submission_key"],
    )


def get_feedback_for_edit(
    sessions: SessionFactory, *, team_id: str, feedback_id: int, user_id: str
) -> FeedbackRecord:
    """The record `user_id` wants to edit; only its reporter, the owner or an admin may."""
    with transaction(sessions) as session:
        row = _editable(session, team_id=team_id, feedback_id=feedback_id, user_id=user_id)
        return _record(row)


def edit_feedback(
    sessions: SessionFactory,
    *,
    team_id: str,
    feedback_id: int,
    user_id: str,
    parsed: ParsedFeedback,
    now: datetime,
    messages: EditedMessages = no_messages,
) -> EditedFeedback:
    """Replace the fields of a stored record with the edited ones; audited. `messages` of
    the result go in the outbox with the change."""
    with transaction(sessions) as session:
        row = _editable(session, team_id=team_id, feedback_id=feedback_id, user_id=user_id)
        before = _record(row)
        row.text = parsed.text
        row.customer = parsed.customer
        row.customer_key = _customer_key(parsed.customer)
        row.nps_score = parsed.nps
        row.source = parsed.source
        row.updated_at = now
        store.set_feedback_tags(session, row, parsed.tags)
        after = _record(row)
        changed = sorted(
            name
            for name in ("text", "customer", "nps_score", "source", "tags")
            if getattr(before, name) != getattr(after, name)
        )
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=user_id,
            action="feedback.edited",
            subject=str(feedback_id),
            at=now,
            detail={"changed": changed},
        )
        became = is_detractor(after.nps_score) and not is_detractor(before.nps_score)
        edited = EditedFeedback(after, became, _detractor_alert(session, after) if became else None)
        enqueue(session, team_id=team_id, messages=messages(edited), now=now)
        return edited


def list_recent(sessions: SessionFactory, *, team_id: str, query: str) -> RecentFeedback:
    """Ten items a page, newest first: optionally only a `#tag`, a status or a customer
    (case-insensitive, partial); see `parse_recent_query`."""
    wanted = parse_recent_query(query)
    with transaction(sessions) as session:
        rows = store.list_recent_feedback(
            session,
            team_id=team_id,
            tag=wanted.tag,
            status=wanted.status,
            customer_contains=_customer_key(wanted.customer),
            limit=RECENT_LIMIT + 1,  # one more tells whether there is a next page
            offset=(wanted.page - 1) * RECENT_LIMIT,
        )
        return RecentFeedback(
            wanted.tag,
            wanted.customer,
            tuple(_record(r) for r in rows[:RECENT_LIMIT]),
            status=wanted.status,
            page=wanted.page,
            has_more=len(rows) > RECENT_LIMIT,
        )


def list_known_tags(
    sessions: SessionFactory, *, team_id: str, limit: int = KNOWN_TAGS_LIMIT
) -> list[str]:
    """The team's most used tags, for the modal's tag picker. A tag stored before tags were
    bounded (SQLite does not enforce the column's length) is left out: one such option made
    Slack refuse the whole form, for everyone in the team."""
    with transaction(sessions) as session:
        rows = store.list_top_tags(session, team_id=team_id, limit=limit)
    return [tag for tag, _ in rows if len(tag) <= MAX_TAG_LENGTH]


def _detractor_alert(session: Session, record: FeedbackRecord) -> DetractorAlert | None:
    """Who hears about a detractor score: the feedback channel and the process owner."""
    if not is_detractor(record.nps_score):
        return None
    channel_id = org.get_team_setting(
        session, team_id=record.team_id, key=team_settings.FEEDBACK_CHANNEL
    )
    process = org.get_process(session, team_id=record.team_id, key=FEEDBACK_PROCESS)
    owner_id = process.owner_id if process else None
    if channel_id is None and owner_id is None:
        return None
    return DetractorAlert(channel_id=channel_id, owner_id=owner_id)


def list_feedback_records(
    sessions: SessionFactory,
    *,
    team_id: str | None,
    since: datetime | None,
    include_deleted: bool = False,
) -> list[FeedbackRecord]:
    """Every record (of one team or all) created on or after `since`, oldest first;
    deleted ones only when asked."""
    with transaction(sessions) as session:
        rows = store.list_feedback(
            session, team_id=team_id, since=since, include_deleted=include_deleted
        )
        return [_record(r) for r in rows]


def _editable(session: Session, *, team_id: str, feedback_id: int, user_id: str) -> Feedback:
    row = get_live_feedback(session, team_id=team_id, feedback_id=feedback_id)
    # Who captured it by a reaction may edit it like its reporter (who is then the
    # message's author).
    if user_id in (row.reporter_id, row.captured_by_id) or org.is_admin(
        session, team_id=team_id, user_id=user_id
    ):
        return row
    process = org.get_process(session, team_id=team_id, key=FEEDBACK_PROCESS)
    if process is not None and process.owner_id == user_id:
        return row
    raise PermissionDeniedError(
        f"Only the person who logged feedback #{feedback_id}, the feedback process owner or "
        "an Opsloop admin can edit it."
    )


def get_live_feedback(session: Session, *, team_id: str, feedback_id: int) -> Feedback:
    """A team's feedback item that was not deleted; `NotFoundError` otherwise."""
    row = store.get_feedback(session, team_id=team_id, feedback_id=feedback_id)
    if row is None:
        raise NotFoundError(f"Feedback #{feedback_id} does not exist.")
    if row.deleted_at is not None:
        raise NotFoundError(f"Feedback #{feedback_id} was deleted; nothing was changed.")
    return row


def _customer_key(customer: str | None) -> str | None:
    # casefolding can lengthen text (ß → ss); the key only serves searching, so cut it
    return customer.casefold()[:255] if customer else None


def record_of(row: Feedback) -> FeedbackRecord:
    """The plain-data view of a stored feedback row (for the other feedback use cases)."""
    return _record(row)


def _record(row: Feedback) -> FeedbackRecord:
    """A stored item as the domain speaks of it (its tags and status steps loaded)."""
    history = tuple(
        StatusStep(status=c.status, actor_id=c.actor_id, at=c.at, note=c.note)
        for c in row.status_changes
    )
    return FeedbackRecord(
        id=row.id,
        team_id=row.team_id,
        text=row.text,
        customer=row.customer,
        source=row.source,
        tags=tuple(t.tag for t in row.tags),
        nps_score=row.nps_score,
        status=row.status,
        reporter_id=row.reporter_id,
        author_id=row.author_id,
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        permalink=row.permalink,
        created_at=row.created_at,
        updated_at=row.updated_at,
        submission_key=row.submission_key,
        captured_by_id=row.captured_by_id,
        captured_by_team_id=row.captured_by_team_id,
        assignee_id=row.assignee_id,
        escalation_id=row.escalation_id,
        deleted_at=row.deleted_at,
        deleted_by=row.deleted_by,
        history=history,
    )


def get_nps_report(
    sessions: SessionFactory, *, team_id: str, days: int, now: datetime
) -> NpsReport:
    """NPS of the last `days` days and of the `days` before them."""
    since = now - timedelta(days=days)
    before = since - timedelta(days=days)
    with transaction(sessions) as session:
        current = store.count_nps_scores(session, team_id=team_id, since=since, until=now)
        previous = store.count_nps_scores(session, team_id=team_id, since=before, until=since)
    return NpsReport(days, since, now, summarize_scores(current), summarize_scores(previous))
