"""The weekly digest job: put each team's due digest in the outbox, once per week."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.digest import service as digests
from bot.digest.render import render_digest
from bot.outbox import models as outbox
from bot.outbox.models import Queued
from bot.outbox.service import enqueue_messages, is_enqueued
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


def render_team_digest(
    deps: Deps, *, team_id: str, week: str, now: datetime
) -> tuple[str, list[Block]]:
    """Build and render one team's digest of `week`."""
    digest = digests.build_digest(
        deps.sessions,
        sections=deps.digest_sections,
        nudge_sources=deps.nudge_sources,
        team_id=team_id,
        week=week,
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
    )
    return render_digest(digest, templates_dir=deps.settings.opsloop_templates_dir)


def post_digest(deps: Deps, *, team_id: str, week: str, channel: str, now: datetime) -> Queued:
    """Queue the digest of `week` for `channel` unless it was queued (or posted) before."""
    key = digest_key(week)
    if is_enqueued(deps.sessions, team_id=team_id, key=key):
        return Queued.ALREADY  # built only when new: providers run once per week, not per tick
    text, blocks = render_team_digest(deps, team_id=team_id, week=week, now=now)
    message = outbox.post(key, channel, text, as_dicts(blocks))
    if not enqueue_messages(deps.sessions, team_id=team_id, messages=[message], now=now):
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
