"""ISO weeks in the team's timezone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.periods import last_weeks, shift_week, week_bounds, week_of


def test_week_bounds_are_local_midnight_mondays_in_utc() -> None:
    start, end = week_bounds("2026-W47", "Europe/Berlin")
    assert start == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # Mon 16 Nov 00:00 CET
    assert end == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)


def test_week_across_dst_change_is_not_168_hours() -> None:
    start, end = week_bounds("2026-W13", "Europe/Berlin")  # DST starts Sun 29 Mar 2026
    assert (end - start).total_seconds() / 3600 == 167


def test_week_of_depends_on_timezone() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin.
    moment = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert week_of(moment, "UTC") == "2026-W47"
    assert week_of(moment, "Europe/Berlin") == "2026-W48"
    assert week_of(moment, "America/Los_Angeles") == "2026-W47"


def test_shift_and_last_weeks_cross_the_year() -> None:
    assert shift_week("2027-W01", -1) == "2026-W53"
    assert last_weeks("2027-W02", 3) == ["2026-W53", "2027-W01", "2027-W02"]


@pytest.mark.parametrize("bad", ["2026-47", "2025-W53", "W47"])
def test_bad_week_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        week_bounds(bad, "UTC")


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        week_of(datetime(2026, 1, 1), "UTC")
