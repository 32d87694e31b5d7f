"""The outbox sender: delivers every stored Slack side effect once, paced, off the listeners.

It runs as a thread in `opsloop run`, `serve` and `scheduler` (any number of replicas: rows
are claimed, see storage.outbox). Each pass claims the due rows the pacer admits and sends
them concurrently across channels. What Slack answers decides the row:
- ok: marked sent (the record it belongs to gets its channel and ts);
- 429: rescheduled after Retry-After and the lane paused, never slept on;
- a refusal that cannot change (`channel_not_found`, `invalid_blocks`, …): given up at
  once, kept as failed, and a person told;
- 5xx, a dropped connection: retried with backoff until MAX_ATTEMPTS, then given up;
- no answer in time: *unsure*, because Slack may have posted. Before an unsure post is
  sent again the sender looks for it in the channel's history by the outbox key every post
  carries in its message metadata, so a late answer never becomes a second post.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.outbox import delivery
from bot.outbox.delivery import Claimed
from bot.outbox.models import (
    CHART_BLOCK_PREFIX,
    CHART_MISSING,
    EPHEMERAL,
    LOOKUP_MESSAGE,
    LOOKUP_PERMALINK,
    LOOKUP_PERSON,
    METADATA_EVENT_TYPE,
    POST,
    PUBLISH_HOME,
    UPDATE,
    UPLOAD_CHART,
    LookedUpMessage,
)
from bot.outbox.service import still_pending
from bot.slack.pacing import Pacer
from bot.slack.people import SlackUser, slack_user
from storage.db import SessionFactory
from storage.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 900.0
POLL_SECONDS = 0.2
# An idle sender polls less and less often, up to this: every poll is a transaction, and on
# SQLite every transaction takes the one write lock the listeners need to store commands.
IDLE_POLL_MAX_SECONDS = 1.0
# Claims left by a dead sender are looked for this often, not at every pass.
REVIVE_EVERY_SECONDS = 10.0
WORKERS = 8
# Looked back this far in a channel's history for an unsure post.
HISTORY_SLACK = timedelta(minutes=5)
# …through at most this many pages of 200 messages (a busy channel, a long backoff).
HISTORY_PAGES = 5

# Refusals that no retry can change: the row is given up at once.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "user_not_found",
        "user_not_in_channel",
        "cannot_dm_bot",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "restricted_action",
        "not_allowed_token_type",
        "invalid_metadata_format",
        "metadata_too_large",
    }
)
# An ephemeral that cannot be shown in its channel is sent as a DM instead.
EPHEMERAL_FALLBACK = frozenset(
    {"not_in_channel", "channel_not_found", "user_not_in_channel", "is_archived"}
)


# What to do with a profile users.info returned: (team id, the profile).
PersonRecorder = Callable[[str, SlackUser], None]
# What to do with a message a `message_lookup` read back: (team id, what Slack said).
MessageRecorder = Callable[[str, LookedUpMessage], None]
# A message that cannot be read, whatever is retried: the recorder is told why at once.
MESSAGE_UNREADABLE = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "message_not_found",
        "thread_not_found",
        "missing_scope",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "account_inactive",
        "is_archived",
    }
)

# (team id, the id after the subject's kind) -> (text, blocks) of the message as it should
# look now, or None when the record is gone. Keyed by subject kind ("checklist", …).
Rendered = tuple[str, list[dict[str, Any]]] | None
Renderer = Callable[[str, str], Rendered]


class ChartFile(Protocol):
    """A drawn chart to upload."""

    @property
    def filename(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def alt_text(self) -> str: ...
    @property
    def png(self) -> bytes: ...


class Charts(Protocol):
    """Where the sender gets a chart to upload, and the file ids of uploaded ones."""

    def draw(self, team_id: str, chart_hash: str) -> ChartFile | None: ...
    def file_ids(self, team_id: str, hashes: Iterable[str]) -> Mapping[str, str]: ...


def wall_clock() -> datetime:
    return datetime.now(UTC)


class OutboxSender:
    """Delivers the outbox; `start()` for a background thread, `drain()` to send what is due
    now and return (the CLI jobs, the shell, the tests)."""

    def __init__(
        self,
        sessions: SessionFactory,
        client: WebClient,
        *,
        renderers: Mapping[str, Renderer] | None = None,
        on_person: PersonRecorder | None = None,
        on_message: MessageRecorder | None = None,
        charts: Charts | None = None,
        pacer: Pacer | None = None,
        workers: int = WORKERS,
        poll_seconds: float = POLL_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        stale_after: timedelta = delivery.STALE_CLAIM,
        now: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.pacer = pacer or Pacer()
        self.renderers = dict(renderers or {})
        self.on_person = on_person
        self.on_message = on_message
        self.charts = charts
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.stale_after = stale_after
        self._last_revive: datetime | None = None
        self._now = now
        self._token = uuid.uuid4().hex
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="opsloop-sender")
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pass_lock = threading.Lock()
        # When (time.monotonic) the pacer admits a row it turned away in the last pass
        # (None: it turned none away), so a paced sender wakes when its budget allows, not
        # later: a moment, not a duration, or the rest of the pass after the pacer answered
        # is added to every wait.
        self._admit_again_at: float | None = None

    # -- running -----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="opsloop-outbox", daemon=True)
        self._thread.start()
        log.info("outbox sender started")

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop claiming; calls already made finish and are recorded, rows claimed but not
        started go back to pending. True when it all ended within `timeout`."""
        self._stopping.set()
        done = True
        if self._thread is not None:
            self._thread.join(timeout)
            done = not self._thread.is_alive()
        # At most `workers` rows are claimed per pass, all started at once: nothing waits
        # in the pool's queue, so not waiting for it drops nothing.
        self._pool.shutdown(wait=done, cancel_futures=True)
        return done

    def _loop(self) -> None:
        idle = self.poll_seconds
        while not self._stopping.is_set():
            try:
                sent = self.run_once()
            except DatabaseUnavailableError as exc:
                log.warning("outbox: database unavailable (%s); trying again shortly", exc)
                sent = 0
            except Exception:
                log.exception("outbox pass failed; trying again shortly")
                sent = 0
            if sent:
                idle = self.poll_seconds
                continue
            if self._admit_again_at is not None:
                wait = max(self._admit_again_at - time.monotonic(), 0.0)
                self._stopping.wait(min(wait, IDLE_POLL_MAX_SECONDS))
                idle = self.poll_seconds
                continue
            self._stopping.wait(idle)
            idle = min(idle * 2, max(IDLE_POLL_MAX_SECONDS, self.poll_seconds))

    def run_once(self) -> int:
        """One pass: claim what is due and admitted, send it, record each outcome."""
        with self._pass_lock:
            if self._stopping.is_set():
                return 0
            now = self._now()
            every = min(REVIVE_EVERY_SECONDS, self.stale_after.total_seconds() / 2)
            revive = self._last_revive is None or (now - self._last_revive).total_seconds() >= every
            if revive:
                self._last_revive = now
            turned_away: list[float] = []
            admitted: Counter[tuple[str, str, str]] = Counter()

            def admit(team_id: str, method: str, channel: str) -> float:
                wait = self.pacer.admit(team_id, method, channel)
                if wait > 0.0:
                    turned_away.append(time.monotonic() + wait)
                else:
                    admitted[(team_id, method, channel)] += 1
                return wait

            claimed: list[Claimed] = []
            try:
                claimed = delivery.claim_due(
                    self.sessions,
                    now=now,
                    revive=revive,
                    token=self._token,
                    admit=admit,
                    max_claims=self.workers,
                    stale_after=self.stale_after,
                    channel_interval=self.pacer.channel_interval,
                    on_held=lambda wait: turned_away.append(time.monotonic() + wait),
                )
            finally:
                # Admitted rows another replica claimed first (or none, if the claim
                # failed) give their places back now, not when their reservations expire.
                admitted.subtract((c.team_id, c.method, c.channel) for c in claimed)
                for (team_id, method, channel), left in admitted.items():
                    for _ in range(left):
                        self.pacer.release(team_id, method, channel)
            self._admit_again_at = min(turned_away, default=None)
            if claimed:
                list(self._pool.map(self._deliver, claimed))
            return len(claimed)

    def drain(
        self,
        timeout: float = 30.0,
        *,
        keys: Sequence[tuple[str, str]] = (),
        horizon: float | None = None,
    ) -> bool:
        """Send until nothing (of `keys`, if given; due within `horizon` seconds, if given)
        is pending; False if `timeout` passed first."""
        deadline = self._now() + timedelta(seconds=timeout)
        while True:
            sent = self.run_once()
            due_by = None if horizon is None else self._now() + timedelta(seconds=horizon)
            if not still_pending(self.sessions, keys=keys, due_by=due_by):
                return True
            if self._now() >= deadline or self._stopping.is_set():
                return False
            if not sent:
                self._stopping.wait(0.02)

    # -- one row -----------------------------------------------------------------------------
    def _deliver(self, claimed: Claimed) -> None:
        called = [False]  # set once a call that may post has been made
        try:
            self._deliver_or_raise(claimed, called)
        except DatabaseUnavailableError:
            # The send happened or not; the claim runs stale and the row is looked for.
            log.warning("outbox %s: could not record the outcome", claimed.id)
        except Exception:
            log.exception("outbox %s: unexpected failure", claimed.id)
            if claimed.attempts >= self.max_attempts:
                delivery.give_up(self.sessions, claimed, error="unexpected error", now=self._now())
                return
            delivery.retry_later(
                self.sessions,
                claimed,
                at=self._backoff(claimed),
                error="unexpected error",
                # Slack may have posted before the failure: look before posting again.
                unsure=called[0] and claimed.method == POST,
            )

    def _deliver_or_raise(self, claimed: Claimed, called: list[bool]) -> None:
        now = self._now()
        try:
            ours = not self._stopping.is_set() and delivery.still_ours(
                self.sessions, claimed, now=now
            )
        except BaseException:
            self.pacer.release(claimed.team_id, claimed.method, claimed.channel)
            raise
        if not ours:
            self.pacer.release(claimed.team_id, claimed.method, claimed.channel)
            if self._stopping.is_set():
                # Claimed but not started: back to pending at once for the next process.
                delivery.retry_later(
                    self.sessions, claimed, at=now, error="sender stopped", count_attempt=False
                )
            return
        try:
            # The row's place in the pacer is held until Slack's answer is back (its
            # outcome is recorded after, outside the window it counts in).
            with self.pacer.calling(claimed.team_id, claimed.method, claimed.channel):
                sent = self._send(claimed, called)
        except SlackApiError as error:
            self._refused(claimed, error)
            return
        except SlackRequestError as error:
            # files_upload_v2's own failures: the POST of the bytes was refused, … (a call
            # before it may have succeeded; an upload is never shown twice, so just retry).
            self._upload_failed(claimed, error)
            return
        except _Unsendable as error:
            delivery.give_up(self.sessions, claimed, error=str(error), now=now)
            return
        except OSError as error:  # includes timeouts and urllib's URLError
            self._no_answer(claimed, error)
            return
        if sent is not None:
            # Stamped with the moment of Slack's answer, not of the claim: other replicas
            # pace their next post to this channel from it (delivery.claim_due).
            delivery.mark_sent(self.sessions, claimed, now=self._now(), **sent)

    def _send(self, claimed: Claimed, called: list[bool]) -> dict[str, Any] | None:
        """Make the row's calls; what to record it as sent with (None: recorded already)."""
        if claimed.unsure and claimed.method == POST:
            try:
                found = self._find_posted(claimed)
            except (SlackApiError, OSError) as error:
                # Not knowing is no reason to post twice, nor to give up for good.
                self._lookup_failed(claimed, error)
                return None
            if found is not None:
                log.info("outbox %s was posted already (found %s)", claimed.id, found[1])
                return {"channel": found[0], "ts": found[1]}
        if claimed.method == LOOKUP_PERSON:
            self._look_up_person(claimed)
            return {"channel": None, "ts": None}
        if claimed.method == LOOKUP_MESSAGE:
            self._look_up_message(claimed)
            return {"channel": None, "ts": None}
        if claimed.method == LOOKUP_PERMALINK:
            link = self.client.chat_getPermalink(
                channel=claimed.channel, message_ts=claimed.ts or ""
            )
            permalink = str(link.get("permalink") or "") or None
            return {"channel": claimed.channel, "ts": claimed.ts, "permalink": permalink}
        if claimed.method == UPLOAD_CHART:
            file_id = self._upload_chart(claimed)
            return {"channel": None, "ts": None, "file_id": file_id}
        called[0] = True
        channel, ts = self._call(claimed)
        permalink = self._permalink(claimed, channel, ts)
        return {"channel": channel, "ts": ts, "permalink": permalink}

    def _look_up_person(self, claimed: Claimed) -> None:
        """users.info, kept in the people cache; an id Slack does not know is kept as such
        (no name, no timezone) so it is not asked about again at once."""
        try:
            response = self.client.users_info(user=claimed.channel)
            user = slack_user(claimed.channel, response.get("user") or {})
        except SlackApiError as error:
            if _error_of(error) != "user_not_found":
                raise
            user = SlackUser(claimed.channel, "", None, deleted=False, known=False)
        if self.on_person is not None:
            self.on_person(claimed.team_id, user)

    def _look_up_message(self, claimed: Claimed) -> None:
        """The message at (channel, ts) and its permalink, for the message recorder.

        conversations.history holds only a channel's top-level messages: when the newest
        one up to `ts` is not the message, it is a thread reply (or deleted), which
        conversations.replies finds by the reply's own ts. A refusal no retry can change
        (the bot is not in the channel, the message is gone) is recorded as the answer; a
        429 or a 5xx is retried like any call, and after the last attempt recorded too."""
        channel, ts = claimed.channel, claimed.ts or ""
        try:
            message = self._read_message(channel, ts)
            permalink = None
            if message is not None:
                try:
                    link = self.client.chat_getPermalink(channel=channel, message_ts=ts)
                    permalink = str(link.get("permalink") or "") or None
                except (SlackApiError, OSError) as exc:  # best effort: kept without a link
                    log.info("no permalink for %s/%s: %s", channel, ts, exc)
            answer = LookedUpMessage(
                subject=claimed.subject or "",
                channel=channel,
                ts=ts,
                message=message,
                permalink=permalink,
                error=None if message is not None else "message_not_found",
            )
        except SlackApiError as error:
            code = _error_of(error)
            status = getattr(error.response, "status_code", 200)
            last = claimed.attempts >= self.max_attempts
            if status == 429 or code == "ratelimited" or not (code in MESSAGE_UNREADABLE or last):
                raise
            answer = LookedUpMessage(claimed.subject or "", channel, ts, None, error=code)
        except OSError:
            if claimed.attempts < self.max_attempts:
                raise
            answer = LookedUpMessage(claimed.subject or "", channel, ts, None, error="no_answer")
        if self.on_message is not None:
            self.on_message(claimed.team_id, answer)

    def _read_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        history = self.client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
        for message in history.get("messages") or []:
            if str(message.get("ts")) == ts:
                return dict(message)
        try:
            replies = self.client.conversations_replies(
                channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=2
            )
        except SlackApiError as error:
            if _error_of(error) == "thread_not_found":
                return None
            raise
        for message in replies.get("messages") or []:
            if str(message.get("ts")) == ts:
                return dict(message)
        return None

    def _upload_chart(self, claimed: Claimed) -> str:
        """Draw the chart and upload it with files_upload_v2 (get an upload URL, POST the
        bytes, complete the upload), shared nowhere: messages show it by its file id."""
        _, _, chart_hash = (claimed.subject or "").partition(":")
        drawn = self.charts.draw(claimed.team_id, chart_hash) if self.charts else None
        if drawn is None:
            raise _Unsendable("the chart to upload no longer exists")
        response = self.client.files_upload_v2(
            file=drawn.png, filename=drawn.filename, title=drawn.title, alt_txt=drawn.alt_text
        )
        files: list[dict[str, Any]] = list(response.get("files") or [])
        uploaded: dict[str, Any] = response.get("file") or (files[0] if files else {})
        file_id = str(uploaded.get("id") or "")
        if not file_id:
            raise _Unsendable("Slack returned no file id")
        return file_id

    def _upload_failed(self, claimed: Claimed, error: Exception) -> None:
        log.warning("outbox %s: upload failed: %s", claimed.id, error)
        if claimed.attempts >= self.max_attempts:
            delivery.give_up(self.sessions, claimed, error="upload_failed", now=self._now())
            return
        delivery.retry_later(
            self.sessions, claimed, at=self._backoff(claimed), error="upload failed"
        )

    def _with_charts(self, team_id: str, blocks: Any) -> Any:
        """Blocks with every chart image pointing at its uploaded file, or, for a chart whose
        upload was given up, a line saying it is missing (Slack refuses an empty file id)."""
        if not isinstance(blocks, list):
            return blocks
        wanted = [_chart_of(block) for block in blocks]
        hashes = [name for name in wanted if name]
        if not hashes:
            return blocks
        known = self.charts.file_ids(team_id, hashes) if self.charts else {}
        filled: list[Any] = []
        for block, name in zip(blocks, wanted, strict=True):
            if not name:
                filled.append(block)
                continue
            file_id = known.get(name) or str((block.get("slack_file") or {}).get("id") or "")
            if file_id:
                filled.append({**block, "slack_file": {"id": file_id}})
            else:
                filled += _charts_missing([block])
        return filled

    def _lookup_failed(self, claimed: Claimed, error: Exception) -> None:
        log.warning("outbox %s: could not look for an unsure post: %s", claimed.id, error)
        if claimed.attempts >= self.max_attempts:
            # A person decides (`opsloop outbox resend` posts it, after one more look).
            delivery.give_up(
                self.sessions,
                claimed,
                error="could not check whether it was posted",
                now=self._now(),
            )
            return
        delivery.retry_later(
            self.sessions, claimed, at=self._backoff(claimed), error="lookup failed", unsure=True
        )

    def _call(self, claimed: Claimed) -> tuple[str | None, str | None]:
        payload = claimed.payload
        text = str(payload.get("text") or "")
        blocks = payload.get("blocks") or None
        if payload.get("render"):
            text, blocks = self._render(claimed)
        blocks = self._with_charts(claimed.team_id, blocks)
        if claimed.method == POST:
            try:
                return self._post_with_fallbacks(claimed, text, blocks)
            except SlackApiError as error:
                # Slack can refuse an image block naming a file it is still processing; the
                # message (a digest's tables) must not be lost for its picture.
                if _error_of(error) not in CHART_REFUSALS or not _shows_charts(blocks):
                    raise
                log.warning("outbox %s: charts refused (%s); sent without", claimed.id, error)
                return self._post_with_fallbacks(claimed, text, _charts_missing(blocks))
        if claimed.method == UPDATE:
            if not claimed.ts:
                raise _Unsendable("message_not_found")
            self.client.chat_update(
                channel=claimed.channel, ts=claimed.ts, text=text, blocks=blocks
            )
            return claimed.channel, claimed.ts
        if claimed.method == EPHEMERAL:
            try:
                response = self.client.chat_postEphemeral(
                    channel=claimed.channel, user=claimed.user_id or "", text=text, blocks=blocks
                )
            except SlackApiError as error:
                if not (claimed.fallback_dm and _error_of(error) in EPHEMERAL_FALLBACK):
                    raise
                log.info("outbox %s: no ephemeral in %s; sent by DM", claimed.id, claimed.channel)
                return self._post(claimed, claimed.user_id or "", text, blocks)
            return claimed.channel, str(response.get("message_ts") or "") or None
        if claimed.method == PUBLISH_HOME:
            view = dict(payload.get("view") or {})
            if view.get("blocks"):
                view["blocks"] = self._with_charts(claimed.team_id, view["blocks"])
            self.client.views_publish(user_id=claimed.channel, view=view)
            return claimed.channel, None
        raise _Unsendable("unknown_method")

    def _render(self, claimed: Claimed) -> tuple[str, Any]:
        kind, _, ident = (claimed.subject or "").partition(":")
        renderer = self.renderers.get(kind)
        if renderer is None:
            raise _Unsendable(f"nothing renders {kind or 'this message'}")
        rendered = renderer(claimed.team_id, ident)
        if rendered is None:
            raise _Unsendable("the record it shows no longer exists")
        text, blocks = rendered
        return text, blocks or None

    def _post_with_fallbacks(
        self, claimed: Claimed, text: str, blocks: Any
    ) -> tuple[str | None, str | None]:
        """Post in the row's channel, else in its fallbacks in order (an escalation goes to
        the channel /escalate was typed in, then the owner's DM, when its channel refuses)."""
        fallbacks = [str(c) for c in claimed.payload.get("fallback_channels") or []]
        channels = [claimed.channel, *fallbacks]
        refused: list[tuple[str, str]] = []
        for index, channel in enumerate(channels):
            try:
                posted = self._post(claimed, channel, text, blocks)
            except SlackApiError as error:
                if index == len(channels) - 1 or _error_of(error) not in PERMANENT_ERRORS:
                    raise
                log.info("outbox %s: %s refused (%s)", claimed.id, channel, _error_of(error))
                refused.append((channel, _error_of(error)))
                continue
            if refused:
                delivery.note_fallback(
                    self.sessions, claimed, refused=refused, posted_in=channel, now=self._now()
                )
            return posted
        raise _Unsendable("no channel to post in")

    def _post(
        self, claimed: Claimed, channel: str, text: str, blocks: Any
    ) -> tuple[str | None, str | None]:
        response = self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            thread_ts=claimed.ts,
            metadata={
                "event_type": METADATA_EVENT_TYPE,
                "event_payload": {"key": claimed.key, "team": claimed.team_id},
            },
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response.get("channel") or channel), str(response.get("ts") or "") or None

    def _permalink(self, claimed: Claimed, channel: str | None, ts: str | None) -> str | None:
        if claimed.method != POST or not (
            claimed.subject and claimed.subject.startswith("escalation:") and channel and ts
        ):
            return None
        try:
            link = self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except (SlackApiError, OSError) as exc:
            log.info("no permalink for %s/%s: %s", channel, ts, exc)
            return None
        return str(link) if link else None

    def _find_posted(self, claimed: Claimed) -> tuple[str, str] | None:
        """The post of `claimed` if Slack has it (looked up by its metadata key), in its
        channel or any of its fallbacks."""
        fallbacks = [str(c) for c in claimed.payload.get("fallback_channels") or []]
        for channel in [claimed.channel, *fallbacks]:
            found = self._find_in(claimed, channel)
            if found is not None:
                return found
        return None

    def _find_in(self, claimed: Claimed, channel: str) -> tuple[str, str] | None:
        if channel.startswith(("U", "W")):
            opened = self.client.conversations_open(users=channel)
            channel = str((opened.get("channel") or {}).get("id") or channel)
        oldest = f"{(claimed.created_at - HISTORY_SLACK).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            if claimed.ts:
                response = self.client.conversations_replies(
                    channel=channel, ts=claimed.ts, oldest=oldest, cursor=cursor,
                    limit=200, include_all_metadata=True,
                )  # fmt: skip
            else:
                response = self.client.conversations_history(
                    channel=channel, oldest=oldest, cursor=cursor, limit=200,
                    include_all_metadata=True,
                )  # fmt: skip
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == METADATA_EVENT_TYPE
                    and payload.get("key") == claimed.key
                    and payload.get("team", claimed.team_id) == claimed.team_id
                ):
                    return channel, str(message.get("ts"))
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        return None

    # -- outcomes ----------------------------------------------------------------------------
    def _refused(self, claimed: Claimed, error: SlackApiError) -> None:
        now = self._now()
        status = getattr(error.response, "status_code", 200)
        code = _error_of(error)
        if status == 429 or code == "ratelimited":
            seconds = _retry_after(error)
            self.pacer.pause(claimed.team_id, claimed.method, claimed.channel, seconds)
            delivery.retry_later(
                self.sessions,
                claimed,
                at=now + timedelta(seconds=seconds),
                error="ratelimited",
                count_attempt=False,
            )
            return
        if code in PERMANENT_ERRORS or claimed.attempts >= self.max_attempts:
            delivery.give_up(self.sessions, claimed, error=code, now=now)
            return
        # A 5xx or `internal_error` may come after Slack did part of the work.
        delivery.retry_later(
            self.sessions,
            claimed,
            at=self._backoff(claimed),
            error=code,
            unsure=claimed.method == POST,
        )

    def _no_answer(self, claimed: Claimed, error: OSError) -> None:
        # Only a post can be doubled; an update or a Home publish is simply sent again.
        unsure = claimed.method == POST and not _never_sent(error)
        log.warning("outbox %s: no answer from Slack (%s)", claimed.id, error)
        if claimed.attempts >= self.max_attempts:
            delivery.give_up(self.sessions, claimed, error="no answer from Slack", now=self._now())
            return
        delivery.retry_later(
            self.sessions,
            claimed,
            at=self._backoff(claimed),
            error=f"no answer: {error}",
            unsure=unsure,
        )

    def _backoff(self, claimed: Claimed) -> datetime:
        seconds = min(MAX_BACKOFF_SECONDS, 2.0 ** max(claimed.attempts, 1))
        return self._now() + timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class _Unsendable(Exception):
    """A row the sender cannot make a call of (no ts to update, an unknown method)."""


# What Slack answers when a message's image block names a file it will not show.
CHART_REFUSALS = frozenset({"invalid_blocks", "invalid_blocks_format"})


def _shows_charts(blocks: Any) -> bool:
    return isinstance(blocks, list) and any(_chart_of(block) for block in blocks)


def _charts_missing(blocks: list[Any]) -> list[Any]:
    """`blocks` with each chart image replaced by the line saying it is missing."""
    return [
        {
            "type": "context",
            "block_id": block.get("block_id"),
            "elements": [{"type": "mrkdwn", "text": CHART_MISSING}],
        }
        if _chart_of(block)
        else block
        for block in blocks
    ]


def _chart_of(block: Any) -> str:
    """The chart an image block shows (see CHART_BLOCK_PREFIX), else ""."""
    if not isinstance(block, dict) or block.get("type") != "image":
        return ""
    block_id = str(block.get("block_id") or "")
    return block_id[len(CHART_BLOCK_PREFIX) :] if block_id.startswith(CHART_BLOCK_PREFIX) else ""


def _error_of(error: SlackApiError) -> str:
    response = error.response
    try:
        return str(response.get("error") or "unknown_error")
    except AttributeError:
        if isinstance(response, dict):
            return str(response.get("error") or "unknown_error")
        return "unknown_error"


def _retry_after(error: SlackApiError) -> float:
    headers = getattr(error.response, "headers", {}) or {}
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            try:
                return max(1.0, float(value if not isinstance(value, list) else value[0]))
            except (TypeError, ValueError):
                break
    return 1.0


def _never_sent(error: OSError) -> bool:
    """A refused connection never reached Slack, so it cannot have posted."""
    reason = getattr(error, "reason", error)
    return isinstance(reason, ConnectionRefusedError)
