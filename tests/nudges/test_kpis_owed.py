"""Manual KPIs owed this week are nudged to their owner, without a Done button."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.clock import FixedClock
from bot.deps import Deps
from bot.nudges.render import DONE_ACTION, FORM_ACTION, SNOOZE_ACTION, ItemRef
from tests.support.playbook import OWNER, load_small_playbook
from tests.support.schedule import run_and_deliver
from tests.support.slack import SlackDriver, SlackStandin

# 2026-11-23 is a Monday; the small playbook's team is in Europe/Berlin (UTC+1), nudges 10:00.
MONDAY_0930_BERLIN = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, tzinfo=UTC)
TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, tzinfo=UTC)


def _nudges(standin: SlackStandin, user: str) -> list[dict[str, Any]]:
    return [
        c.params
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == user and "overdue item" in c.params["text"]
    ]


def test_owed_kpis_are_nudged_until_logged(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    clock.now = MONDAY_0930_BERLIN
    load_small_playbook(deps.sessions, clock())
    # before the nudge hour nothing is owed yet
    preview = slack.command("/ops", "nudge preview", user=OWNER)
    assert "Nothing of yours is overdue" in preview.reply_text

    clock.now = MONDAY_10_BERLIN
    run_and_deliver(deps, clock())
    [dm] = _nudges(standin, OWNER)
    # both manual KPIs (one owned through process:onboarding); nps_30d is computed: not owed
    assert "*2* overdue items" in dm["text"]
    assert "KPI owed this week: Trial-to-paid activation" in dm["text"]
    assert "`/kpi log activation &lt;value&gt;`" in dm["text"]
    assert "`/kpi log time_to_first_value &lt;value&gt;`" in dm["text"]
    assert "NPS" not in dm["text"]
    actions = [
        e["action_id"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == [FORM_ACTION, SNOOZE_ACTION, FORM_ACTION, SNOOZE_ACTION]

    # a crafted Done is refused with the command to use
    value = ItemRef("kpi", "activation").to_value()
    refused = slack.click(DONE_ACTION, value, user=OWNER, message={"ts": "9.9"})
    assert "/kpi log activation" in refused.reply_text

    logged = slack.command("/kpi", "log activation 27%", user=OWNER)
    assert logged.status == 200
    clock.now = TUESDAY_10_BERLIN
    run_and_deliver(deps, clock())
    dm = _nudges(standin, OWNER)[-1]
    assert "*1* overdue item:" in dm["text"]
    assert "time_to_first_value" in dm["text"] and "activation" not in dm["text"]
