"""Pacing the sender to Slack's rate limits, so it meets a 429 rarely and never sleeps in one.

Two budgets are checked before a row is claimed: one message per second per channel for
`chat.postMessage` (Slack's documented per-channel limit), and a rolling window per
workspace and method sized to the method's tier. A 429 pauses what it names for
`Retry-After` seconds; the row itself is rescheduled, never waited for in a thread.

The workspace budget is a rolling window, not a token bucket: a bucket that starts full
lets a burst of N through and then refills while the burst is still inside the window
Slack counts, so its 11th call in the first second meets a 429. A window admits at most N
calls in any `window` seconds, which is the most a rolling limit allows and never more.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
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
# A little over a second: the interval Slack measures starts when our call arrives, which
# network jitter can move closer to the previous one than when it was admitted here.
CHANNEL_INTERVAL_SECONDS = 1.1
# How much of a budget may go at once after a quiet spell, in seconds' worth of calls: the
# length of the rolling window (never shorter than one call's interval).
BURST_SECONDS = 1.0
# Added to every window for the same jitter: a call is counted from when it starts, and
# the oldest one in the window may have reached Slack some milliseconds after it started
# (measured against the stand-in on a loaded 2-core machine: 0.01 s met 429s, 0.05 s none).
WINDOW_MARGIN_SECONDS = 0.05
# An admitted call that has not started after this long is no longer counted.
RESERVATION_SECONDS = 5.0
# How soon to look again when the window is full of calls admitted but not yet started.
MIN_WAIT_SECONDS = 0.01


@dataclass
class _Window:
    """At most `limit` calls in any `seconds`-long interval.

    A call is counted from when it was admitted until it starts (`reserved`), then from
    when it started (`started`): under load a call may start well after its admission,
    and counting it from the admission would free its place too early."""

    limit: int
    seconds: float
    started: deque[float] = field(default_factory=deque)
    reserved: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0

    @classmethod
    def for_rate(cls, per_second: float) -> _Window:
        seconds = max(BURST_SECONDS, 1.0 / per_second) if per_second > 0 else BURST_SECONDS
        limit = max(1, math.floor(per_second * seconds + 1e-9))
        return cls(limit=limit, seconds=seconds + WINDOW_MARGIN_SECONDS)

    def wait(self, now: float) -> float:
        """Seconds until a call may go (0: now, and its place is reserved)."""
        if now < self.paused_until:
            return self.paused_until - now
        while self.started and now - self.started[0] >= self.seconds:
            self.started.popleft()
        while self.reserved and now - self.reserved[0] >= RESERVATION_SECONDS:
            self.reserved.popleft()  # admitted but never started (claimed elsewhere)
        if len(self.started) + len(self.reserved) >= self.limit:
            if self.started:
                return max(self.started[0] + self.seconds - now, MIN_WAIT_SECONDS)
            return MIN_WAIT_SECONDS
        self.reserved.append(now)
        return 0.0

    def take(self, now: float) -> bool:
        """Admit and start at once (a lookup the sender makes inline)."""
        if self.wait(now) > 0.0:
            return False
        self.start(now)
        return True

    def start(self, now: float) -> None:
        if self.reserved:
            self.reserved.popleft()
        self.started.append(now)


class Pacer:
    """Admission for outgoing calls; thread-safe, per process (replicas each pace their own
    share, and a 429 any of them meets pauses that one)."""

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
        self._channel_next: dict[tuple[str, str], float] = {}

    @classmethod
    def unlimited(cls) -> Pacer:
        """A pacer that admits everything at once: for a stand-in that does not rate-limit
        (the test suite, the playground), where pacing would only add waiting."""
        return cls(per_minute={}, channel_interval=0.0, default_per_minute=1e9)

    def _bucket(self, team_id: str, method: str, now: float) -> _Window:
        key = (team_id, method)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self._per_minute.get(method, self._default_per_minute) / 60.0
            bucket = self._buckets[key] = _Window.for_rate(rate)
        return bucket

    def admit(self, team_id: str, method: str, channel: str) -> float:
        """0 (and the budget spent) when a `method` call to `channel` may go now, else the
        seconds until it may."""
        with self._lock:
            now = self._clock()
            lane = (team_id, channel)
            per_channel = method == "chat.postMessage"
            if per_channel and now < self._channel_next.get(lane, 0.0):
                return self._channel_next[lane] - now
            wait = self._bucket(team_id, method, now).wait(now)
            if wait > 0.0:
                return wait
            if per_channel:
                self._channel_next[lane] = now + self._channel_interval
            return 0.0

    def started(self, team_id: str, method: str, channel: str | None) -> None:
        """An admitted call of `method` (to `channel`) is being made now: count it, and the
        channel's next post, from now rather than from its admission."""
        with self._lock:
            now = self._clock()
            self._bucket(team_id, method, now).start(now)
            if method == "chat.postMessage" and channel is not None:
                lane = (team_id, channel)
                self._channel_next[lane] = max(
                    self._channel_next.get(lane, 0.0), now + self._channel_interval
                )

    def spend(self, team_id: str, method: str) -> bool:
        """Take one call of `method` from the workspace budget (lookups the sender makes)."""
        with self._lock:
            now = self._clock()
            return self._bucket(team_id, method, now).take(now)

    def pause(self, team_id: str, method: str, channel: str | None, seconds: float) -> None:
        """Slack said 429: nothing more of `method` (in `channel`) for `seconds`."""
        with self._lock:
            now = self._clock()
            until = now + max(seconds, 0.0)
            if channel is not None and method == "chat.postMessage":
                lane = (team_id, channel)
                self._channel_next[lane] = max(self._channel_next.get(lane, 0.0), until)
            else:
                bucket = self._bucket(team_id, method, now)
                bucket.paused_until = max(bucket.paused_until, until)
