"""Query functions for the send ledger, nudge snoozes and the teams the scheduler serves."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from storage.models.sends import SEND_CLAIMED, SEND_FAILED, SEND_SENT, NudgeSnooze, Send
from storage.upsert import insert_if_absent


def get_send(session: Session, *, team_id: str, kind: str, period: str, target: str) -> Send | None:
    """The ledger row of one scheduled post, if any."""
    return session.scalar(
        select(Send).where(
            Send.team_id == team_id,
            Send.kind == kind,
            Send.period == period,
            Send.target == target,
        )
    )


def claim_send(
    session: Session,
    *,
    team_id: str,
    kind: str,
    period: str,
    target: str,
    now: datetime,
    stale_after: timedelta,
    max_attempts: int,
) -> Send | None:
    """Claim the right to post once; None when it was sent, or is held by a live claim.

    A new key is inserted as claimed (ON CONFLICT DO NOTHING decides between racing
    schedulers). An existing row is taken over only by one conditional UPDATE, and only when
    it failed or its claim is older than `stale_after` (its claimer crashed before posting).
    """
    values = {
        "team_id": team_id,
        "kind": kind,
        "period": period,
        "target": target,
        "state": SEND_CLAIMED,
        "attempts": 1,
        "claimed_at": now,
    }
    if insert_if_absent(session, Send.__table__, values):  # type: ignore[arg-type]
        return get_send(session, team_id=team_id, kind=kind, period=period, target=target)
    retryable = or_(
        Send.state == SEND_FAILED,
        and_(Send.state == SEND_CLAIMED, Send.claimed_at < now - stale_after),
    )
    result = session.execute(
        update(Send)
        .where(
            Send.team_id == team_id,
            Send.kind == kind,
            Send.period == period,
            Send.target == target,
            Send.attempts < max_attempts,
            retryable,
        )
        .values(state=SEND_CLAIMED, claimed_at=now, attempts=Send.attempts + 1, error=None)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    send = get_send(session, team_id=team_id, kind=kind, period=period, target=target)
    if send is not None:
        session.refresh(send)
    return send


def mark_send(
    session: Session,
    *,
    send_id: int,
    attempt: int,
    state: str,
    now: datetime,
    channel: str | None = None,
    ts: str | None = None,
    error: str | None = None,
) -> bool:
    """Record the outcome of a claimed attempt; False when another claim took it over since.

    A sent row is never downgraded: once Slack confirmed a post it must not be repeated.
    """
    values: dict[str, object] = {"state": state, "error": error}
    if state == SEND_SENT:
        values.update(sent_at=now, channel=channel, ts=ts)
    result = session.execute(
        update(Send)
        .where(Send.id == send_id, Send.attempts == attempt, Send.state != SEND_SENT)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def list_sends(session: Session, *, team_id: str, kind: str | None = None) -> list[Send]:
    """Ledger rows of a team, oldest first."""
    statement = select(Send).where(Send.team_id == team_id)
    if kind is not None:
        statement = statement.where(Send.kind == kind)
    return list(session.scalars(statement.order_by(Send.id)))


def snooze_item(
    session: Session, *, team_id: str, item_key: str, owner_id: str, until: datetime
) -> None:
    """Create or move the snooze of one item for one owner."""
    values = {"team_id": team_id, "item_key": item_key, "owner_id": owner_id, "until": until}
    if not insert_if_absent(session, NudgeSnooze.__table__, values):  # type: ignore[arg-type]
        session.execute(
            update(NudgeSnooze)
            .where(
                NudgeSnooze.team_id == team_id,
                NudgeSnooze.item_key == item_key,
                NudgeSnooze.owner_id == owner_id,
            )
            .values(until=until)
            .execution_options(synchronize_session=False)
        )


def list_snoozed_keys(session: Session, *, team_id: str, now: datetime) -> set[tuple[str, str]]:
    """(item_key, owner_id) pairs whose snooze has not run out at `now`."""
    rows = session.execute(
        select(NudgeSnooze.item_key, NudgeSnooze.owner_id).where(
            NudgeSnooze.team_id == team_id, NudgeSnooze.until > now
        )
    )
    return {(key, owner) for key, owner in rows}


def delete_expired_snoozes(session: Session, *, before: datetime) -> int:
    """Forget snoozes that ran out before `before`; returns how many."""
    result = session.execute(delete(NudgeSnooze).where(NudgeSnooze.until < before))
    return int(getattr(result, "rowcount", 0) or 0)
