"""ISO weeks in a team's timezone: the period every KPI, digest and nudge is counted in.

A week is written `2026-W47` and runs from Monday 00:00 to the next Monday 00:00 *local
time*; the bounds are returned as aware UTC datetimes, ready for database queries. Across a
DST change a week is 167 or 169 hours long, which is what people mean by "last week".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def zone(tz: str | ZoneInfo) -> ZoneInfo:
    """A ZoneInfo from an IANA name or a ZoneInfo."""
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def week_of(moment: datetime, tz: str | ZoneInfo) -> str:
    """The ISO week (`2026-W47`) that an aware `moment` falls in, seen from `tz`."""
    if moment.tzinfo is None:
        raise ValueError("week_of needs an aware datetime")
    local = moment.astimezone(zone(tz))
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(iso_week: str) -> tuple[int, int]:
    """(year, week) of `2026-W47`; ValueError for anything else."""
    match = _ISO_WEEK.match(iso_week.strip())
    if not match:
        raise ValueError(f"{iso_week!r} is not an ISO week like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    date.fromisocalendar(year, week, 1)  # raises ValueError for week 53 of a 52-week year
    return year, week


def week_bounds(iso_week: str, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of an ISO week in `tz`, as aware UTC datetimes."""
    year, week = parse_week(iso_week)
    monday = date.fromisocalendar(year, week, 1)
    zone_info = zone(tz)
    start = datetime.combine(monday, time(0), tzinfo=zone_info)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone_info)
    return start.astimezone(UTC), end.astimezone(UTC)


def shift_week(iso_week: str, weeks: int) -> str:
    """The ISO week `weeks` after (negative: before) `iso_week`."""
    year, week = parse_week(iso_week)
    monday = date.fromisocalendar(year, week, 1) + timedelta(weeks=weeks)
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def last_weeks(iso_week: str, count: int) -> list[str]:
    """`count` weeks ending with `iso_week`, oldest first."""
    return [shift_week(iso_week, -offset) for offset in range(count - 1, -1, -1)]
