"""Real data: the playbook's schedule and KPIs drive the digest end to end."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from bot.deps import Deps
from tests.support.playbook import OWNER, load_small_playbook
from tests.support.schedule import run_and_deliver
from tests.support.slack import SlackDriver, SlackStandin


def test_playbook_team_gets_its_kpi_digest_at_nine_berlin_time(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    load_small_playbook(deps.sessions, clock())
    for at, value in ((datetime(2026, 11, 11, 12, tzinfo=UTC), "20%"), (clock(), "27%")):
        clock.now = at
        assert slack.command("/kpi", f"log activation {value}", user=OWNER).status == 200
    standin.clear()
    clock.now = datetime(2026, 11, 23, 7, 55, tzinfo=UTC)  # 08:55 in Berlin
    run_and_deliver(deps, clock())
    assert [c for c in standin.calls("chat.postMessage") if c.params["channel"] == "C0DIGEST"]
    standin.clear()  # that was W46's, made up at start
    clock.now = datetime(2026, 11, 23, 8, tzinfo=UTC)  # Monday 09:00 Europe/Berlin
    run_and_deliver(deps, clock())
    [digest] = [
        c.params
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == "C0DIGEST" and not c.params.get("thread_ts")
    ]
    text = digest["text"]
    assert "Weekly review · 2026-W47" in text
    assert (
        ":large_green_circle: *Trial-to-paid activation*: 27% ↑ better (last week 20%, target 25%)"
        " · on track · <@UOWNER1>"
    ) in text
    assert "*Time to first value*: - days" in text and "no data" in text
    assert "No feedback this week" in text
