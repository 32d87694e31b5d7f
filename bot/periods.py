"""Periods in a team's or a person's own timezone: ISO weeks, local days, schedule times.

A week is written `2026-W47` and runs from Monday 00:00 to the next Monday 00:00 *local
time*; bounds are returned as aware UTC datetimes. Across a DST change a week is 167 or
169 hours long, which is what people mean by "last week".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The ZoneInfo of `name`, or of `fallback` when `name` is empty or unknown, else UTC.

    The one timezone fallback: a person's zone falls back to the team's, the team's to the
    installation's (OPSLOOP_TIMEZONE), and that to UTC.
    """
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _as_zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def week_of(moment: datetime, tz: str | ZoneInfo) -> str:
    """The ISO week (`2026-W47`) an aware `moment` falls in, seen from `tz`."""
    if moment.tzinfo is None:
        raise ValueError("week_of needs an aware datetime")
    year, week, _ = moment.astimezone(_as_zone(tz)).isocalendar()
    return _format_week(year, week)


# The weeks a person may ask for. A digest also reads the weeks around the one asked for
# (the week before, 8 weeks of KPI trend), which must stay inside the calendar Python counts
# (years 1 to 9999): `0001-W01`'s week before is in year 0, `9999-W52` ends in year 10000.
FIRST_YEAR = 1970
LAST_YEAR = 9998


class WeekOutOfRangeError(ValueError):
    """An ISO week outside FIRST_YEAR..LAST_YEAR."""


def _week_parts(iso_week: str) -> tuple[int, int]:
    """(year, week) of `2026-W47`; ValueError for anything that is not an existing ISO week."""
    match = _ISO_WEEK.match(iso_week.strip())
    if not match:
        raise ValueError(f"{iso_week!r} is not an ISO week like 2026-W47")
    year, week = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:  # week 53 of a 52-week year, week 0, year 0
        raise ValueError(f"{iso_week!r} is not an ISO week like 2026-W47") from None
    return year, week


def _format_week(year: int, week: int) -> str:
    return f"{year:04d}-W{week:02d}"


def parse_week(iso_week: str) -> str:
    """A week someone asked for, `2026-W47`, normalised; ValueError (saying why) for anything
    that is not an existing ISO week between FIRST_YEAR and LAST_YEAR."""
    year, week = _week_parts(iso_week)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise WeekOutOfRangeError(
            f"{iso_week.strip()!r} is not a week Opsloop can show: "
            f"use a year from {FIRST_YEAR} to {LAST_YEAR}"
        )
    return _format_week(year, week)


def week_monday(iso_week: str) -> date:
    """The Monday of an ISO week."""
    year, week = _week_parts(iso_week)
    return date.fromisocalendar(year, week, 1)


def week_bounds(iso_week: str, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of an ISO week in `tz`, as aware UTC datetimes."""
    tz = _as_zone(tz)
    monday = week_monday(iso_week)
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def shift_week(iso_week: str, weeks: int) -> str:
    """The ISO week `weeks` after (negative: before) `iso_week`."""
    year, week, _ = (week_monday(iso_week) + timedelta(weeks=weeks)).isocalendar()
    return _format_week(year, week)


def last_weeks(iso_week: str, count: int) -> list[str]:
    """`count` weeks ending with `iso_week`, oldest first."""
    return [shift_week(iso_week, -offset) for offset in range(count - 1, -1, -1)]


# -- months (`2026-11`), and a KPI's period by its cadence -------------------------------
# A month runs from the 1st 00:00 to the next 1st 00:00 local time, like a week does.

WEEKLY, MONTHLY = "weekly", "monthly"
CADENCES = (WEEKLY, MONTHLY)


def month_of(moment: datetime, tz: str | ZoneInfo) -> str:
    """The month (`2026-11`) an aware `moment` falls in, seen from `tz`."""
    if moment.tzinfo is None:
        raise ValueError("month_of needs an aware datetime")
    local = moment.astimezone(_as_zone(tz))
    return f"{local.year}-{local.month:02d}"


def _month_start(month: str) -> date:
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{month!r} is not a month like 2026-11")
    return date(int(match.group(1)), int(match.group(2)), 1)


def shift_month(month: str, months: int) -> str:
    """The month `months` after (negative: before) `month`."""
    start = _month_start(month)
    index = start.year * 12 + start.month - 1 + months
    return f"{index // 12}-{index % 12 + 1:02d}"


def month_bounds(month: str, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a month in `tz`, as aware UTC datetimes."""
    tz = _as_zone(tz)
    start = _month_start(month)
    end = _month_start(shift_month(month, 1))
    return local_midnight(start, tz), local_midnight(end, tz)


def period_of(moment: datetime, tz: str | ZoneInfo, cadence: str) -> str:
    """The week (`2026-W47`) or month (`2026-11`) `moment` is in, by `cadence`."""
    return month_of(moment, tz) if cadence == MONTHLY else week_of(moment, tz)


def period_bounds(period: str, tz: str | ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a week (`2026-W47`) or a month (`2026-11`) in `tz`, as UTC."""
    return month_bounds(period, tz) if _MONTH.match(period.strip()) else week_bounds(period, tz)


def last_periods(period: str, count: int) -> list[str]:
    """`count` weeks or months ending with `period`, oldest first."""
    if _MONTH.match(period.strip()):
        return [shift_month(period, -offset) for offset in range(count - 1, -1, -1)]
    return last_weeks(period, count)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of `day` in `tz`, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_weekday(value: str | None, default: int = 0) -> int:
    """0 (Monday) … 6 (Sunday) from `monday`, `mon` or `0`-`6`; `default` when unset/bad."""
    if value is None:
        return default
    text = value.strip().lower()
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    for index, name in enumerate(WEEKDAYS):
        if text and name.startswith(text[:3]) and len(text) >= 3:
            return index
    return default


def parse_weekdays(value: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma- or space-separated weekday list; `default` when unset or unreadable."""
    if not value:
        return default
    days = {parse_weekday(part, -1) for part in re.split(r"[,\s]+", value) if part}
    days.discard(-1)
    return tuple(sorted(days)) or default


def parse_clock(value: str | None, default: time) -> time:
    """`09:00`, `9` or `9:30` as a time; `default` when unset or unreadable."""
    if value is None:
        return default
    match = _CLOCK.match(value.strip())
    if not match:
        return default
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return default
    return time(hour, minute)


@dataclass(frozen=True)
class WeeklyMoment:
    """A weekly time in a timezone, e.g. Monday 09:00 Europe/Berlin."""

    weekday: int
    at: time
    tz: ZoneInfo

    def latest_before(self, now: datetime) -> datetime:
        """The most recent occurrence at or before `now`, as aware UTC."""
        local = now.astimezone(self.tz)
        monday = local.date() - timedelta(days=local.weekday())
        for weeks_back in (0, 1):
            day = monday + timedelta(days=self.weekday, weeks=-weeks_back)
            moment = datetime.combine(day, self.at, tzinfo=self.tz).astimezone(UTC)
            if moment <= now:
                return moment
        raise AssertionError("a weekly moment always occurred within the last two weeks")


def duration_text(seconds: float) -> str:
    """How long, in words: `2 days 3 hours`, `4 hours 5 minutes`, `12 minutes`, `45 seconds`.

    The two largest units only: the reader wants the size of it, not a stopwatch.
    """
    total = int(abs(seconds))
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    if minutes:
        return unit(minutes, "minute")
    return unit(secs, "second")


def short_duration(seconds: float) -> str:
    """How long, in one unit at a glance: `25 min`, `11 h`, `3 d` (rounded down; at least
    `1 min`). For "overdue 11 h", where the size matters more than the minutes."""
    total = max(int(abs(seconds)), 60)
    if total < 3600:
        return f"{total // 60} min"
    if total < 86400:
        return f"{total // 3600} h"
    return f"{total // 86400} d"


def overdue_text(due_at: datetime, now: datetime) -> str:
    """`overdue 11 h`, `overdue 3 d`; `due now` in its first minute; `due in 25 min` before."""
    seconds = (now - due_at).total_seconds()
    if seconds < 0:
        return f"due in {short_duration(seconds)}"
    if seconds < 60:
        return "due now"
    return f"overdue {short_duration(seconds)}"


def zone_label(at: datetime, tz: ZoneInfo) -> str:
    """`Wed 18 Nov 10:00 CET`: the moment in `tz`, labelled with that zone's own name for it
    (never a local time labelled UTC)."""
    local = at.astimezone(tz)
    return f"{local:%a %d %b %H:%M} {local.tzname() or tz.key}"


def add_business_days(day: date, days: int) -> date:
    """`days` working days (Monday to Friday) after `day`; a weekend `day` counts from the
    Monday after it, so 0 business days from a Saturday is that Monday."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day
