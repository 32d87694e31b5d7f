"""The weekly digest job: put each team's due digest in the outbox, once per week."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.digest import service as digests
from bot.digest.models import Digest
from bot.digest.render import render_chart_thread, render_digest
from bot.kpis.chart_files import pending_uploads, queue_with_charts
from bot.kpis.charts import Chart, ChartRef, OverviewChart, chart_hash, unstored_refs
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing, Queued
from bot.outbox.service import is_enqueued
from bot.slack.blocks import as_dicts

log = logging.getLogger(__name__)

# One digest per team and week, wherever the channel setting points when it goes out
# (`kind:period:target`, the key scheduled posts always had).
DIGEST_TARGET = "team"


@dataclass(frozen=True)
class DigestResult:
    team_id: str
    week: str
    key: str
    outcome: Queued


def digest_key(week: str) -> str:
    return f"{digests.DIGEST_KIND}:{week}:{DIGEST_TARGET}"


def charts_key(week: str) -> str:
    """The digest's thread reply holding one trend chart per KPI."""
    return f"{digest_key(week)}:charts"


def build_team_digest(deps: Deps, *, team_id: str, week: str, now: datetime) -> Digest:
    """Ask every section of one team's digest of `week` for its part."""
    return digests.build_digest(
        deps.sessions,
        sections=deps.digest_sections,
        nudge_sources=deps.nudge_sources,
        team_id=team_id,
        week=week,
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
    )


def digest_charts(digest: Digest) -> list[Chart]:
    """Every chart of the digest: each section's, in order (the KPI overview first)."""
    return [chart for section in digest.sections for chart in section.charts]


def render_team_digest(
    deps: Deps, *, team_id: str, week: str, now: datetime
) -> tuple[str, list[Block]]:
    """Build and render one team's digest of `week` (its charts shown as not uploaded yet)."""
    digest = build_team_digest(deps, team_id=team_id, week=week, now=now)
    return render_digest(
        digest,
        templates_dir=deps.settings.opsloop_templates_dir,
        images=_overviews(digest, unstored_refs(digest_charts(digest))),
    )


def _overviews(digest: Digest, refs: list[ChartRef]) -> dict[str, list[ChartRef]]:
    """section key → the overview picture shown in the digest message itself."""
    by_hash = {ref.chart_hash: ref for ref in refs}
    shown: dict[str, list[ChartRef]] = {}
    for section in digest.sections:
        for chart in section.charts:
            if isinstance(chart, OverviewChart):
                shown.setdefault(section.key, []).append(by_hash[chart_hash(chart)])
    return shown


def digest_messages(
    deps: Deps, digest: Digest, *, key: str, channel: str, refs: list[ChartRef]
) -> list[Outgoing]:
    """The digest (its tables and the KPI overview) and, in its thread, one trend chart per
    KPI. Each waits for the uploads of the charts it shows; an upload given up is shown as
    missing, and the tables go out regardless."""
    overviews = _overviews(digest, refs)
    shown_in_digest = {ref.chart_hash for group in overviews.values() for ref in group}
    trends = [ref for ref in refs if ref.chart_hash not in shown_in_digest]
    text, blocks = render_digest(
        digest, templates_dir=deps.settings.opsloop_templates_dir, images=overviews
    )
    waits = pending_uploads(ref for group in overviews.values() for ref in group)
    messages = [outbox.post(key, channel, text, as_dicts(blocks), after=waits or None)]
    if trends:
        thread_text, thread_blocks = render_chart_thread(digest.week, trends)
        messages.append(
            outbox.post(
                charts_key(digest.week),
                channel,
                thread_text,
                as_dicts(thread_blocks),
                thread_of=key,
                after=pending_uploads(trends) or None,
            )
        )
    return messages


def post_digest(deps: Deps, *, team_id: str, week: str, channel: str, now: datetime) -> Queued:
    """Queue the digest of `week` for `channel`, with its charts' uploads, unless it was
    queued (or posted) before: run twice, or by two schedulers, it uploads and posts once."""
    key = digest_key(week)
    if is_enqueued(deps.sessions, team_id=team_id, key=key):
        return Queued.ALREADY  # built only when new: providers run once per week, not per tick
    digest = build_team_digest(deps, team_id=team_id, week=week, now=now)
    _, added = queue_with_charts(
        deps.sessions,
        team_id=team_id,
        charts=digest_charts(digest),
        channel=channel,
        now=now,
        messages=lambda refs: digest_messages(deps, digest, key=key, channel=channel, refs=refs),
    )
    if not added:
        return Queued.ALREADY  # another scheduler got there between the check and the insert
    log.info("queued the %s digest of team %s for %s", week, team_id, channel)
    return Queued.QUEUED


def run(deps: Deps, *, now: datetime, team_ids: list[str]) -> list[DigestResult]:
    """Queue every digest due at `now`."""
    results = []
    due = digests.due_digests(
        deps.sessions, team_ids, now=now, default_timezone=deps.settings.opsloop_timezone
    )
    for item in due:
        outcome = post_digest(
            deps, team_id=item.team_id, week=item.week, channel=item.channel, now=now
        )
        results.append(DigestResult(item.team_id, item.week, digest_key(item.week), outcome))
    return results
