"""The weekly review digest: which digests are due, and what goes in them.

Capabilities contribute sections by registering a provider in `DIGEST_SECTIONS` (key →
`provider(sessions, team_id, week_start, week_end, now) -> DigestSection`). Standard
sections come in the order of `SECTION_ORDER`, others after them in registration order.
The built-in templates in `bot/templates/digest/<key>.j2` expect these facts (plain data;
user-derived strings are escaped by the templates):

- `kpis`: `kpis` = list of {name, unit, this_week, last_week, target, status, owner_id};
  status is `on_track`, `at_risk`, `off_track` or `no_data`.
- `feedback`: count, nps, nps_change, top_tags = [{tag, count}],
  detractor_quotes = [{text, customer}] (at most 3 are shown).
- `escalations`: opened, resolved, open_by_severity = {sev1: n, …}, sla_breaches,
  median_ack_minutes.
- `onboarding`: started, completed, median_days_to_complete, stuck = [{subject, days}].
- `accountability`: overdue_by_owner = [{owner_id, count}].
Any other key is rendered by `section.j2` as one line per fact.
A section with `empty_text` set is empty and shows that sentence ("No escalations this week").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from bot.services import directory, periods
from storage.db import SessionFactory

log = logging.getLogger(__name__)

DIGEST_KIND = "digest"
# Per-team schedule settings (the playbook's `digest:` block writes them).
DIGEST_WEEKDAY = "digest.weekday"
DIGEST_TIME = "digest.time"
DEFAULT_WEEKDAY = 0  # Monday
DEFAULT_TIME = time(9, 0)


@dataclass(frozen=True)
class DigestSection:
    """One part of the digest: a title and the facts its template renders."""

    key: str
    title: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    empty_text: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.empty_text is not None


DigestProvider = Callable[[SessionFactory, str, datetime, datetime, datetime], DigestSection]
DIGEST_SECTIONS: dict[str, DigestProvider] = {}
# The order of PRODUCT.md §3 whatever order modules are imported in; other keys follow.
SECTION_ORDER = ("kpis", "feedback", "escalations", "onboarding", "accountability")


def register_digest_section(key: str, provider: DigestProvider) -> None:
    """Add (or replace) the section `key`; keys outside `SECTION_ORDER` go last."""
    DIGEST_SECTIONS[key] = provider


def ordered_sections() -> list[tuple[str, DigestProvider]]:
    """Registered providers in digest order."""
    known = [(k, DIGEST_SECTIONS[k]) for k in SECTION_ORDER if k in DIGEST_SECTIONS]
    return known + [(k, p) for k, p in DIGEST_SECTIONS.items() if k not in SECTION_ORDER]


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


def team_timezone(sessions: SessionFactory, *, team_id: str, default_timezone: str) -> str:
    """The team's IANA timezone (team setting, else the installation default)."""
    return directory.team_timezone(sessions, team_id=team_id, default=default_timezone)


def get_digest_schedule(
    sessions: SessionFactory, *, team_id: str, default_timezone: str
) -> DigestSchedule:
    """Where and when the team's digest is posted."""

    def setting(key: str) -> str | None:
        return directory.get_team_setting(sessions, team_id=team_id, key=key)

    tz = periods.zone(setting(directory.TEAM_TIMEZONE), default_timezone)
    moment = periods.WeeklyMoment(
        weekday=periods.parse_weekday(setting(DIGEST_WEEKDAY), DEFAULT_WEEKDAY),
        at=periods.parse_clock(setting(DIGEST_TIME), DEFAULT_TIME),
        tz=tz,
    )
    return DigestSchedule(team_id, setting(directory.DIGEST_CHANNEL), moment)


def due_week(schedule: DigestSchedule, now: datetime) -> str:
    """The week whose digest was most recently due: the ISO week before the posting time's."""
    posted_at = schedule.moment.latest_before(now)
    return periods.shift_week(periods.week_of(posted_at, schedule.moment.tz), -1)


def last_week(now: datetime, tz_name: str) -> str:
    """The ISO week that ended most recently at `now` in `tz_name`."""
    return periods.shift_week(periods.week_of(now, periods.zone(tz_name)), -1)


def due_digests(
    sessions: SessionFactory, team_ids: list[str], *, now: datetime, default_timezone: str
) -> list[DueDigest]:
    """For each team with a digest channel, the week whose digest is due at `now`.

    Only the most recent posting time counts, so a bot that was down on Monday still posts
    last week's digest when it starts on Tuesday; the send ledger makes it once per week.
    """
    due = []
    for team_id in team_ids:
        schedule = get_digest_schedule(sessions, team_id=team_id, default_timezone=default_timezone)
        if schedule.channel:
            due.append(DueDigest(team_id, due_week(schedule, now), schedule.channel))
    return due


def build_digest(
    sessions: SessionFactory,
    *,
    team_id: str,
    week: str,
    now: datetime,
    default_timezone: str,
) -> Digest:
    """Ask every registered provider for its section of `week` (ISO, team timezone)."""
    week = periods.parse_week(week)
    schedule = get_digest_schedule(sessions, team_id=team_id, default_timezone=default_timezone)
    start, end = periods.week_bounds(week, schedule.moment.tz)
    sections = []
    for key, provider in ordered_sections():
        try:
            sections.append(provider(sessions, team_id, start, end, now))
        except Exception:
            # One broken section must not cost the team its whole weekly review.
            log.exception("digest section %s failed for team %s", key, team_id)
            sections.append(
                DigestSection(key, key.title(), empty_text="This section could not be computed.")
            )
    return Digest(
        team_id=team_id,
        week=week,
        week_start=start,
        week_end=end,
        timezone=schedule.moment.tz.key,
        channel=schedule.channel,
        sections=tuple(sections),
    )
