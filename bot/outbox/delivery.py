"""The sender's side of the outbox: claim what is due, record what Slack said, give up loudly.

No Slack library here: `bot.slack.sender` makes the calls and reports back through these.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.outbox.models import (
    LOOKUP_MESSAGE,
    LOOKUP_PERMALINK,
    POST,
    UPLOAD_CHART,
    Outgoing,
    post,
)
from bot.outbox.service import enqueue
from storage import org as org_rows
from storage import outbox as rows
from storage.db import SessionFactory, transaction
from storage.models.outbox import OUTBOX_FAILED, OUTBOX_SENT, OUTBOX_SKIPPED, OutboxMessage

log = logging.getLogger(__name__)

# A sender that claimed a row and then said nothing for this long died (kill -9, a lost
# machine): the row is sent again, after looking for it in Slack. Longer than one call
# with its timeout, short enough that a deploy does not delay a post noticeably.
STALE_CLAIM = timedelta(seconds=90)
# A parent message not yet delivered holds back its updates and thread replies this long.
PARENT_WAIT = timedelta(seconds=1)
# A post claimed longer ago than this is not in flight any more, whatever its row says: a
# sender's call is answered or times out well within it (OPSLOOP_SLACK_TIMEOUT), and a
# replica that died mid-send must not hold its channels until its claims go stale.
IN_FLIGHT_AT_MOST = timedelta(seconds=30)


@dataclass(frozen=True)
class Claimed:
    """One claimed row, with everything the sender needs to make its call."""

    id: int
    token: str
    team_id: str
    key: str
    method: str
    channel: str
    user_id: str | None
    ts: str | None  # the message to update, or the thread to reply in
    payload: dict[str, Any]
    subject: str | None
    fallback_dm: bool
    attempts: int
    unsure: bool
    created_at: datetime


# (team, method, channel) -> seconds until this may go out (0: now, and the pacing budget is
# spent on it).
Admit = Callable[[str, str, str], float]
# A row held back longer than this by pacing (a 429's pause) is rescheduled rather than
# looked at again every pass.
RESCHEDULE_AFTER_SECONDS = 2.0


def claim_due(
    sessions: SessionFactory,
    *,
    now: datetime,
    token: str,
    admit: Admit,
    max_claims: int,
    stale_after: timedelta = STALE_CLAIM,
    revive: bool = True,
    limit: int = 100,
    channel_interval: float = 0.0,
    on_held: Callable[[float], None] | None = None,
) -> list[Claimed]:
    """Claim up to `max_claims` due rows pacing admits, oldest first, keeping each channel's
    order. No more than the sender can start at once: a claimed row waiting in a queue
    could go stale and be sent by another replica meanwhile.

    A sender's pacer knows only its own posts. With `channel_interval`, a post also waits
    while another sender (another replica) has one in flight to that channel or had one
    answered less than `channel_interval` seconds ago: what the stored rows say, so
    replicas together keep to Slack's one post a second per channel. `on_held` hears, in
    seconds, when such a channel may have its next post (at the earliest, for one in
    flight), so the sender comes back for it then rather than at its idle poll."""
    with transaction(sessions) as session:
        if revive:
            rows.revive_stale_claims(session, now=now, stale_after=stale_after)
        if channel_interval > 0:
            rows.one_claim_pass_at_a_time(session)
        due = rows.list_due(session, now=now, limit=limit)
        posting = (
            rows.channels_posting(
                session,
                method=POST,
                lanes={(r.team_id, r.channel) for r in due if r.method == POST},
                since=now - timedelta(seconds=channel_interval),
                claimed_since=now - IN_FLIGHT_AT_MOST,
            )
            if channel_interval > 0
            else {}
        )
        held: set[str] = set()  # channels with an earlier row not going out this pass
        picked: dict[int, str | None] = {}
        for row in due:
            if len(picked) >= max_claims:
                break
            lane = f"{row.team_id}/{row.channel}"
            if lane in held:
                # Out of the next passes' window for a moment, so one busy channel cannot
                # fill it and hold every other channel back.
                row.next_attempt_at = now + PARENT_WAIT
                continue
            if row.method == POST and (row.team_id, row.channel) in posting:
                held.add(lane)  # its turn comes a moment after the last post's answer
                if on_held is not None:
                    answered = posting[(row.team_id, row.channel)]
                    free_in = channel_interval
                    if answered is not None:
                        free_in -= (now - answered).total_seconds()
                    on_held(max(free_in, 0.0))
                continue
            ready, ts = _parent_ready(session, row, now)
            if not ready or not _after_ready(session, row, now):
                held.add(lane)
                continue
            wait = admit(row.team_id, row.method, row.channel)
            if wait > 0.0:
                held.add(lane)
                if wait > RESCHEDULE_AFTER_SECONDS:
                    row.next_attempt_at = now + timedelta(seconds=wait)
                continue
            picked[row.id] = ts
        claimed = rows.claim(session, message_ids=list(picked), token=token, now=now)
        return [_claimed(row, token, picked[row.id]) for row in claimed]


def _parent_ready(session: Any, row: OutboxMessage, now: datetime) -> tuple[bool, str | None]:
    """Whether a row that needs its parent's ts can go (and that ts); a parent that will
    never be posted fails the row."""
    if not row.parent_key:
        return True, row.ts
    parent = rows.get_by_key(session, team_id=row.team_id, key=row.parent_key)
    if row.ts:
        if not row.channel and parent is not None and parent.posted_channel:
            row.channel = parent.posted_channel
        return True, row.ts
    if parent is not None and parent.state == OUTBOX_SENT and parent.posted_ts:
        if parent.posted_channel and row.channel != parent.posted_channel:
            # A DM's channel is only known once posted (U… becomes D…).
            row.channel = parent.posted_channel
        return True, parent.posted_ts
    if parent is None or parent.state in (OUTBOX_FAILED, OUTBOX_SKIPPED):
        row.state = OUTBOX_FAILED
        row.error = "the message it belongs to was never posted"
        return False, None
    row.next_attempt_at = now + PARENT_WAIT
    return False, None


def _after_ready(session: Any, row: OutboxMessage, now: datetime) -> bool:
    """Whether the messages this one waits for (`after` in its payload: a key, or a list
    of keys such as a digest's chart uploads) are done with."""
    try:
        after = (json.loads(row.payload) or {}).get("after")
    except (ValueError, AttributeError):
        return True
    keys = [str(k) for k in after] if isinstance(after, list) else [str(after)] if after else []
    for key in keys:
        first = rows.get_by_key(session, team_id=row.team_id, key=key)
        if first is not None and first.state not in (OUTBOX_SENT, OUTBOX_FAILED, OUTBOX_SKIPPED):
            row.next_attempt_at = now + PARENT_WAIT
            return False
    return True


def note_fallback(
    sessions: SessionFactory,
    claimed: Claimed,
    *,
    refused: list[tuple[str, str]],
    posted_in: str,
    now: datetime,
) -> None:
    """A post went to a fallback channel: tell who acted (else the admins) why, once."""
    with transaction(sessions) as session:
        row = rows.get(session, message_id=claimed.id)
        if row is None:
            return
        people = [row.notify_user] if row.notify_user else []
        people = people or org_rows.list_admins(session, team_id=row.team_id)
        where = _where(posted_in)
        lines = [
            f":warning: I could not post in {_where(channel)} (Slack said "
            f"`{_said(error)}`), so it is in {where} instead."
            for channel, error in refused
        ]
        lines.append("Invite me with `/invite @Opsloop` where it should go.")
        text = "\n".join(lines)
        enqueue(
            session,
            team_id=row.team_id,
            messages=[post(f"fallback:{row.id}:{person}", person, text) for person in people],
            now=now,
        )


def _where(channel: str) -> str:
    return f"<#{channel}>" if channel.startswith(("C", "G")) else "a DM"


def _said(error: str) -> str:
    return re.sub(r"[^A-Za-z0-9_ .:-]", "", error)[:80] or "no answer"


def _claimed(row: OutboxMessage, token: str, ts: str | None) -> Claimed:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {}
    return Claimed(
        id=row.id,
        token=token,
        team_id=row.team_id,
        key=row.key,
        method=row.method,
        channel=row.channel,
        user_id=row.user_id,
        ts=ts,
        payload=payload if isinstance(payload, dict) else {},
        subject=row.subject,
        fallback_dm=row.fallback_dm,
        attempts=row.attempts,
        unsure=row.unsure,
        created_at=row.created_at,
    )


def still_ours(sessions: SessionFactory, claimed: Claimed, *, now: datetime) -> bool:
    """Right before the Slack call: the claim is still this sender's (and is renewed), so a
    row another replica revived meanwhile is never sent by both."""
    with transaction(sessions) as session:
        return rows.renew_claim(session, message_id=claimed.id, token=claimed.token, now=now)


def mark_sent(
    sessions: SessionFactory,
    claimed: Claimed,
    *,
    now: datetime,
    channel: str | None,
    ts: str | None,
    permalink: str | None = None,
    file_id: str | None = None,
) -> bool:
    with transaction(sessions) as session:
        return rows.mark_sent(
            session,
            message_id=claimed.id,
            token=claimed.token,
            now=now,
            channel=channel,
            ts=ts,
            permalink=permalink,
            file_id=file_id,
        )


def retry_later(
    sessions: SessionFactory,
    claimed: Claimed,
    *,
    at: datetime,
    error: str,
    unsure: bool = False,
    count_attempt: bool = True,
) -> None:
    with transaction(sessions) as session:
        rows.mark_retry(
            session,
            message_id=claimed.id,
            token=claimed.token,
            at=at,
            error=error,
            unsure=unsure,
            count_attempt=count_attempt,
        )


def give_up(sessions: SessionFactory, claimed: Claimed, *, error: str, now: datetime) -> None:
    """Keep the row as failed and tell a person: who acted, else the team's admins."""
    with transaction(sessions) as session:
        row = rows.get(session, message_id=claimed.id)
        if row is None or not rows.mark_failed(
            session, message_id=claimed.id, token=claimed.token, error=error
        ):
            return
        log.warning("gave up on outbox %s (%s %s): %s", row.id, row.method, row.key, error)
        if row.key.startswith(GIVE_UP_PREFIX) or row.method == LOOKUP_PERMALINK:
            # A notice that could not be delivered is not noticed again; a permalink is
            # best effort (the record is stored without it).
            return
        people = [row.notify_user] if row.notify_user else []
        people = people or org_rows.list_admins(session, team_id=row.team_id)
        enqueue(
            session,
            team_id=row.team_id,
            messages=[_give_up_notice(row, person, error, now) for person in people],
            now=now,
        )


GIVE_UP_PREFIX = "gave-up:"


def _give_up_notice(row: OutboxMessage, person: str, error: str, now: datetime) -> Outgoing:
    what = {
        POST: "a message",
        "chat.update": "an update of a message",
        "chat.postEphemeral": "a private note",
        "views.publish": "an App Home",
        LOOKUP_MESSAGE: "a look-up of a message someone reacted to",
        UPLOAD_CHART: "a KPI chart",
    }.get(row.method, "a message")
    where = _where(row.channel)
    said = _said(error)
    if row.method == UPLOAD_CHART:
        text = (
            f":warning: Opsloop could not upload a KPI chart to Slack (Slack said `{said}`), "
            "so the messages showing it went out without it, saying the chart is missing. "
            f"It is kept as outbox item {row.id} (`opsloop outbox --failed` lists any "
            f"others): `opsloop outbox resend {row.id}` uploads it again for the next "
            "messages once the cause is fixed (`missing_scope`: reinstall the app to grant "
            "`files:write`)."
        )
        # A digest uploads one chart per KPI: one notice a day, not one per chart.
        return post(f"{GIVE_UP_PREFIX}charts:{now:%Y-%m-%d}:{person}", person, text)
    fix = ""
    if said in ("not_in_channel", "channel_not_found") and where != "a DM":
        fix = f" Invite Opsloop with `/invite @Opsloop` in {where} (a private one needs it)."
    text = (
        f":warning: Opsloop could not deliver {what} to {where} (Slack said `{said}`).{fix} "
        f"It is kept as outbox item {row.id}: an admin can send it again with "
        f"`opsloop outbox resend {row.id}` once the cause is fixed."
    )
    return post(f"{GIVE_UP_PREFIX}{row.id}:{person}", person, text)
