"""Pacing the sender to Slack's rate limits, so it meets a 429 rarely and never sleeps in one.

Two budgets are checked before a row is claimed: one message per second per channel for
`chat.postMessage` (Slack's documented per-channel limit), and a rolling window per
workspace and method sized to the method's tier. A 429 pauses what it names for
`Retry-After` seconds; the row itself is rescheduled, never waited for in a thread.

The workspace budget is a rolling window, not a token bucket: a bucket that starts full
lets a burst of N through and then refills while the burst is still inside the window
Slack counts, so its 11th call in the first second meets a 429. A window admits at most N
calls in any `window` seconds, which is the most a rolling limit allows and never more.

A call is counted from its admission until its answer comes back, then from that answer
for the window's length. Slack counts a call at its arrival, some moment between our start
and its answer, which on a loaded machine can be later than the start by more than any
fixed margin: counted from the start, the window freed a place early and met 429s. The
answer is never earlier than the arrival, so a window (and a channel's interval) counted
from it needs no margin, and a place frees only once Slack has counted the call it held.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

# Calls per minute per workspace, from Slack's tiers (Tier 3: 50+, Tier 4: 100+).
# chat.postMessage has its own "special" limit: 1/s per channel, bursts across channels.
TIER_PER_MINUTE: Mapping[str, float] = {
    "chat.postMessage": 600.0,
    "chat.update": 50.0,
    "chat.postEphemeral": 100.0,
    "views.publish": 100.0,
    "conversations.history": 50.0,
    "conversations.replies": 50.0,
    "conversations.open": 50.0,
    "chat.getPermalink": 100.0,
}
DEFAULT_PER_MINUTE = 50.0
# Slack's interval between two posts in one channel, counted from the earlier one's answer
# (it arrived before that), so the later one cannot arrive sooner.
CHANNEL_INTERVAL_SECONDS = 1.0
# How much of a budget may go at once after a quiet spell, in seconds' worth of calls: the
# length of the rolling window (never shorter than one call's interval).
BURST_SECONDS = 1.0
# An admitted call that has not started after this long is no longer counted (a row
# admitted, then claimed by another replica, whose release was missed).
RESERVATION_SECONDS = 5.0
# How soon to look again when the window is full of calls admitted but not yet answered.
MIN_WAIT_SECONDS = 0.01
# A channel with a post in flight waits for its answer; this long at most (the sender's
# client times out well before, and its answer is then recorded at once).
IN_FLIGHT_SECONDS = 60.0


@dataclass
class _Window:
    """At most `limit` calls in any `seconds`-long interval.

    A call is counted from its admission until it starts (`reserved`), from its start until
    its answer (`in_flight`), then from its answer (`answered`) until `seconds` later: Slack
    counted it at some moment before that answer."""

    limit: int
    seconds: float
    answered: deque[float] = field(default_factory=deque)
    reserved: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    paused_until: float = 0.0

    @classmethod
    def for_rate(cls, per_second: float) -> _Window:
        seconds = max(BURST_SECONDS, 1.0 / per_second) if per_second > 0 else BURST_SECONDS
        limit = max(1, math.floor(per_second * seconds + 1e-9))
        return cls(limit=limit, seconds=seconds)

    def wait(self, now: float) -> float:
        """Seconds until a call may go (0: now, and its place is reserved)."""
        if now < self.paused_until:
            return self.paused_until - now
        while self.answered and now - self.answered[0] >= self.seconds:
            self.answered.popleft()
        while self.reserved and now - self.reserved[0] >= RESERVATION_SECONDS:
            self.reserved.popleft()  # admitted but never started (claimed elsewhere)
        if len(self.answered) + len(self.reserved) + self.in_flight >= self.limit:
            if self.answered:
                return max(self.answered[0] + self.seconds - now, MIN_WAIT_SECONDS)
            return MIN_WAIT_SECONDS
        self.reserved.append(now)
        return 0.0

    def release(self) -> None:
        """An admitted call that will not be made gives its place back."""
        if self.reserved:
            self.reserved.pop()

    def start(self) -> None:
        if self.reserved:
            self.reserved.popleft()
        self.in_flight += 1

    def answer(self, now: float) -> None:
        self.in_flight = max(self.in_flight - 1, 0)
        self.answered.append(now)


class Pacer:
    """Admission for outgoing calls; thread-safe, per process (replicas each pace their own
    share, and a 429 any of them meets pauses that one).

    A call is `admit`ted (0: it may go, and its place is reserved), then made inside
    `calling`, or given back with `release` when it will not be made after all."""

    def __init__(
        self,
        *,
        per_minute: Mapping[str, float] = TIER_PER_MINUTE,
        channel_interval: float = CHANNEL_INTERVAL_SECONDS,
        default_per_minute: float = DEFAULT_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_minute = dict(per_minute)
        self._default_per_minute = default_per_minute
        self._channel_interval = channel_interval
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Window] = {}
        # When each channel may have its next post (its last answer + the interval, or a
        # 429's Retry-After)…
        self._channel_next: dict[tuple[str, str], float] = {}
        # …and the channels with a post admitted or in flight, until when at most: the
        # next post waits for that one's answer.
        self._channel_held: dict[tuple[str, str], float] = {}

    @property
    def channel_interval(self) -> float:
        """Seconds between two posts to one channel (0: not paced)."""
        return self._channel_interval

    @classmethod
    def unlimited(cls) -> Pacer:
        """A pacer that admits everything at once: for a stand-in that does not rate-limit
        (the test suite, the playground), where pacing would only add waiting."""
        return cls(per_minute={}, channel_interval=0.0, default_per_minute=1e9)

    def _bucket(self, team_id: str, method: str) -> _Window:
        key = (team_id, method)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self._per_minute.get(method, self._default_per_minute) / 60.0
            bucket = self._buckets[key] = _Window.for_rate(rate)
        return bucket

    def _lane(self, team_id: str, method: str, channel: str | None) -> tuple[str, str] | None:
        """The channel a call is paced in, if it is (posts only)."""
        if method != "chat.postMessage" or channel is None:
            return None
        return (team_id, channel)

    def admit(self, team_id: str, method: str, channel: str) -> float:
        """0 (and a place reserved) when a `method` call to `channel` may go now, else the
        seconds until it may at the soonest."""
        with self._lock:
            now = self._clock()
            lane = self._lane(team_id, method, channel)
            if lane is not None:
                held = self._channel_held.get(lane, 0.0)
                if now < held:
                    return min(held - now, max(self._channel_interval, MIN_WAIT_SECONDS))
                if now < self._channel_next.get(lane, 0.0):
                    return self._channel_next[lane] - now
            wait = self._bucket(team_id, method).wait(now)
            if wait > 0.0:
                return wait
            if lane is not None and self._channel_interval > 0:
                self._channel_held[lane] = now + RESERVATION_SECONDS
            return 0.0

    def release(self, team_id: str, method: str, channel: str | None) -> None:
        """An admitted call will not be made (its row went to another replica, the sender
        is stopping): its places go back at once."""
        with self._lock:
            self._bucket(team_id, method).release()
            lane = self._lane(team_id, method, channel)
            if lane is not None:
                self._channel_held.pop(lane, None)

    @contextmanager
    def calling(self, team_id: str, method: str, channel: str | None) -> Iterator[None]:
        """Around an admitted call of `method` (to `channel`): in flight until the block
        ends, counted from then on (its answer, or its failure, came back)."""
        lane = self._lane(team_id, method, channel)
        with self._lock:
            self._bucket(team_id, method).start()
            if lane is not None and self._channel_interval > 0:
                self._channel_held[lane] = self._clock() + IN_FLIGHT_SECONDS
        try:
            yield
        finally:
            with self._lock:
                now = self._clock()
                self._bucket(team_id, method).answer(now)
                if lane is not None:
                    self._channel_held.pop(lane, None)
                    # max: a 429 met meanwhile paused the channel for longer.
                    self._channel_next[lane] = max(
                        self._channel_next.get(lane, 0.0), now + self._channel_interval
                    )

    def pause(self, team_id: str, method: str, channel: str | None, seconds: float) -> None:
        """Slack said 429: nothing more of `method` (in `channel`) for `seconds`."""
        with self._lock:
            now = self._clock()
            until = now + max(seconds, 0.0)
            lane = self._lane(team_id, method, channel)
            if lane is not None:
                self._channel_next[lane] = max(self._channel_next.get(lane, 0.0), until)
            else:
                bucket = self._bucket(team_id, method)
                bucket.paused_until = max(bucket.paused_until, until)
