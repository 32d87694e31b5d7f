"""Pacing the sender to Slack's rate limits, so it meets a 429 rarely and never sleeps in one.

Two budgets are checked before a row is claimed: one message per second per channel for
`chat.postMessage` (Slack's documented per-channel limit), and a token bucket per workspace
and method sized to the method's tier. A 429 pauses what it names for `Retry-After`
seconds; the row itself is rescheduled, never waited for in a thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
# How much of a budget may go at once after a quiet spell, in seconds' worth of calls.
BURST_SECONDS = 1.0


@dataclass
class _Bucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float
    paused_until: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a call may go (0: now, and its token is spent)."""
        if now < self.paused_until:
            return self.paused_until - now
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1.0:
            return (1.0 - self.tokens) / self.rate
        self.tokens -= 1.0
        return 0.0

    def take(self, now: float) -> bool:
        return self.wait(now) == 0.0


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
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._channel_next: dict[tuple[str, str], float] = {}

    @classmethod
    def unlimited(cls) -> Pacer:
        """A pacer that admits everything at once: for a stand-in that does not rate-limit
        (the test suite, the playground), where pacing would only add waiting."""
        return cls(per_minute={}, channel_interval=0.0, default_per_minute=1e9)

    def _bucket(self, team_id: str, method: str, now: float) -> _Bucket:
        key = (team_id, method)
        bucket = self._buckets.get(key)
        if bucket is None:
            rate = self._per_minute.get(method, self._default_per_minute) / 60.0
            capacity = max(1.0, rate * BURST_SECONDS)
            bucket = self._buckets[key] = _Bucket(rate, capacity, capacity, now)
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
