"""Times in nudges as they truly are: overdue by how long, due times labelled in the reader's
own zone (never a local time labelled UTC), and no snooze for a breached SEV1 / SEV2."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import periods
from bot.clock import FixedClock
from bot.deps import Deps
from bot.nudges import service as nudges
from bot.nudges.models import Nudge, OverdueItem
from bot.nudges.render import SNOOZE_ACTION, ItemRef, render_nudge
from bot.org.models import PersonInfo
from bot.org.people import record_person
from bot.slack.mrkdwn import local_time
from storage.db import SessionFactory
from tests.support.escalations import OWNER, TEAM, raise_escalation, setup_roles
from tests.support.playbook import OWNER as KPI_OWNER
from tests.support.playbook import load_small_playbook
from tests.support.slack import SlackDriver

MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, tzinfo=UTC)  # 10:00 CET: KPIs fall due
_FALLBACK = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]+)>")


def _item(due_at: datetime) -> OverdueItem:
    return OverdueItem("task", "1", "Send the contract", "U0001", due_at)


def _line(due_at: datetime, now: datetime, tz: str = "UTC") -> str:
    nudge = Nudge("T1", "nudge", "U0001", now.date().isoformat(), (_item(due_at),), 3, tz)
    text, _ = render_nudge(nudge, now=now)
    return text


@pytest.mark.parametrize(
    ("late", "label"),
    [
        (timedelta(seconds=20), "due now"),
        (timedelta(minutes=25), "overdue 25 min"),
        (timedelta(hours=11, minutes=1), "overdue 11 h"),
        (timedelta(days=3, hours=5), "overdue 3 d"),
    ],
)
def test_overdue_by_how_long(late: timedelta, label: str) -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert label in _line(now - late, now)


def test_due_yesterday_late_evening_is_not_due_today() -> None:
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    text = _line(datetime(2026, 11, 23, 22, 59, tzinfo=UTC), now)
    assert "due today" not in text and "overdue 11 h" in text


@pytest.mark.parametrize(
    ("tz", "label"),
    [
        ("Europe/Berlin", "Mon 23 Nov 10:00 CET"),
        ("UTC", "Mon 23 Nov 09:00 UTC"),
        ("America/New_York", "Mon 23 Nov 04:00 EST"),
    ],
)
def test_a_kpi_due_at_nine_utc_is_labelled_in_the_readers_zone(
    deps: Deps, slack: SlackDriver, clock: FixedClock, tz: str, label: str
) -> None:
    clock.now = MONDAY_10_BERLIN
    load_small_playbook(deps.sessions, clock())  # team in Europe/Berlin, nudges at 10:00
    record_person(
        deps.sessions, team_id=TEAM, info=PersonInfo(KPI_OWNER, "Dana", tz, False), now=clock()
    )
    clock.advance(hours=2)
    text = slack.command("/ops", "nudge preview", user=KPI_OWNER).reply_text
    fallbacks = _FALLBACK.findall(text)
    assert label in fallbacks, text
    assert "overdue 2 h" in text
    if tz == "Europe/Berlin":
        assert "10:00 UTC" not in text


def test_a_time_is_never_labelled_utc_in_another_zone() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert local_time(at).endswith("|2026-11-23 09:00 UTC>")
    assert local_time(at, ZoneInfo("Europe/Berlin")).endswith("|Mon 23 Nov 10:00 CET>")
    summer = datetime(2026, 7, 6, 9, tzinfo=UTC)
    assert periods.zone_label(summer, ZoneInfo("Europe/Berlin")) == "Mon 06 Jul 11:00 CEST"


def _buttons(blocks: list[Any]) -> list[str]:
    return [e.action_id for b in blocks if b.type == "actions" for e in b.elements]


def test_a_breached_sev1_offers_no_snooze_and_refuses_one(
    deps: Deps, slack: SlackDriver, sessions: SessionFactory, clock: FixedClock
) -> None:
    setup_roles(sessions, clock)
    e = raise_escalation(slack, sessions, clock, severity="sev1")
    sev4 = raise_escalation(slack, sessions, clock, severity="sev4", title="Typo on the invoice")
    clock.advance(days=1, minutes=1)  # both acknowledgement clocks breached
    nudge = nudges.preview_nudge(
        sessions,
        sources=deps.nudge_sources,
        team_id=TEAM,
        user_id=OWNER,
        now=clock(),
        default_timezone="UTC",
    )
    text, blocks = render_nudge(nudge, now=clock())
    assert "A breached SEV1 or SEV2 cannot be snoozed" in text
    # the SEV1's ack and resolve clocks: Done / nothing; the SEV4's ack: Done and Snooze
    assert _buttons(blocks).count(SNOOZE_ACTION) == 1
    value = ItemRef("escalation", f"{e.id}:ack").to_value()
    refused = slack.click(SNOOZE_ACTION, value, user=OWNER, message={"ts": "9.9"})
    assert "A breached SEV1 cannot be snoozed" in refused.reply_text
    assert "Nothing was snoozed" in refused.reply_text
    after = slack.command("/ops", "nudge preview", user=OWNER).reply_text
    assert f"Acknowledge escalation #{e.id}" in after and "Nothing of yours" not in after
    # a SEV4 breach may still be snoozed
    sev4_value = ItemRef("escalation", f"{sev4.id}:ack").to_value()
    snoozed = slack.click(SNOOZE_ACTION, sev4_value, user=OWNER, message={"ts": "9.9"})
    assert snoozed.status == 200 and "cannot be snoozed" not in snoozed.reply_text
    assert f"#{sev4.id}" not in slack.command("/ops", "nudge preview", user=OWNER).reply_text


def test_business_days_skip_the_weekend() -> None:
    friday = date(2026, 11, 20)
    assert periods.add_business_days(friday, 0) == friday
    assert periods.add_business_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert periods.add_business_days(friday, 5) == date(2026, 11, 27)
    assert periods.add_business_days(date(2026, 11, 21), 0) == date(2026, 11, 23)  # Saturday
