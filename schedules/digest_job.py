"""The weekly digest job: post each team's due digest once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.digest import service as digests
from bot.digest.render import render_digest
from bot.slack.ledger import Outcome, Posted, SendKey, deliver_once
from bot.slack.post import post_message

log = logging.getLogger(__name__)

# One digest per team and week, wherever the channel setting points when it goes out.
DIGEST_TARGET = "team"


@dataclass(frozen=True)
class DigestResult:
    team_id: str
    week: str
    outcome: Outcome


def digest_key(team_id: str, week: str) -> SendKey:
    return SendKey(team_id, digests.DIGEST_KIND, week, DIGEST_TARGET)


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


def post_digest(deps: Deps, *, team_id: str, week: str, channel: str, now: datetime) -> Outcome:
    """Post the digest of `week` to `channel` unless it already went out."""

    def post() -> Posted:
        # Built only once the claim is ours: providers run once per post, not per tick.
        text, blocks = render_team_digest(deps, team_id=team_id, week=week, now=now)
        return post_message(deps.client, channel=channel, text=text, blocks=blocks)

    outcome = deliver_once(deps.sessions, key=digest_key(team_id, week), now=now, post=post)
    if outcome is Outcome.SENT:
        log.info("posted the %s digest of team %s to %s", week, team_id, channel)
    return outcome


def run(deps: Deps, *, now: datetime, team_ids: list[str]) -> list[DigestResult]:
    """Post every digest due at `now`."""
    results = []
    due = digests.due_digests(
        deps.sessions, team_ids, now=now, default_timezone=deps.settings.opsloop_timezone
    )
    for item in due:
        outcome = post_digest(
            deps, team_id=item.team_id, week=item.week, channel=item.channel, now=now
        )
        results.append(DigestResult(item.team_id, item.week, outcome))
    return results
