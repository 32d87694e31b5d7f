"""Stand-in digest sections and nudge sources for the scheduler tests.

The real providers (KPIs, feedback, escalations, checklists) land on other branches; these
compute the same kind of facts from records the test controls, so every number in a digest
can be checked against the records it came from.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.deps import Deps
from bot.digest.models import Digest, DigestSection
from bot.digest.service import DigestWeek, SectionProvider, build_digest
from bot.nudges.models import OverdueItem
from bot.nudges.service import NudgeSource
from bot.slack.pacing import Pacer
from bot.wiring import make_sender
from schedules.runner import TickReport, run_once
from storage.db import SessionFactory


@dataclass
class Feedback:
    at: datetime
    score: int | None
    tags: tuple[str, ...]
    text: str
    customer: str


@dataclass
class Escalation:
    opened_at: datetime
    severity: str
    ack_minutes: float | None
    resolved_at: datetime | None = None
    breached: bool = False


@dataclass
class Kpi:
    name: str
    unit: str
    target: float
    owner_id: str
    this_week: float | None
    last_week: float | None


def nps(scores: list[int]) -> int | None:
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


@dataclass
class Records:
    """What the fake sections report on."""

    kpis: list[Kpi] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    calls: int = 0

    def kpi_section(self, scope: DigestWeek) -> DigestSection:
        self.calls += 1
        rows = [
            {
                "name": k.name,
                "unit": k.unit,
                "this_week": k.this_week,
                "last_week": k.last_week,
                "target": k.target,
                "status": "no_data"
                if k.this_week is None
                else ("on_track" if k.this_week >= k.target else "off_track"),
                "owner_id": k.owner_id,
            }
            for k in self.kpis
        ]
        return DigestSection(
            "kpis", "KPIs", {"kpis": rows}, None if rows else "No KPIs are set up yet."
        )

    def feedback_section(self, scope: DigestWeek) -> DigestSection:
        start, end = scope.start, scope.end
        week = [f for f in self.feedback if start <= f.at < end]
        if not week:
            return DigestSection("feedback", "Feedback", empty_text="No feedback this week")
        scores = [f.score for f in week if f.score is not None]
        tags = Counter(t for f in week for t in f.tags)
        detractors = [f for f in week if f.score is not None and f.score <= 6]
        facts = {
            "count": len(week),
            "nps": nps(scores),
            "nps_change": None,
            "top_tags": [{"tag": t, "count": c} for t, c in tags.most_common(3)],
            "detractor_quotes": [{"text": f.text, "customer": f.customer} for f in detractors],
        }
        return DigestSection("feedback", "Feedback", facts)

    def escalation_section(self, scope: DigestWeek) -> DigestSection:
        start, end = scope.start, scope.end
        opened = [e for e in self.escalations if start <= e.opened_at < end]
        resolved = [e for e in self.escalations if e.resolved_at and start <= e.resolved_at < end]
        if not opened and not resolved:
            return DigestSection(
                "escalations", "Escalations", empty_text="No escalations this week"
            )
        still_open = Counter(e.severity for e in self.escalations if e.resolved_at is None)
        acks = [e.ack_minutes for e in opened if e.ack_minutes is not None]
        facts = {
            "opened": len(opened),
            "resolved": len(resolved),
            "open_by_severity": dict(sorted(still_open.items())),
            "sla_breaches": sum(1 for e in opened if e.breached),
            "median_ack_minutes": statistics.median(acks) if acks else None,
        }
        return DigestSection("escalations", "Escalations", facts)

    def sections(self) -> tuple[SectionProvider, ...]:
        """The fake digest, for `Deps.digest_sections`."""
        return (
            SectionProvider("kpis", "KPIs", self.kpi_section),
            SectionProvider("feedback", "Feedback", self.feedback_section),
            SectionProvider("escalations", "Escalations", self.escalation_section),
        )


@dataclass
class OverdueBoard:
    """A nudge source whose items the test adds and whose Done button removes them."""

    items: dict[str, OverdueItem] = field(default_factory=dict)
    done_by: list[tuple[str, str]] = field(default_factory=list)
    source: str = "task"

    def add(
        self,
        item_id: str,
        owner_id: str,
        due_at: datetime,
        *,
        title: str | None = None,
        process_key: str | None = None,
    ) -> OverdueItem:
        item = OverdueItem(
            source=self.source,
            item_id=item_id,
            title=title or f"Task {item_id}",
            owner_id=owner_id,
            due_at=due_at,
            process_key=process_key,
            link=f"https://example.test/tasks/{item_id}",
        )
        self.items[item_id] = item
        return item

    def list_overdue(
        self, sessions: SessionFactory, team_id: str, now: datetime
    ) -> list[OverdueItem]:
        return [i for i in self.items.values() if i.due_at < now]

    def done(
        self, sessions: SessionFactory, team_id: str, item_id: str, user_id: str, now: datetime
    ) -> None:
        self.items.pop(item_id, None)
        self.done_by.append((item_id, user_id))

    def as_source(self) -> NudgeSource:
        """This board as the one nudge source, for `Deps.nudge_sources`."""
        return NudgeSource(self.source, self.list_overdue, self.done)  # type: ignore[arg-type]


def digest_of(deps: Deps, *, team_id: str, week: str, now: datetime) -> Digest:
    """The digest `deps` would build for one team's week (its sections and nudge sources)."""
    return build_digest(
        deps.sessions,
        sections=deps.digest_sections,
        nudge_sources=deps.nudge_sources,
        team_id=team_id,
        week=week,
        now=now,
        default_timezone="UTC",
    )


def run_and_deliver(deps: Deps, now: datetime, **kwargs: Any) -> TickReport:
    """One scheduler tick, then what it queued in the outbox delivered (as the sender
    running beside the scheduler would)."""
    report = run_once(deps, now, **kwargs)
    sender = make_sender(deps, pacer=Pacer.unlimited())
    try:
        sender.drain(30, horizon=3)
    finally:
        sender.stop()
    return report
