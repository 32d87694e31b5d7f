"""Severity SLAs and the state of an SLA clock at a given time.

Each severity promises a time to acknowledge and a time to resolve, counted from when the
escalation was opened. The defaults below apply unless a team stored its own (the playbook
does that through `escalations.set_severity_slas`).

A running clock is *due soon* once at most a quarter of its window is left (for a 15-minute
sev1 acknowledgement that is the last 3 min 45 s), and *breached* only strictly after the due
time: at the due instant itself it is still due soon. A stopped clock is *met* when it
stopped at or before the due time, otherwise *breached* (and stays so).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Severity = Literal["sev1", "sev2", "sev3", "sev4"]
SEVERITIES: tuple[Severity, ...] = ("sev1", "sev2", "sev3", "sev4")

# One-line meanings shown in the severity picker and on the message.
SEVERITY_MEANINGS: dict[str, str] = {
    "sev1": "Critical: product down, data loss or security issue",
    "sev2": "Major: key feature broken for many, no workaround",
    "sev3": "Minor: broken for some, a workaround exists",
    "sev4": "Low: cosmetic, a question or a small annoyance",
}

# Share of a window left at which a running clock turns from on track to due soon.
DUE_SOON_SHARE = 0.25


class SeveritySla(BaseModel):
    """How fast one severity must be acknowledged and resolved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ack_within: timedelta = Field(gt=timedelta(0))
    resolve_within: timedelta = Field(gt=timedelta(0))

    @model_validator(mode="after")
    def _resolve_after_ack(self) -> SeveritySla:
        if self.resolve_within < self.ack_within:
            raise ValueError("resolve_within must not be shorter than ack_within")
        return self


class SlaTable(BaseModel):
    """The SLA of every severity; a missing severity falls back to the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sev1: SeveritySla = SeveritySla(
        ack_within=timedelta(minutes=15), resolve_within=timedelta(hours=4)
    )
    sev2: SeveritySla = SeveritySla(ack_within=timedelta(hours=1), resolve_within=timedelta(days=1))
    sev3: SeveritySla = SeveritySla(ack_within=timedelta(hours=4), resolve_within=timedelta(days=3))
    sev4: SeveritySla = SeveritySla(ack_within=timedelta(days=1), resolve_within=timedelta(days=7))

    def for_severity(self, severity: str) -> SeveritySla:
        """The SLA of `severity` (one of SEVERITIES)."""
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        sla: SeveritySla = getattr(self, severity)
        return sla


DEFAULT_SLAS = SlaTable()


class ClockState(enum.StrEnum):
    ON_TRACK = "on track"
    DUE_SOON = "due soon"
    BREACHED = "breached"
    MET = "met"


@dataclass(frozen=True)
class SlaClock:
    """One SLA clock (acknowledge or resolve) evaluated at `as_of`."""

    kind: Literal["ack", "resolve"]
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    state: ClockState
    as_of: datetime

    @property
    def breached(self) -> bool:
        return self.state is ClockState.BREACHED

    @property
    def elapsed(self) -> timedelta | None:
        """How long it took (None while running)."""
        return None if self.stopped_at is None else self.stopped_at - self.started_at


def clock_state(
    *, started_at: datetime, due_at: datetime, stopped_at: datetime | None, now: datetime
) -> ClockState:
    """The state of a clock that started at `started_at`, is due at `due_at`, evaluated at now."""
    if stopped_at is not None:
        return ClockState.MET if stopped_at <= due_at else ClockState.BREACHED
    if now > due_at:
        return ClockState.BREACHED
    if due_at - now <= (due_at - started_at) * DUE_SOON_SHARE:
        return ClockState.DUE_SOON
    return ClockState.ON_TRACK


def evaluate_clock(
    kind: Literal["ack", "resolve"],
    *,
    started_at: datetime,
    due_at: datetime,
    stopped_at: datetime | None,
    now: datetime,
) -> SlaClock:
    """An `SlaClock` for the given times."""
    state = clock_state(started_at=started_at, due_at=due_at, stopped_at=stopped_at, now=now)
    return SlaClock(kind, started_at, due_at, stopped_at, state, now)


# -- the escalation policy: who hears of a breached clock, and when ---------------------------
# The levels of a breach alert, in order. `owner` is told the moment a clock breaches; the
# other two are brought in a number of minutes later if the clock is still running.
BreachLevel = Literal["owner", "process_owner", "admins"]
BREACH_LEVELS: tuple[BreachLevel, ...] = ("owner", "process_owner", "admins")


class SeverityPolicy(BaseModel):
    """Who is brought in when one severity's clock is breached and still running.

    Minutes count from the deadline; None never brings that level in. With `weekdays_only`
    the alerts (not the message, which always shows *breached*) wait for one of the team's
    nudge weekdays in the team's timezone; a SEV1 never waits.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    process_owner_after: timedelta | None = Field(default=None, ge=timedelta(0))
    admins_after: timedelta | None = Field(default=None, ge=timedelta(0))
    weekdays_only: bool = False

    def delay(self, level: BreachLevel) -> timedelta | None:
        """How long after the deadline `level` is brought in (None: never)."""
        if level == "owner":
            return timedelta(0)
        return self.process_owner_after if level == "process_owner" else self.admins_after


class EscalationPolicy(BaseModel):
    """The policy of every severity; a missing severity falls back to the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sev1: SeverityPolicy = SeverityPolicy(
        process_owner_after=timedelta(minutes=15), admins_after=timedelta(minutes=30)
    )
    sev2: SeverityPolicy = SeverityPolicy(
        process_owner_after=timedelta(minutes=30), admins_after=timedelta(hours=2)
    )
    sev3: SeverityPolicy = SeverityPolicy(
        process_owner_after=timedelta(hours=4), admins_after=timedelta(days=1), weekdays_only=True
    )
    sev4: SeverityPolicy = SeverityPolicy(
        process_owner_after=timedelta(days=1), admins_after=None, weekdays_only=True
    )

    def for_severity(self, severity: str) -> SeverityPolicy:
        """The policy of `severity`; a SEV1 never waits for a weekday, whatever was stored."""
        policy: SeverityPolicy = getattr(self, severity) if severity in SEVERITIES else self.sev4
        if severity == "sev1" and policy.weekdays_only:
            return policy.model_copy(update={"weekdays_only": False})
        return policy


DEFAULT_POLICY = EscalationPolicy()

# A breached SEV1 / SEV2 cannot be snoozed: its alerts and nudges keep coming until it is
# acknowledged or resolved.
UNSNOOZABLE_SEVERITIES: tuple[Severity, ...] = ("sev1", "sev2")
