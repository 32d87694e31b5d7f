"""KPI values and targets within what the KPI can be: NPS -100..100, percentages 0..100
unless the playbook says otherwise, finite numbers; `1,250` read as 1250 and then checked.
The parser alone, and `/kpi log|target` through the real app on both databases."""

from __future__ import annotations

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.errors import UserError
from bot.kpis.parse import parse_kpi_value, value_bounds
from bot.playbook.schema import PlaybookInvalidError, parse_playbook
from tests.support.playbook import ADMIN, OWNER, SMALL_PLAYBOOK, load_small_playbook
from tests.support.slack import SlackDriver

PERCENT = value_bounds(unit="%", kind="manual")
NPS = value_bounds(unit="points", kind="nps_30d")


def test_default_bounds_by_unit_and_kind() -> None:
    assert PERCENT is not None and (PERCENT.low, PERCENT.high) == (0, 100)
    assert NPS is not None and (NPS.low, NPS.high) == (-100, 100)
    volume = value_bounds(unit="items", kind="feedback_volume")
    assert volume is not None and (volume.low, volume.high) == (0, None)
    assert value_bounds(unit="days", kind="manual") is None
    custom = value_bounds(unit="%", kind="manual", min_value=-50, max_value=300)
    assert custom is not None and (custom.low, custom.high) == (-50, 300)


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [("1,250", "days", 1250.0), ("1e3", "", 1000.0), ("100%", "%", 100.0), ("0", "%", 0.0)],
)
def test_values_within_bounds_are_read(raw: str, unit: str, expected: float) -> None:
    bounds = value_bounds(unit=unit, kind="manual")
    assert parse_kpi_value(raw, unit=unit, kpi_key="k", bounds=bounds) == expected


@pytest.mark.parametrize(
    ("raw", "bounds", "says"),
    [
        ("1,250", PERCENT, "`1,250` is 1250, which is outside what k can be (a percentage"),
        ("-1", PERCENT, "from 0 to 100"),
        ("101", NPS, "an NPS: from -100 to 100"),
        ("-101", NPS, "an NPS"),
        ("inf", None, "is not a number"),
        ("nan", None, "is not a number"),
        ("-inf", None, "is not a number"),
        ("1e999", None, "too large"),
        ("9" * 400, None, "too large"),
    ],
)
def test_values_outside_bounds_or_not_finite_are_refused(
    raw: str, bounds: object, says: str
) -> None:
    with pytest.raises(UserError) as refused:
        parse_kpi_value(raw, unit="%", kpi_key="k", bounds=bounds)  # type: ignore[arg-type]
    assert says in refused.value.message


def test_playbook_targets_and_bounds_are_checked() -> None:
    with pytest.raises(PlaybookInvalidError) as refused:
        parse_playbook(SMALL_PLAYBOOK.replace("target: 40", "target: 500"), "p.yaml")
    assert "target 500 is outside what this KPI can be (an NPS" in str(refused.value)
    with pytest.raises(PlaybookInvalidError) as swapped:
        parse_playbook(
            SMALL_PLAYBOOK.replace(
                "    target: 25\n", "    target: 25\n    min: 50\n    max: 10\n"
            ),
            "p.yaml",
        )
    assert "min (50) must be below max (10)" in str(swapped.value)
    widened = parse_playbook(
        SMALL_PLAYBOOK.replace("    target: 25\n", "    target: 150\n    max: 200\n"), "p.yaml"
    )
    assert [k.max for k in widened.kpis if k.key == "activation"] == [200]
    with pytest.raises(PlaybookInvalidError):
        parse_playbook(SMALL_PLAYBOOK.replace("target: 25", "target: .inf"), "p.yaml")
    with pytest.raises(PlaybookInvalidError) as cadence:
        parse_playbook(SMALL_PLAYBOOK.replace("    target: 25\n", "    cadence: daily\n"), "p.yaml")
    assert "cadence" in str(cadence.value)


@pytest.fixture
def team(deps: Deps) -> Deps:
    load_small_playbook(deps.sessions, deps.clock())
    return deps


@pytest.mark.usefixtures("team")
@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("target nps 500", "an NPS: from -100 to 100"),
        ("target activation 101", "a percentage: from 0 to 100"),
        ("target activation 1,250", "is 1250, which is outside"),
        ("target activation inf", "is not a number"),
        ("log activation 1,250", "is 1250, which is outside"),
        ("log activation 1e999", "too large"),
        ("log activation nan", "is not a number"),
        ("log activation -3%", "from 0 to 100"),
    ],
)
def test_commands_refuse_out_of_bounds_values_and_store_nothing(
    slack: SlackDriver, text: str, says: str
) -> None:
    reply = slack.command("/kpi", text, user=ADMIN).reply_text
    assert says in reply
    assert "Example:" in reply
    shown = slack.command("/kpi", "list", user=ADMIN).reply_text
    assert "target ≥ 25%" in shown and "target ≥ 40" in shown  # targets unchanged
    assert "activation`) —" not in shown  # no value logged


@pytest.mark.usefixtures("team")
def test_a_target_within_bounds_is_set_and_days_take_thousands(slack: SlackDriver) -> None:
    assert "now has target ≥ -20" in slack.command("/kpi", "target nps -20", user=ADMIN).reply_text
    logged = slack.command("/kpi", "log time_to_first_value 1,250", user=OWNER).reply_text
    assert "Logged 1250 days" in logged


@pytest.mark.usefixtures("team")
def test_kpi_log_replacing_the_weeks_value_says_so_and_keeps_the_previous(
    slack: SlackDriver, clock: FixedClock
) -> None:
    first = slack.command("/kpi", "log activation 22% first count", user=OWNER).reply_text
    assert "Replaced" not in first
    clock.advance(hours=1)
    second = slack.command("/kpi", "log activation 27%", user=ADMIN).reply_text
    assert "Logged 27%" in second
    assert f"Replaced 22% (“first count”) logged by <@{OWNER}>" in second
    assert "for 2026-W47" in second
