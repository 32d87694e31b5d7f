"""The weekly review digest: which digests are due, and what goes in them.

The sections are passed in (`bot.digest.sections.SECTIONS` through `Deps.digest_sections`),
in the order the digest shows them. The built-in templates in `bot/digest/templates/<key>.j2`
expect these facts (plain data; user-derived strings are escaped by the templates):

- `kpis`: `kpis` = list of {name, unit, this_week, last_week, target, status, owner_id,
  last_label (`last week`, or `last month` for a monthly KPI: then the values are months)};
  status is `on_track`, `at_risk`, `off_track` or `no_data`.
- `feedback`: count, nps, nps_change, top_tags = [{tag, count}],
  detractor_quotes = [{text, customer}] (at most 3 are shown).
- `escalations`: opened, resolved, open_by_severity = {sev1: n, …}, sla_breaches,
  median_ack_minutes.
- `onboarding`: started, completed, median_days_to_complete, stuck = [{subject, days}].
- `accountability`: overdue_by_owner = [{owner_id, count}], unowned (checklist items whose
  role nobody holds), total.
Any other key is rendered by `section.j2` as one line per fact.
A section with `empty_text` set is empty and shows that sentence ("No escalations this week").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot import periods
from bot.digest.models import Digest, DigestSchedule, DigestSection, DueDigest
from bot.nudges.service import NudgeSource
from bot.org import service as directory
from bot.org import team_settings
from storage.db import SessionFactory

log = logging.getLogger(__name__)

DIGEST_KIND = "digest"


@dataclass(frozen=True)
class DigestWeek:
    """What a section is asked about: one team's week [start, end), evaluated at `now`.

    `nudge_sources` lets a section count overdue items the way the nudges do.
    """

    sessions: SessionFactory
    team_id: str
    start: datetime
    end: datetime
    now: datetime
    nudge_sources: tuple[NudgeSource, ...] = ()

    @property
    def as_of(self) -> datetime:
        """The moment every section counts at: the week's end, or now for a running week,
        so nothing is late before it is due and every section counts at the same moment."""
        return min(self.end, self.now)


@dataclass(frozen=True)
class SectionProvider:
    """One section of the digest: its key (the template name), title and how it is built."""

    key: str
    title: str
    build: Callable[[DigestWeek], DigestSection]


def get_digest_schedule(
    sessions: SessionFactory, *, team_id: str, default_timezone: str
) -> DigestSchedule:
    """Where and when the team's digest is posted."""

    def setting(key: str) -> str | None:
        return directory.get_team_setting(sessions, team_id=team_id, key=key)

    tz = periods.zone(setting(team_settings.TEAM_TIMEZONE), default_timezone)
    moment = periods.WeeklyMoment(
        weekday=periods.parse_weekday(
            setting(team_settings.DIGEST_WEEKDAY), team_settings.DEFAULT_DIGEST_WEEKDAY
        ),
        at=periods.parse_clock(
            setting(team_settings.DIGEST_TIME), team_settings.DEFAULT_DIGEST_TIME
        ),
        tz=tz,
    )
    return DigestSchedule(team_id, setting(team_settings.DIGEST_CHANNEL), moment)


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
    sections: Sequence[SectionProvider],
    nudge_sources: tuple[NudgeSource, ...] = (),
    team_id: str,
    week: str,
    now: datetime,
    default_timezone: str,
) -> Digest:
    """Ask every section provider, in order, for its part of `week` (ISO, team timezone)."""
    week = periods.parse_week(week)
    schedule = get_digest_schedule(sessions, team_id=team_id, default_timezone=default_timezone)
    start, end = periods.week_bounds(week, schedule.moment.tz)
    scope = DigestWeek(sessions, team_id, start, end, now, nudge_sources)
    built = []
    for provider in sections:
        try:
            built.append(provider.build(scope))
        except Exception:
            # One broken section must not cost the team its whole weekly review.
            log.exception("digest section %s failed for team %s", provider.key, team_id)
            built.append(
                DigestSection(
                    provider.key, provider.title, empty_text="This section could not be computed."
                )
            )
    return Digest(
        team_id=team_id,
        week=week,
        week_start=start,
        week_end=end,
        timezone=schedule.moment.tz.key,
        channel=schedule.channel,
        sections=tuple(built),
        running_as_of=scope.as_of if scope.now < end else None,
    )
