"""The weekly review as data: its sections and where it goes. No storage here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import periods
from bot.kpis.charts import Chart


@dataclass(frozen=True)
class DigestSection:
    """One part of the digest: a title and the facts its template renders."""

    key: str
    title: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    empty_text: str | None = None
    # Pictures of the section (the KPIs' overview first, then one trend per KPI).
    charts: tuple[Chart, ...] = ()

    @property
    def is_empty(self) -> bool:
        return self.empty_text is not None


@dataclass(frozen=True)
class Digest:
    """Everything the renderer needs for one team's week."""

    team_id: str
    week: str
    week_start: datetime
    week_end: datetime
    timezone: str
    channel: str | None
    sections: tuple[DigestSection, ...]
    # Set while the week is still running: the moment every number was counted at.
    running_as_of: datetime | None = None


@dataclass(frozen=True)
class DigestSchedule:
    team_id: str
    channel: str | None
    moment: periods.WeeklyMoment


@dataclass(frozen=True)
class DueDigest:
    """A digest whose time has come: the week it covers and where it goes."""

    team_id: str
    week: str
    channel: str
