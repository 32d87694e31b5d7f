"""Real escalations in the digest and in the nudges: every number from the records made here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import FixedClock
from bot.deps import Deps
from bot.escalations import service
from bot.escalations.render import ACKNOWLEDGE
from bot.nudges.render import DONE_ACTION, SNOOZE_ACTION, ItemRef
from bot.org import service as directory
from bot.org import team_settings
from tests.support.escalations import (
    OWNER,
    TEAM,
    press,
    raise_escalation,
    setup_roles,
    submit_resolve,
    thread_posts,
    updates_of,
)
from tests.support.schedule import run_and_deliver
from tests.support.slack import ApiCall, Result, SlackDriver, SlackStandin

DIGEST = "C0DIGEST"
WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)  # Monday of ISO week 2026-W47
DIGEST_DUE = datetime(2026, 11, 23, 9, tzinfo=UTC)


def _setup_team(deps: Deps, clock: FixedClock) -> None:
    setup_roles(deps.sessions, clock)
    for key, value in (
        (team_settings.DIGEST_CHANNEL, DIGEST),
        (team_settings.TEAM_TIMEZONE, "UTC"),
    ):
        directory.set_team_setting(deps.sessions, team_id=TEAM, key=key, value=value)


def _digest_text(standin: SlackStandin) -> str:
    [post] = [c for c in standin.calls("chat.postMessage") if c.params["channel"] == DIGEST]
    return "\n".join(b["text"]["text"] for b in post.params["blocks"] if b["type"] == "section")


def _at(clock: FixedClock, moment: datetime) -> None:
    clock.now = moment


def test_digest_escalation_section_counts_the_week(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    _setup_team(deps, clock)
    # The week before: sev4, acknowledged in time, its resolve clock (7 days) runs out in W47.
    _at(clock, WEEK_START - timedelta(days=6, hours=-9))  # Tue 10 Nov 09:00
    old = raise_escalation(slack, deps.sessions, clock, severity="sev4", title="Old one")
    clock.advance(hours=1)
    press(slack, ACKNOWLEDGE, old, user=OWNER)
    # W47: sev1 acked after 10 min and resolved in time.
    _at(clock, WEEK_START + timedelta(hours=8))
    fast = raise_escalation(slack, deps.sessions, clock, severity="sev1", title="Fast")
    clock.advance(minutes=10)
    press(slack, ACKNOWLEDGE, fast, user=OWNER)
    clock.advance(hours=2)
    assert submit_resolve(slack, fast.id, user=OWNER).status == 200
    # sev2 acked after 90 min (ack due after 60: breach), never resolved (breach on Wed).
    _at(clock, WEEK_START + timedelta(days=1, hours=9))
    late = raise_escalation(slack, deps.sessions, clock, severity="sev2", title="Late ack")
    clock.advance(minutes=90)
    press(slack, ACKNOWLEDGE, late, user=OWNER)
    # sev3 acked after 30 min, unresolved past its 3-day resolve clock (Sat): a breach.
    _at(clock, WEEK_START + timedelta(days=2, hours=12))
    raise_escalation(slack, deps.sessions, clock, severity="sev3", title="<b>Evil</b> & <!channel>")
    evil = service.list_escalations(
        deps.sessions, team_id=TEAM, scope="all", user_id=OWNER, now=clock()
    )[0]
    clock.advance(minutes=30)
    press(slack, ACKNOWLEDGE, evil, user=OWNER)
    # Opened after the week ended: not in W47's numbers.
    _at(clock, DIGEST_DUE - timedelta(minutes=30))
    raise_escalation(slack, deps.sessions, clock, severity="sev1", title="Next week")

    _at(clock, DIGEST_DUE)
    run_and_deliver(deps, clock())
    body = _digest_text(standin)
    # opened 3 (fast, late, evil) · resolved 1 (fast) · breaches: late ack, late resolve,
    # evil resolve, old resolve = 4 · median of 10, 90, 30 min = 30 min
    assert "Opened *3* · resolved *1* · SLA breaches *4* · median time to acknowledge *30 min*" in (
        body
    )
    assert "Still open: sev2 1 · sev3 1 · sev4 1" in body
    assert f"#{evil.id} &lt;b&gt;Evil&lt;/b&gt; &amp; &lt;!channel&gt; (sev3, resolve)" in body
    assert f"#{late.id} Late ack (sev2, ack)" in body and f"#{old.id} Old one" in body
    assert "<!channel>" not in body and "Next week" not in body


def test_empty_week_says_no_escalations(
    deps: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    _setup_team(deps, clock)
    _at(clock, DIGEST_DUE)
    run_and_deliver(deps, clock())
    body = _digest_text(standin)
    assert "No escalations this week" in body
    assert "No onboarding checklists this week" in body


def _nudges(standin: SlackStandin, user: str) -> list[ApiCall]:
    """The nudges `user` got (not the DM telling them an escalation is theirs)."""
    return [
        c
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == user and "overdue item" in c.params["text"]
    ]


def _dms(standin: SlackStandin, user: str) -> list[dict[str, Any]]:
    return [c.params for c in _nudges(standin, user)]


def _click_in(slack: SlackDriver, nudge: ApiCall, action: str, value: str) -> Result:
    """Press a button of the nudge DM as delivered (its DM channel and ts)."""
    return slack.click(
        action,
        value,
        user=nudge.params["channel"],
        channel=nudge.response["channel"],
        message={"ts": nudge.response["ts"], "text": nudge.params["text"]},
    )


def _buttons(dm: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in dm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_overdue_escalation_clocks_are_nudged_and_done_acknowledges(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    _setup_team(deps, clock)
    _at(clock, datetime(2026, 11, 23, 8, tzinfo=UTC))  # Monday
    e = raise_escalation(slack, deps.sessions, clock, severity="sev2", title="Card <fails>")
    _at(clock, datetime(2026, 11, 23, 10, tzinfo=UTC))  # ack was due at 09:00
    run_and_deliver(deps, clock())
    [nudge] = _nudges(standin, OWNER)
    dm = nudge.params
    assert f"Acknowledge escalation #{e.id} (SEV2): Card &lt;fails&gt;" in dm["text"]
    # A breached SEV2 is not offered a snooze, and a crafted Snooze is refused.
    [(done, value)] = _buttons(dm)
    assert done == DONE_ACTION and "cannot be snoozed" in dm["text"]
    assert ItemRef.from_value(value) == ItemRef("escalation", f"{e.id}:ack")
    refused = _click_in(slack, nudge, SNOOZE_ACTION, value)
    assert "A breached SEV2 cannot be snoozed" in refused.reply_text
    assert "Nothing was snoozed" in refused.reply_text

    result = _click_in(slack, nudge, DONE_ACTION, value)
    # Acked with nothing to say: the nudge DM itself is updated (through the outbox).
    assert result.status == 200 and not result.body and not result.of("response_url")
    [refreshed] = [
        u
        for u in result.of("chat.update")
        if (u.params["channel"], u.params["ts"])
        == (nudge.response["channel"], nudge.response["ts"])
    ]
    assert "Marked done" in refreshed.params["text"]
    assert "Nothing of yours is overdue" in refreshed.params["text"]
    acked = service.get_escalation(deps.sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert (acked.status, acked.acknowledged_by) == ("acknowledged", OWNER)
    # the channel message is re-rendered without its Acknowledge button, the thread logs it
    update = updates_of(standin, e)[-1]
    assert ACKNOWLEDGE not in str(update.params["blocks"])
    assert "acknowledged" in thread_posts(standin, e)[-1].params["text"].lower()

    # Tuesday: the resolve clock (1 day) has run out; Done is not offered for it.
    _at(clock, datetime(2026, 11, 24, 10, tzinfo=UTC))
    run_and_deliver(deps, clock())
    nudge = _nudges(standin, OWNER)[-1]
    dm = nudge.params
    assert f"Resolve escalation #{e.id} (SEV2)" in dm["text"]
    assert _buttons(dm) == []  # no Done (it needs a root cause), no Snooze (a SEV2)
    # A stale or crafted Done for it explains where to resolve and changes nothing.
    stale = ItemRef("escalation", f"{e.id}:resolve").to_value()
    result = _click_in(slack, nudge, DONE_ACTION, stale)
    assert "press *Resolve*" in result.reply_text and "Nothing was changed" in result.reply_text
    assert not result.of("chat.update") and not result.of("chat.postMessage")
    after = service.get_escalation(deps.sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert after.status == "acknowledged" and after.resolved_at is None
    bad = ItemRef("escalation", "nope").to_value()
    assert "does not exist" in slack.click(DONE_ACTION, bad, user=OWNER).reply_text


def test_someone_else_cannot_acknowledge_from_a_forwarded_button(
    deps: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    _setup_team(deps, clock)
    _at(clock, datetime(2026, 11, 23, 8, tzinfo=UTC))
    e = raise_escalation(slack, deps.sessions, clock, severity="sev2")
    _at(clock, datetime(2026, 11, 23, 10, tzinfo=UTC))
    value = ItemRef("escalation", f"{e.id}:ack").to_value()
    refused = slack.click(DONE_ACTION, value, user="U0STRANGER", message={"ts": "9.9"})
    assert "Only its owner" in refused.reply_text and "Nothing was changed" in refused.reply_text
    still = service.get_escalation(deps.sessions, team_id=TEAM, escalation_id=e.id, now=clock())
    assert still.status == "open"
