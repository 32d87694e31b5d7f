"""Escalation records as computed KPIs and as "my open escalations" on the App Home."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.clock import FixedClock
from bot.deps import Deps
from bot.escalations import service
from bot.escalations.models import EscalationDraft
from bot.kpis.compute import compute_kpi
from storage.db import SessionFactory, transaction
from tests.support.slack import SlackDriver

TEAM = "T0001"
OWNER = "U0OWNER"


def _open(sessions: SessionFactory, clock: FixedClock, title: str, severity: str = "sev2") -> int:
    draft = EscalationDraft(title=title, severity=severity, owner_id=OWNER)
    view = service.open_escalation(sessions, team_id=TEAM, reporter_id="U1", draft=draft,
                                   now=clock())  # fmt: skip
    return view.id


def _kpi(sessions: SessionFactory, kind: str, start, end) -> float | None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        return compute_kpi(session, kind=kind, team_id=TEAM, start=start, end=end)


def test_escalation_kpis_follow_the_records(sessions: SessionFactory, clock: FixedClock) -> None:
    week_start = clock()
    # sev2: acknowledge within 1 h, resolve within 1 day
    fast = _open(sessions, clock, "fast")
    slow = _open(sessions, clock, "slow")
    never = _open(sessions, clock, "never acknowledged")
    clock.advance(minutes=10)
    service.acknowledge_escalation(sessions, team_id=TEAM, escalation_id=fast, actor_id=OWNER,
                                   now=clock())  # fmt: skip
    clock.advance(minutes=80)  # slow is acknowledged 90 min in: its ack clock is breached
    service.acknowledge_escalation(sessions, team_id=TEAM, escalation_id=slow, actor_id=OWNER,
                                   now=clock())  # fmt: skip
    clock.advance(hours=2)
    service.resolve_escalation(
        sessions,
        team_id=TEAM,
        escalation_id=fast,
        actor_id=OWNER,
        root_cause="cache",
        corrective_action="flush",
        now=clock(),
    )
    end = week_start + timedelta(days=7)

    assert _kpi(sessions, "median_time_to_ack", week_start, end) == 50.0  # (10 + 90) / 2 min
    assert _kpi(sessions, "median_time_to_resolve", week_start, end) == 3.5  # hours
    # as of the week's end: slow (late ack, unresolved past its 1-day resolve) and never
    # (both clocks) breached; fast met both
    assert _kpi(sessions, "sla_breaches", week_start, end) == 4.0
    # still running past due at the end: never (ack, resolve) and slow (resolve)
    assert _kpi(sessions, "overdue_items", week_start, end) == 3.0
    # an empty period is "no data" for medians and zero for counts
    later = end + timedelta(days=30)
    assert _kpi(sessions, "median_time_to_ack", end, later) is None
    assert _kpi(sessions, "sla_breaches", later, later + timedelta(days=7)) == 0.0
    assert never


def test_home_lists_my_open_escalations_breached_first(
    slack: SlackDriver, deps: Deps, clock: FixedClock
) -> None:
    _open(deps.sessions, clock, "Calm <!channel>", severity="sev4")
    clock.advance(minutes=5)
    _open(deps.sessions, clock, "Burning", severity="sev1")
    clock.advance(minutes=30)  # the sev1 ack clock (15 min) is breached, sev4's is not
    event = {"type": "app_home_opened", "user": OWNER, "channel": "D1", "tab": "home",
             "event_ts": "1.0"}  # fmt: skip
    result = slack.event(event)
    [publish] = result.of("views.publish")
    view = publish.params["view"]
    text = json.dumps(view if isinstance(view, dict) else json.loads(view), ensure_ascii=False)
    assert text.index("SEV1 #2 Burning") < text.index("SEV4 #1 Calm")
    assert "breached" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


BREACH_PLAYBOOK = """\
timezone: UTC
kpis:
  - key: breaches
    name: SLA breaches
    kind: sla_breaches
    unit: escalations
    target: 0
    direction: lower
"""


def test_the_running_week_counts_only_breaches_that_happened(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    """Mid-week, an SLA due on Friday is not a breach yet; it is once Friday has passed."""
    from bot.kpis import service as kpis
    from bot.playbook.schema import parse_playbook
    from bot.playbook.service import import_playbook

    import_playbook(sessions, TEAM, parse_playbook(BREACH_PLAYBOOK, "t.yaml"), clock())
    _open(sessions, clock, "due in two days", severity="sev4")  # ack due in 1 day

    def this_week() -> float | None:
        [report] = kpis.list_kpi_reports(sessions, team_id=TEAM, now=clock(), tz="UTC")
        return report.weeks[-1].value

    assert this_week() == 0.0  # Wednesday: the ack deadline (Thursday) is still ahead
    clock.advance(days=1, hours=1)
    assert this_week() == 1.0  # Thursday 11:00: the unacknowledged clock is now breached
