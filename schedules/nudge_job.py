"""The nudge job: one DM per owner per local day, and the process-owner reports, queued in
the outbox (the sender delivers them paced to Slack's limits)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.nudges import service as nudges
from bot.nudges.models import Nudge
from bot.nudges.render import render_nudge, render_owner_report
from bot.org.messages import slack_person_fetcher
from bot.outbox import models as outbox
from bot.outbox.models import Queued
from bot.outbox.service import enqueue_messages, is_enqueued
from bot.slack.blocks import as_dicts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NudgeResult:
    team_id: str
    kind: str
    user_id: str
    period: str
    key: str
    outcome: Queued


def nudge_key(nudge: Nudge) -> str:
    return f"{nudge.kind}:{nudge.period}:{nudge.user_id}"


def render(nudge: Nudge, *, now: datetime) -> tuple[str, list[Block]]:
    """The DM text and blocks of a nudge or a process-owner report."""
    if nudge.kind == nudges.OWNER_REPORT_KIND:
        return render_owner_report(nudge, now=now)
    return render_nudge(nudge, now=now)


def due(deps: Deps, *, now: datetime, team_ids: list[str], ask_slack: bool = True) -> list[Nudge]:
    """Nudges whose recipients are in their nudge hour at `now`. A person never seen is
    looked up in Slack (users.info) for their timezone unless `ask_slack` is False (a dry
    run): then the team's timezone stands in until the bot has met them."""
    return nudges.due_nudges(
        deps.sessions,
        team_ids,
        sources=deps.nudge_sources,
        now=now,
        default_timezone=deps.settings.opsloop_timezone,
        fetch=slack_person_fetcher(deps.client) if ask_slack else None,
    )


def run(deps: Deps, *, now: datetime, team_ids: list[str]) -> list[NudgeResult]:
    """Queue every nudge due at `now`, each at most once per recipient and local day."""
    results = []
    for nudge in due(deps, now=now, team_ids=team_ids):
        key = nudge_key(nudge)
        outcome = Queued.ALREADY
        if not is_enqueued(deps.sessions, team_id=nudge.team_id, key=key):
            text, blocks = render(nudge, now=now)
            message = outbox.post(key, nudge.user_id, text, as_dicts(blocks))
            if enqueue_messages(deps.sessions, team_id=nudge.team_id, messages=[message], now=now):
                outcome = Queued.QUEUED
                log.info("queued %s for %s (%d items)", nudge.kind, nudge.user_id, len(nudge.items))
        results.append(
            NudgeResult(nudge.team_id, nudge.kind, nudge.user_id, nudge.period, key, outcome)
        )
    return results
