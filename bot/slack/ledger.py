"""Exactly-once scheduled posts: claim in the send ledger, post, record what Slack said.

The ledger key is (team, kind, period, target), e.g. ("T1", "digest", "2026-W47", "C9").
Guarantees, in order of importance:
- a post Slack confirmed (state `sent`) is never repeated;
- racing schedulers (rolling deploys, a lost lease) post at most once: the claim is a
  unique insert or one conditional UPDATE;
- a claim whose process crashed before posting is taken over after `STALE_CLAIM`;
- a failed post (Slack said no, the network broke) stays retryable, up to `MAX_ATTEMPTS`.
Rate limits (429) are waited out inside the Slack client (RateLimitErrorRetryHandler), so
they never reach the ledger as failures unless the storm outlasts every retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage import sends as ledger_rows
from storage.db import SessionFactory, transaction
from storage.models.sends import SEND_FAILED, SEND_SENT

log = logging.getLogger(__name__)

# Longer than the slowest post (several 429 waits), short enough to retry within the hour.
STALE_CLAIM = timedelta(minutes=15)
# A post that keeps failing (channel archived, bot removed) stops being retried eventually.
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class SendKey:
    """What makes a scheduled post unique."""

    team_id: str
    kind: str
    period: str
    target: str


@dataclass(frozen=True)
class Claim:
    """The right to make one attempt at a post."""

    send_id: int
    attempt: int
    key: SendKey


@dataclass(frozen=True)
class Posted:
    """Where Slack put a message."""

    channel: str
    ts: str


class Outcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # already sent, or another live claim holds it
    FAILED = "failed"


@dataclass(frozen=True)
class SendState:
    """A ledger row as plain data."""

    key: SendKey
    state: str
    attempts: int
    channel: str | None
    ts: str | None
    error: str | None


def claim_send(
    sessions: SessionFactory,
    *,
    key: SendKey,
    now: datetime,
    stale_after: timedelta = STALE_CLAIM,
    max_attempts: int = MAX_ATTEMPTS,
) -> Claim | None:
    """Claim one attempt at the post `key`; None when it is sent or held by someone else."""
    with transaction(sessions) as session:
        send = ledger_rows.claim_send(
            session,
            team_id=key.team_id,
            kind=key.kind,
            period=key.period,
            target=key.target,
            now=now,
            stale_after=stale_after,
            max_attempts=max_attempts,
        )
        return Claim(send.id, send.attempts, key) if send is not None else None


def mark_sent(sessions: SessionFactory, *, claim: Claim, posted: Posted, now: datetime) -> None:
    """Record that Slack confirmed the post."""
    with transaction(sessions) as session:
        ledger_rows.mark_send(
            session,
            send_id=claim.send_id,
            attempt=claim.attempt,
            state=SEND_SENT,
            now=now,
            channel=posted.channel,
            ts=posted.ts,
        )


def mark_failed(sessions: SessionFactory, *, claim: Claim, error: str, now: datetime) -> None:
    """Record a failed attempt; the post stays retryable."""
    with transaction(sessions) as session:
        ledger_rows.mark_send(
            session,
            send_id=claim.send_id,
            attempt=claim.attempt,
            state=SEND_FAILED,
            now=now,
            error=error[:2000],
        )


def deliver_once(
    sessions: SessionFactory, *, key: SendKey, now: datetime, post: Callable[[], Posted]
) -> Outcome:
    """Claim `key`, call `post`, record the result. `post` raising counts as a failed attempt."""
    claim = claim_send(sessions, key=key, now=now)
    if claim is None:
        return Outcome.SKIPPED
    try:
        posted = post()
    except Exception as exc:
        log.warning("scheduled %s %s for %s failed: %s", key.kind, key.period, key.target, exc)
        mark_failed(sessions, claim=claim, error=str(exc) or type(exc).__name__, now=now)
        return Outcome.FAILED
    mark_sent(sessions, claim=claim, posted=posted, now=now)
    return Outcome.SENT


def get_send_state(sessions: SessionFactory, *, key: SendKey) -> SendState | None:
    """The ledger row of `key`, if any."""
    with transaction(sessions) as session:
        row = ledger_rows.get_send(
            session, team_id=key.team_id, kind=key.kind, period=key.period, target=key.target
        )
        if row is None:
            return None
        return SendState(key, row.state, row.attempts, row.channel, row.ts, row.error)


def list_send_states(
    sessions: SessionFactory, *, team_id: str, kind: str | None = None
) -> list[SendState]:
    """Every ledger row of a team (optionally of one kind), oldest first."""
    with transaction(sessions) as session:
        return [
            SendState(
                SendKey(r.team_id, r.kind, r.period, r.target),
                r.state,
                r.attempts,
                r.channel,
                r.ts,
                r.error,
            )
            for r in ledger_rows.list_sends(session, team_id=team_id, kind=kind)
        ]
