"""Reading KPI values with units: accept what is unambiguous, refuse the rest clearly."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from bot.kpis.models import AT_RISK, NO_DATA, NO_TARGET, OFF_TRACK, ON_TRACK, kpi_status
from bot.kpis.parse import parse_kpi_value


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        ("42", "%", 42.0),
        ("42%", "%", 42.0),
        ("42 %", "percent", 42.0),
        ("3.5d", "days", 3.5),
        ("3.5 days", "days", 3.5),
        ("2h", "minutes", 120.0),
        ("1.5w", "days", 10.5),
        ("45m", "minutes", 45.0),
        ("1,250", "", 1250.0),
        ("-3", "points", -3.0),
        ("40 points", "points", 40.0),
        ("$900", "$", 900.0),
        (".5", "", 0.5),
    ],
)
def test_accepted_values(raw: str, unit: str, expected: float) -> None:
    assert parse_kpi_value(raw, unit=unit, kpi_key="k") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "unit", "says"),
    [
        ("abc", "%", "is not a number"),
        ("forty", "", "is not a number"),
        ("nan", "", "is not a number"),
        ("42%", "points", "is a percentage, but k is measured in points"),
        ("42%", "", "measured in plain numbers"),
        ("3.5d", "%", "is a duration, but k is measured in %"),
        ("3m", "days", "ambiguous (minutes or months?)"),
        ("3,5", "days", "ambiguous: use a dot for decimals"),
        ("12kg", "days", "I don't know the unit `kg`"),
        ("$5", "%", "is money"),
    ],
)
def test_refused_values_say_why(raw: str, unit: str, says: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_kpi_value(raw, unit=unit, kpi_key="k")
    assert says in caught.value.message
    assert caught.value.example


@pytest.mark.parametrize(
    ("value", "target", "direction", "status"),
    [
        (25, 25, "higher", ON_TRACK),
        (23, 25, "higher", AT_RISK),  # within 10% of the target
        (22, 25, "higher", OFF_TRACK),
        (10, 10, "lower", ON_TRACK),
        (11, 10, "lower", AT_RISK),
        (11.5, 10, "lower", OFF_TRACK),
        (1, 0, "lower", OFF_TRACK),
        (None, 10, "lower", NO_DATA),
        (3, None, "lower", NO_TARGET),
    ],
)
def test_status_against_target(
    value: float | None, target: float | None, direction: str, status: str
) -> None:
    assert kpi_status(value, target, direction) == status


@pytest.mark.parametrize("raw", ["9" * 400, "-" + "9" * 30, "1,000,000,000,000,000,000"])
def test_numbers_beyond_any_kpi_are_refused_with_a_true_message(raw: str) -> None:
    """Before: 400 nines were stored as inf and the JSON export wrote invalid `Infinity`."""
    with pytest.raises(UserError, match="too large for a KPI value"):
        parse_kpi_value(raw, unit="", kpi_key="arr")
