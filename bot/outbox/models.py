"""What a change asks to send to Slack, as plain data (no Slack library, no storage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

POST = "chat.postMessage"
UPDATE = "chat.update"
EPHEMERAL = "chat.postEphemeral"
PUBLISH_HOME = "views.publish"
LOOKUP_PERMALINK = "chat.getPermalink"
LOOKUP_PERSON = "users.info"
# A message read back (conversations.history, else .replies for a thread reply) with its
# permalink; what Slack said goes to the sender's message recorder.
LOOKUP_MESSAGE = "conversations.history"
# files_upload_v2: files.getUploadURLExternal, the bytes, files.completeUploadExternal.
UPLOAD_CHART = "files.uploadV2"
METHODS = (
    POST,
    UPDATE,
    EPHEMERAL,
    PUBLISH_HOME,
    LOOKUP_PERMALINK,
    LOOKUP_PERSON,
    LOOKUP_MESSAGE,
    UPLOAD_CHART,
)

# An image block whose block_id starts with this shows the chart named after it
# ("opsloop-chart:<hash>"): the sender fills in `slack_file.id` from the chart's upload when
# it sends the message, or, when the upload was given up, puts a line saying the chart is
# missing in its place.
CHART_BLOCK_PREFIX = "opsloop-chart:"
CHART_MISSING = ":warning: _The chart could not be uploaded to Slack; the numbers are above._"

# The message metadata event type every post carries, with its outbox key: how a send whose
# outcome is unknown is found in the channel's history instead of being posted twice.
METADATA_EVENT_TYPE = "opsloop_outbox"


class Queued(StrEnum):
    """What asking for a scheduled post did."""

    QUEUED = "queued"  # new in the outbox; the sender delivers it
    ALREADY = "already queued"  # asked for before (by this or another scheduler)


class Delivery(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outgoing:
    """One Slack call a change causes, unique per team and `key`.

    `parent_key` names the message this one updates or answers in its thread: its channel
    and ts come from that message's delivery. `subject` ("escalation:12") is the record
    whose channel and ts are set when this message is delivered. `replace` makes a newer
    version of the same key (a message update) replace the older one.
    """

    key: str
    method: str
    channel: str
    text: str = ""
    blocks: tuple[Mapping[str, Any], ...] = ()
    view: Mapping[str, Any] | None = None
    user_id: str | None = None
    parent_key: str | None = None
    ts: str | None = None
    subject: str | None = None
    notify_user: str | None = None
    fallback_dm: bool = False
    replace: bool = False
    # Rendered by the sender from the database when it is sent (see `rendered_post`).
    render: bool = False
    # Where a post goes when `channel` refuses it for good (the bot is not in it, …).
    fallback_channels: tuple[str, ...] = ()
    # The key of a message that must be delivered (or given up) before this one is sent,
    # e.g. the owner's DM waits for the channel message so it can link to it; or several
    # keys (a digest waits for its chart uploads).
    after: str | tuple[str, ...] | None = None

    def payload(self) -> dict[str, Any]:
        """What is stored and later sent, as JSON-ready data."""
        data: dict[str, Any] = {"text": self.text}
        if self.render:
            data["render"] = True
        if self.fallback_channels:
            data["fallback_channels"] = list(self.fallback_channels)
        if self.after:
            data["after"] = self.after if isinstance(self.after, str) else list(self.after)
        if self.blocks:
            data["blocks"] = [dict(b) for b in self.blocks]
        if self.view is not None:
            data["view"] = dict(self.view)
        return data


def post(
    key: str,
    channel: str,
    text: str,
    blocks: Sequence[Mapping[str, Any]] = (),
    *,
    thread_of: str | None = None,
    thread_ts: str | None = None,
    subject: str | None = None,
    notify_user: str | None = None,
    after: str | tuple[str, ...] | None = None,
) -> Outgoing:
    """A channel message or, with a user id as `channel`, a DM; a thread reply with
    `thread_ts`, or `thread_of` (the key of a message whose ts is not known yet)."""
    return Outgoing(
        key=key,
        method=POST,
        channel=channel,
        text=text,
        blocks=tuple(blocks),
        parent_key=None if thread_ts else thread_of,
        ts=thread_ts,
        subject=subject,
        notify_user=notify_user,
        after=after,
    )


def rendered_post(
    key: str,
    channel: str,
    *,
    subject: str,
    fallback_channels: Sequence[str] = (),
    thread_of: str | None = None,
    thread_ts: str | None = None,
    notify_user: str | None = None,
    after: str | tuple[str, ...] | None = None,
) -> Outgoing:
    """A message that shows a record (an escalation, a checklist): rendered from the
    database by the sender when it goes out, so it is never older than the record."""
    return Outgoing(
        key=key,
        method=POST,
        channel=channel,
        parent_key=None if thread_ts else thread_of,
        ts=thread_ts,
        subject=subject,
        notify_user=notify_user,
        render=True,
        fallback_channels=tuple(c for c in fallback_channels if c and c != channel),
        after=after,
    )


def refresh(key: str, *, subject: str, of: str, channel: str, ts: str | None) -> Outgoing:
    """Bring the message showing `subject` up to date (rendered when sent). Keyed once per
    message, so many quick changes make one `chat.update` of the latest state."""
    return Outgoing(
        key=key,
        method=UPDATE,
        channel=channel,
        parent_key=None if ts else of,
        ts=ts,
        subject=subject,
        render=True,
        replace=True,
    )


def update(
    key: str,
    *,
    of: str | None,
    channel: str,
    ts: str | None,
    text: str,
    blocks: Sequence[Mapping[str, Any]] = (),
) -> Outgoing:
    """The newest version of a message: by its ts when known, else the one keyed `of`.

    Keyed once per message, so ten quick changes send at most the latest version (and never
    an older one after a newer)."""
    return Outgoing(
        key=key,
        method=UPDATE,
        channel=channel,
        text=text,
        blocks=tuple(blocks),
        parent_key=None if ts else of,
        ts=ts,
        replace=True,
    )


def tell_privately(
    key: str,
    *,
    user_id: str,
    channel: str | None,
    text: str,
    blocks: Sequence[Mapping[str, Any]] = (),
    after: str | tuple[str, ...] | None = None,
) -> Outgoing:
    """Only `user_id` sees it: an ephemeral in `channel`, else (or if that fails) a DM."""
    if not channel:
        return post(key, user_id, text, blocks, after=after)
    return Outgoing(
        key=key,
        method=EPHEMERAL,
        channel=channel,
        user_id=user_id,
        text=text,
        blocks=tuple(blocks),
        fallback_dm=True,
        after=after,
    )


def publish_home(
    key: str,
    *,
    user_id: str,
    view: Mapping[str, Any],
    after: str | tuple[str, ...] | None = None,
) -> Outgoing:
    """The App Home of `user_id`; only the latest version is ever sent."""
    return Outgoing(
        key=key, method=PUBLISH_HOME, channel=user_id, view=view, replace=True, after=after
    )


def upload_chart(key: str, *, chart_hash: str, channel: str) -> Outgoing:
    """Upload the chart named `chart_hash` (drawn by the sender from the stored chart) as a
    Slack file, not shared anywhere: messages and views show it by file id. `channel` is
    where it is first shown (for pacing and for the give-up notice)."""
    return Outgoing(key=key, method=UPLOAD_CHART, channel=channel, subject=f"chart:{chart_hash}")


def permalink_lookup(key: str, *, channel: str, ts: str, subject: str) -> Outgoing:
    """Ask Slack for a message's permalink and keep it on `subject`."""
    return Outgoing(key=key, method=LOOKUP_PERMALINK, channel=channel, ts=ts, subject=subject)


def message_lookup(key: str, *, channel: str, ts: str, subject: str) -> Outgoing:
    """Ask Slack for one message (its text, author, thread) and its permalink; the answer
    goes to the message recorder with `subject`."""
    return Outgoing(key=key, method=LOOKUP_MESSAGE, channel=channel, ts=ts, subject=subject)


@dataclass(frozen=True)
class LookedUpMessage:
    """What Slack answered about a message a `message_lookup` asked for.

    `message` is Slack's message object (None when it could not be read); `error` says
    why not (`not_in_channel`, `message_not_found`, …)."""

    subject: str
    channel: str
    ts: str
    message: Mapping[str, Any] | None
    permalink: str | None = None
    error: str | None = None


def person_lookup(key: str, *, user_id: str) -> Outgoing:
    """Ask Slack for a user's profile and keep it in the people cache (asked again, once
    sent, when it is stale again)."""
    return Outgoing(key=key, method=LOOKUP_PERSON, channel=user_id, replace=True)


@dataclass(frozen=True)
class OutboxEntry:
    """An outbox row as `opsloop outbox` shows it."""

    id: int
    team_id: str
    key: str
    method: str
    channel: str
    state: str
    attempts: int
    unsure: bool
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    posted_ts: str | None
    error: str | None
    text: str = field(default="")
