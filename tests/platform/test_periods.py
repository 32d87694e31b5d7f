"""Weeks, weekdays and clock times as the schedule settings spell them."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot import periods


def test_week_bounds_follow_the_local_calendar_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = periods.week_bounds("2026-W43", berlin)
    assert start == datetime(2026, 10, 18, 22, tzinfo=UTC)  # Monday 00:00 CEST
    assert end == datetime(2026, 10, 25, 23, tzinfo=UTC)  # next Monday 00:00 CET
    assert (end - start).total_seconds() == 169 * 3600


def test_week_of_and_shift_cross_year_ends() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert periods.week_of(datetime(2026, 12, 31, 16, tzinfo=UTC), tokyo) == "2026-W53"
    assert periods.shift_week("2026-W53", 1) == "2027-W01"
    assert periods.shift_week("2027-W01", -1) == "2026-W53"


@pytest.mark.parametrize("bad", ["2026-47", "2025-W53", "W47", "2026-W0", "", "2026-W1a"])
def test_parse_week_refuses_what_is_not_an_iso_week(bad: str) -> None:
    with pytest.raises(ValueError, match=r"week"):
        periods.parse_week(bad)


@pytest.mark.parametrize("far", ["0001-W01", "0999-W10", "1000-W01", "1969-W52", "9999-W52"])
def test_parse_week_refuses_weeks_whose_neighbours_leave_the_calendar(far: str) -> None:
    """A digest reads the week before and 8 weeks of KPI trend: every week parse_week
    accepts must leave those countable (year 1 shifted back is year 0; 9999's last week
    ends in year 10000)."""
    with pytest.raises(ValueError, match=r"is not a week Opsloop can show"):
        periods.parse_week(far)


def test_the_weeks_around_the_first_and_last_allowed_can_be_counted() -> None:
    first = periods.parse_week(f"{periods.FIRST_YEAR}-W01")
    last = periods.parse_week(f"{periods.LAST_YEAR}-W52")
    # what a digest reads around a week: the quarter before, the week after
    assert len(periods.last_weeks(first, 13)) == 13
    periods.week_bounds(periods.shift_week(first, -13), "UTC")
    periods.week_bounds(periods.shift_week(last, 1), "Pacific/Kiritimati")


def test_parse_week_normalises() -> None:
    assert periods.parse_week(" 2026-W7 ") == "2026-W07"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("monday", 0), ("Fri", 4), ("6", 6), ("sunday", 6), (None, 0), ("someday", 0), ("tu", 0)],
)
def test_parse_weekday(text: str | None, expected: int) -> None:
    assert periods.parse_weekday(text) == expected


def test_parse_weekdays_and_clock() -> None:
    assert periods.parse_weekdays("mon, wed fri", (0,)) == (0, 2, 4)
    assert periods.parse_weekdays("nonsense", (1, 2)) == (1, 2)
    assert periods.parse_clock("9", time(1)) == time(9)
    assert periods.parse_clock("16:30", time(1)) == time(16, 30)
    assert periods.parse_clock("25:00", time(1)) == time(1)
    assert periods.parse_clock("noon", time(1)) == time(1)


def test_unknown_timezone_falls_back() -> None:
    assert periods.zone("Mars/Olympus", "Europe/Berlin").key == "Europe/Berlin"
    assert periods.zone(None, "nope").key == "UTC"


def test_weekly_moment_latest_before() -> None:
    moment = periods.WeeklyMoment(0, time(9), ZoneInfo("America/New_York"))
    # Monday 2026-11-02 08:59 EST is before that week's 09:00: the previous Monday counts
    assert moment.latest_before(datetime(2026, 11, 2, 13, 59, tzinfo=UTC)) == datetime(
        2026, 10, 26, 13, tzinfo=UTC
    )
    assert moment.latest_before(datetime(2026, 11, 2, 14, tzinfo=UTC)) == datetime(
        2026, 11, 2, 14, tzinfo=UTC
    )
