"""Reaction capture use cases: notice a reaction, apply what Slack said the message was
(storing the feedback once per message), undo it, and look up an escalation offer.

A listener never calls Slack: noticing a reaction stores a capture and queues a message
lookup in the outbox, and the sender hands Slack's answer to `record_looked_up_message`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.errors import NotFoundError, PermissionDeniedError, UserError
from bot.ids import parse_record_id
from bot.org import team_settings
from bot.org.service import ESCALATION_PROCESS, FEEDBACK_PROCESS
from bot.outbox import models as outbox
from bot.outbox.models import LookedUpMessage, Outgoing
from bot.outbox.service import enqueue
from bot.reactions.models import (
    SUBJECT,
    UNDO_WINDOW,
    Capture,
    CapturedMessage,
    CaptureKind,
    CaptureSettings,
    CaptureState,
    Noticed,
    Reaction,
    ReactionOutcome,
)
from bot.reactions.parse import message_content
from storage import feedback as feedback_store
from storage import org
from storage import reactions as store
from storage.core import add_audit_entry
from storage.db import SessionFactory, transaction
from storage.models.reactions import ReactionCapture

SOURCE = "slack"

# What noticing a reaction or applying a lookup makes Opsloop say (rendered by the caller),
# queued in the same transaction.
NoticedMessages = Callable[[Reaction, ReactionOutcome], Sequence[Outgoing]]
CapturedMessages = Callable[[CapturedMessage], Sequence[Outgoing]]


def capture_settings(sessions: SessionFactory, *, team_id: str) -> CaptureSettings:
    """The team's capture emoji (the playbook's `capture:`), the defaults when never set."""
    with transaction(sessions) as session:
        return _settings(session, team_id)


def _settings(session: Session, team_id: str) -> CaptureSettings:
    def names(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        stored = org.get_team_setting(session, team_id=team_id, key=key)
        if stored is None:
            return default
        return tuple(name for name in stored.split(",") if name)

    return CaptureSettings(
        feedback=names(team_settings.CAPTURE_FEEDBACK, team_settings.DEFAULT_CAPTURE_FEEDBACK),
        escalate=names(team_settings.CAPTURE_ESCALATE, team_settings.DEFAULT_CAPTURE_ESCALATE),
    )


def notice_reaction(
    sessions: SessionFactory,
    *,
    reaction: Reaction,
    shared_channel: bool,
    now: datetime,
    messages: NoticedMessages,
) -> ReactionOutcome:
    """Store the capture a reaction asks for and queue the lookup of its message, once per
    message for feedback (a second reaction, or one after the first was stored, adds
    nothing) and once per person for an escalation offer."""
    with transaction(sessions) as session:
        kind = _settings(session, reaction.team_id).kind_of(reaction.emoji)
        if kind is None:
            return ReactionOutcome(Noticed.IGNORED)
        claim = str(kind) if kind == CaptureKind.FEEDBACK else f"{kind}:{reaction.user_id}"
        notify_id = _who_hears(session, reaction, kind)
        row, created = store.add_capture(
            session,
            team_id=reaction.team_id,
            channel_id=reaction.channel_id,
            message_ts=reaction.message_ts,
            claim=claim,
            kind=str(kind),
            state=str(CaptureState.FETCHING),
            reactor_id=reaction.user_id,
            reactor_team_id=reaction.user_team_id,
            notify_id=notify_id,
            emoji=reaction.emoji[:100],
            shared_channel=shared_channel,
            attempt=1,
            created_at=now,
        )
        if not created:
            again = row.state in (CaptureState.UNAVAILABLE, CaptureState.UNDONE) or (
                kind == CaptureKind.ESCALATE and row.state == CaptureState.CAPTURED
            )
            if not again:
                state = CaptureState(row.state)
                noticed = (
                    Noticed.ALREADY_CAPTURED
                    if state == CaptureState.CAPTURED
                    else Noticed.IN_PROGRESS
                )
                outcome = ReactionOutcome(noticed, _capture(row))
                enqueue(
                    session,
                    team_id=reaction.team_id,
                    messages=messages(reaction, outcome),
                    now=now,
                )
                return outcome
            # Asked again after "I could not read it", an undo, or a new offer: this
            # reaction is the capture now.
            row.attempt += 1
            row.state = str(CaptureState.FETCHING)
            row.reactor_id = reaction.user_id
            row.reactor_team_id = reaction.user_team_id
            row.notify_id = notify_id
            row.emoji = reaction.emoji[:100]
            row.shared_channel = shared_channel
            row.error = None
            row.feedback_id = None
            row.captured_at = None
            session.flush()
        lookup = outbox.message_lookup(
            f"{SUBJECT}:{row.id}:lookup:{row.attempt}",
            channel=row.channel_id,
            ts=row.message_ts,
            subject=f"{SUBJECT}:{row.id}",
        )
        enqueue(session, team_id=reaction.team_id, messages=[lookup], now=now)
        return ReactionOutcome(Noticed.LOOKING_UP, _capture(row))


def _who_hears(session: Session, reaction: Reaction, kind: CaptureKind) -> str | None:
    """Who is told about the capture: the reactor, when they are of our workspace. A
    partner's user in a Slack Connect channel is never shown Opsloop's messages (they are
    the customer): the process owner hears instead, by DM."""
    if not reaction.by_partner:
        return reaction.user_id
    key = FEEDBACK_PROCESS if kind == CaptureKind.FEEDBACK else ESCALATION_PROCESS
    process = org.get_process(session, team_id=reaction.team_id, key=key)
    return process.owner_id if process is not None else None


def record_looked_up_message(
    sessions: SessionFactory,
    *,
    team_id: str,
    answer: LookedUpMessage,
    now: datetime,
    messages: CapturedMessages,
) -> CapturedMessage | None:
    """Apply Slack's answer to the capture it was asked for: keep what the message is and,
    for feedback, store it (source `slack`, the author as reporter of record, channel and
    permalink) with its receipt; or keep why the message could not be read and say so.
    An answer for a capture no longer waiting for one (delivered twice) changes nothing."""
    kind_name, _, ident = answer.subject.partition(":")
    capture_id = parse_record_id(ident)
    if kind_name != SUBJECT or capture_id is None:
        return None
    with transaction(sessions) as session:
        row = store.get_capture(session, team_id=team_id, capture_id=capture_id)
        if row is None or row.state != CaptureState.FETCHING:
            return None
        if answer.message is None:
            row.state = str(CaptureState.UNAVAILABLE)
            row.error = (answer.error or "message_not_found")[:64]
            result = CapturedMessage(_capture(row), None)
            enqueue(session, team_id=team_id, messages=messages(result), now=now)
            return result
        content = message_content(answer.message, installed_team_id=team_id)
        row.text = content.text
        row.author_id = content.author_id
        row.thread_ts = content.thread_ts
        row.permalink = (answer.permalink or "")[:1000] or None
        row.state = str(CaptureState.CAPTURED)
        row.captured_at = now
        feedback_id: int | None = None
        created = False
        if row.kind == CaptureKind.FEEDBACK:
            feedback_id, created = feedback_store.add_feedback(
                session,
                team_id=team_id,
                submission_key=f"{SUBJECT}:{row.id}:{row.attempt}",
                tags=(),
                text=content.text,
                customer=None,
                customer_key=None,
                source=SOURCE,
                nps_score=None,
                # The reporter of record is who said it; a bot's message has no person
                # behind it, so whoever captured it reports it.
                reporter_id=content.author_id or row.reactor_id,
                author_id=content.author_id,
                channel_id=row.channel_id,
                message_ts=row.message_ts,
                permalink=row.permalink,
                captured_by_id=row.reactor_id,
                captured_by_team_id=row.reactor_team_id,
                created_at=now,
            )
            row.feedback_id = feedback_id
            if created:
                add_audit_entry(
                    session,
                    team_id=team_id,
                    actor_id=row.reactor_id,
                    action="feedback.captured",
                    subject=str(feedback_id),
                    at=now,
                    detail={"by": "reaction", "emoji": row.emoji, "team": row.reactor_team_id},
                )
        session.flush()
        result = CapturedMessage(_capture(row), content, feedback_id, created)
        enqueue(session, team_id=team_id, messages=messages(result), now=now)
        return result


def undo_capture(
    sessions: SessionFactory, *, team_id: str, capture_id: int, user_id: str, now: datetime
) -> Capture:
    """Remove the feedback a reaction stored, within UNDO_WINDOW; only who was given the
    receipt (the reactor) or an admin may. Audited."""
    with transaction(sessions) as session:
        row = _allowed(session, team_id, capture_id, user_id, CaptureKind.FEEDBACK)
        capture = _capture(row)
        if row.state == CaptureState.UNDONE:
            raise UserError("That capture was undone already: the feedback is gone.")
        if not capture.undo_open(now) or row.feedback_id is None:
            minutes = int(UNDO_WINDOW.total_seconds() // 60)
            raise UserError(
                f"*Undo* works for {minutes} minutes after a capture, so feedback "
                f"#{row.feedback_id} stays. Its reporter, the feedback owner or an admin "
                "can still edit it."
            )
        feedback = feedback_store.get_feedback(
            session, team_id=team_id, feedback_id=row.feedback_id
        )
        if feedback is not None:
            feedback_store.delete_feedback(session, feedback)
        add_audit_entry(
            session,
            team_id=team_id,
            actor_id=user_id,
            action="feedback.undone",
            subject=str(row.feedback_id),
            at=now,
            detail={"capture": row.id},
        )
        row.state = str(CaptureState.UNDONE)
        session.flush()
        return _capture(row)


def get_escalation_offer(
    sessions: SessionFactory, *, team_id: str, capture_id: int, user_id: str
) -> Capture:
    """The message an escalation offer is about, for the person it was offered to (or an
    admin)."""
    with transaction(sessions) as session:
        row = _allowed(session, team_id, capture_id, user_id, CaptureKind.ESCALATE)
        if row.state != CaptureState.CAPTURED:
            raise UserError("That message could not be read, so there is nothing to raise.")
        return _capture(row)


def _allowed(
    session: Session, team_id: str, capture_id: int, user_id: str, kind: CaptureKind
) -> ReactionCapture:
    """The capture behind a button, if it is of that kind and `user_id` may act on it: the
    reactor, the person it was offered to, or an admin. Ids in buttons can be forged."""
    row = store.get_capture(session, team_id=team_id, capture_id=capture_id)
    if row is None or row.kind != kind:
        raise NotFoundError("That button does not point at a message Opsloop captured.")
    if user_id and (
        user_id in (row.reactor_id, row.notify_id)
        or org.is_admin(session, team_id=team_id, user_id=user_id)
    ):
        return row
    raise PermissionDeniedError(
        "Only the person who reacted (or an Opsloop admin) can use this button."
    )


def _capture(row: ReactionCapture) -> Capture:
    return Capture(
        id=row.id,
        team_id=row.team_id,
        kind=CaptureKind(row.kind),
        state=CaptureState(row.state),
        channel_id=row.channel_id,
        message_ts=row.message_ts,
        reactor_id=row.reactor_id,
        reactor_team_id=row.reactor_team_id,
        notify_id=row.notify_id,
        emoji=row.emoji,
        shared_channel=row.shared_channel,
        attempt=row.attempt,
        text=row.text,
        author_id=row.author_id,
        thread_ts=row.thread_ts,
        permalink=row.permalink,
        error=row.error,
        feedback_id=row.feedback_id,
        created_at=row.created_at,
        captured_at=row.captured_at,
    )
