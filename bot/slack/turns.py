"""Slack requests handled one at a time per process (four on PostgreSQL); a request waiting
on Slack steps aside.

Listeners run on the server's threads before the ack (see `bot.wiring.build_app`), and
what they do is Python: verifying, parsing, Bolt's dispatch, storing, rendering. CPython
runs one thread's Python at a time anyway, so letting the 16 server threads all run it at
once buys nothing and costs a lot: measured with `python -m bench ack` on 2 cores,
`/feedback` took 1.9 ms of CPU a request with one server thread and 3.2 to 6.2 ms with 2
to 16 threads, all of them handing the GIL back and forth (and with it the SQLite turn of
storage/db.py) after every statement and socket call; throughput fell from about 490 to
150 to 290 requests a second.

So a request takes the turn before it is verified and gives it back once its answer is
written (HTTP: when waitress closes the answer; Socket Mode: when the ack is sent); the
other server threads wait for it on one lock, ready to go in turn. A request
that waits on the network — a Web API call (`views.open` with its trigger) or a post to a
`response_url` — gives the turn up while it waits (`waiting_on_slack`) and takes it again
after, so one slow Slack answer never holds up the requests behind it. The outbox sender
and the scheduler do not take it: they are not on anybody's 3-second clock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk.webhook import WebhookResponse
from sqlalchemy import Engine

# PostgreSQL: how many requests may hold the turn at once. A request on PostgreSQL spends
# part of its time waiting on the server (its INSERT and the commit's WAL flush), and with
# one runner nobody runs Python meanwhile. The cheaper a request's own Python, the larger
# that share, so the count follows the ack write. Measured with `opsloop serve` against
# PostgreSQL on 2 cores (/feedback, 50 clients, rounds of 1,200 requests, the servers side
# by side taking turns, medians) since the write goes to the driver (storage.db.driver_write):
# 691 req/s with 2 runners, 688 with 3, 778 with 4 (1.27, 1.26, 1.16 ms of CPU a request;
# 9 rounds); 573 with 2 against 666 with 4 (11 rounds, 1.48 and 1.34 ms); 521 / 705 with 2 /
# 4, 569 with 6, 756 with 16 but a p99 of 158 ms against 111 with 4 (7 rounds). At 10
# clients the p99 was 35 against 40 ms (7 rounds) and 39 / 32 against 39 / 25 ms (two
# `python -m bench ack` runs each). When the write was one statement through a SQLAlchemy
# connection, 2 was best (3,000 requests, alternated: 596 / 616, 623 / 612, 562 / 583
# req/s with 2; 580 / 603, 584 / 574, 584 / 572 with 3), and when it was three round trips,
# 3. SQLite keeps one: its writes take turns anyway (storage/db.py), and a second runner
# only adds GIL hand-offs (50 clients, alternated: 752 / 773, 760 / 755, 699 / 701 req/s
# with 1; 769 / 739, 768 / 734, 718 / 684 with 2).
POSTGRESQL_RUNNERS = 4


def runners_for(engine: Engine) -> int:
    """Requests that may hold the turn at once against this database (above)."""
    return POSTGRESQL_RUNNERS if engine.dialect.name == "postgresql" else 1


class RequestTurn:
    """The turn of one process's request threads: `runners` requests hold it at most, and
    the others get it in the order they asked for it.

    First come, first served: a turn given back goes straight to the oldest waiter. A plain
    lock lets whichever thread runs next take it, so one request can lose it again and
    again while newer ones go ahead, and that tail is what misses Slack's 3 seconds.
    Measured with `opsloop serve` on SQLite (alternated runs, p99 at 10 clients): 76 / 75 /
    97 / 88 ms with a lock, 47 / 44 / 59 / 58 ms in order; at 50 clients the same
    throughput (410 / 411 req/s on average) and p99 242-292 ms against 156-180 ms (one run
    687 ms)."""

    def __init__(self, runners: int = 1) -> None:
        self._guard = threading.Lock()
        self._free = runners
        # One locked lock per waiting thread, oldest first; giving the turn to a waiter is
        # releasing its lock.
        self._waiting: deque[threading.Lock] = deque()

    def take(self) -> None:
        """Wait for the turn and hold it (on this thread)."""
        with self._guard:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                _held.turn = self
                return
            mine = threading.Lock()
            mine.acquire()
            self._waiting.append(mine)
        mine.acquire()  # until a holder hands the turn over
        _held.turn = self

    def give_back(self) -> None:
        _held.turn = None
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Around handling one request: wait for the turn, hold it, give it back."""
        self.take()
        try:
            yield
        finally:
            self.give_back()


_held = threading.local()


@contextmanager
def waiting_on_slack() -> Iterator[None]:
    """Around a call that waits on the network: the turn this thread holds (if any) is
    given up for the wait and taken again before going on."""
    turn: RequestTurn | None = getattr(_held, "turn", None)
    if turn is None:
        yield
        return
    turn.give_back()
    try:
        yield
    finally:
        turn.take()


class SteppingAsideRespond(Respond):
    """Bolt's `respond()` (a post to the request's `response_url`), giving up the turn while
    it waits for Slack's answer."""

    def __call__(self, *args: Any, **kwargs: Any) -> WebhookResponse:
        with waiting_on_slack():
            return super().__call__(*args, **kwargs)
