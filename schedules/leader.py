"""Leader election: only the scheduler holding the lease row runs the tick.

The lease (`scheduler_leases`, one row per name) is taken or renewed by one atomic
statement at every tick and runs for `ttl`; if the leader dies, another scheduler takes
over once it expires. The send ledger still guards every post, so an overlap (a paused
leader waking up) cannot double a message. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from storage import leases
from storage.db import SessionFactory, transaction

log = logging.getLogger(__name__)

LEASE_NAME = "opsloop-scheduler"
# The tick renews the lease every minute; a dead leader is replaced within three, so SLA
# alerts stay close to their deadlines even then.
DEFAULT_TTL = timedelta(minutes=3)


def make_holder_id() -> str:
    """Host, pid and a random part: unique per scheduler instance, readable in the table."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leader:
    """This process's claim to lead the scheduler."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        holder: str | None = None,
        name: str = LEASE_NAME,
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.sessions = sessions
        self.holder = holder or make_holder_id()
        self.name = name
        self.ttl = ttl
        self.leading = False

    def acquire(self, now: datetime) -> bool:
        """Take or renew the lease; True while this process leads."""
        with transaction(self.sessions) as session:
            leading = leases.claim_lease(
                session, name=self.name, holder=self.holder, now=now, ttl=self.ttl
            )
        if leading != self.leading:
            log.info("scheduler %s %s the lead", self.holder, "took" if leading else "lost")
        self.leading = leading
        return leading

    def release(self) -> None:
        """Hand the lead over at once (clean shutdown)."""
        with transaction(self.sessions) as session:
            leases.release_lease(session, name=self.name, holder=self.holder)
        self.leading = False
