"""KPIs as data: definitions, weekly values, reports, status against target. No storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.periods import WEEKLY

ON_TRACK = "on track"


AT_RISK = "at risk"


OFF_TRACK = "off track"


NO_DATA = "no data"


NO_TARGET = "no target"


AT_RISK_MARGIN = 0.10


@dataclass(frozen=True)
class KpiInfo:
    key: str
    name: str
    description: str
    unit: str
    target: float | None
    direction: str
    owner_ref: str | None
    owner_id: str | None
    kind: str
    cadence: str = WEEKLY  # or MONTHLY: the period a value is owed for and shown by
    min_value: float | None = None  # bounds set in the playbook (None: the unit's default)
    max_value: float | None = None

    @property
    def is_manual(self) -> bool:
        return self.kind == MANUAL_KIND

    @property
    def period_word(self) -> str:
        """`week` or `month`."""
        return "month" if self.cadence != WEEKLY else "week"


@dataclass(frozen=True)
class WeekValue:
    """A KPI's value for one period: `week` is an ISO week (`2026-W47`) or, for a monthly
    KPI, a month (`2026-11`)."""

    week: str
    value: float | None
    # The note logged with the value shown for the week (manual KPIs; "" otherwise).
    note: str = ""


@dataclass(frozen=True)
class KpiReport:
    kpi: KpiInfo
    weeks: tuple[WeekValue, ...]
    current: WeekValue
    status: str


@dataclass(frozen=True)
class Measurement:
    """One logged value: what, who, when, why."""

    value: float
    by_id: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class LoggedValue:
    kpi: KpiInfo
    value: float
    week: str  # the period it counts for: a week, or a month for a monthly KPI
    status: str
    replaced: Measurement | None = None  # the period's value before this one


@dataclass(frozen=True)
class LogForm:
    """What the *Log value* form shows: the KPI, the period and its value so far."""

    kpi: KpiInfo
    period: str
    current: Measurement | None


def kpi_status(value: float | None, target: float | None, direction: str) -> str:
    """on track / at risk / off track (see the module docstring), or no data / no target."""
    if value is None:
        return NO_DATA
    if target is None:
        return NO_TARGET
    margin = abs(target) * AT_RISK_MARGIN
    miss = target - value if direction == "higher" else value - target
    if miss <= 0:
        return ON_TRACK
    return AT_RISK if miss <= margin else OFF_TRACK


# kind → the unit its value comes in (a playbook KPI of that kind must use this unit).
COMPUTED_KIND_UNITS: dict[str, str] = {
    "nps_30d": "points",
    "feedback_volume": "items",
    "median_time_to_ack": "minutes",
    "median_time_to_resolve": "hours",
    "sla_breaches": "escalations",
    "checklists_completed": "checklists",
    "median_time_to_onboard": "days",
    "overdue_items": "items",
}


MANUAL_KIND = "manual"


KPI_KINDS: tuple[str, ...] = (MANUAL_KIND, *COMPUTED_KIND_UNITS)


def plain_value(value: float | None, unit: str) -> str:
    """`42%`, `3.5 days`, `40`: a KPI value with its unit as plain text, `—` for no data."""
    if value is None:
        return "—"
    value = float(value)  # an int from JSON, say
    number = f"{value:.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:.0f}"
    if not unit or unit == "points":
        return number
    if unit == "%":
        return number + "%"
    return f"{number} {unit}"


@dataclass(frozen=True)
class Trend:
    """How a value moved against the one before: the arrow, and whether that is good."""

    arrow: str  # ↑ ↓ →
    better: bool | None  # None: unchanged, or no way to tell

    @property
    def word(self) -> str:
        return "unchanged" if self.better is None else ("better" if self.better else "worse")


def trend_of(current: float | None, previous: float | None, direction: str) -> Trend | None:
    """↑/↓/→ from `previous` to `current`, better or worse for a KPI of `direction`
    (higher or lower is better); None when either value is missing."""
    if current is None or previous is None:
        return None
    if current == previous:
        return Trend("→", None)
    up = current > previous
    return Trend("↑" if up else "↓", up == (direction == "higher"))


# How many periods `/kpi show` tables: 8 weeks, or 6 months for a monthly KPI.
SHOW_WEEKS = 8
SHOW_MONTHS = 6


def shown_periods(kpi: KpiInfo) -> int:
    return SHOW_MONTHS if kpi.period_word == "month" else SHOW_WEEKS
