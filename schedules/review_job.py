"""The SOP review reminder: each process owner gets one DM per review cycle, a configurable
number of days before the review falls due (playbook `reviews.remind_days_before`, default
7), with *Mark reviewed*.

Sent on the team's nudge weekdays from the nudge hour (team timezone), so a reminder never
arrives at night; a run missed while the scheduler was down is made up at the next tick.
The outbox key `review-reminder:<process>:<due date>` makes it once per cycle, across
restarts and replicas: a new review moves the due date, and so the key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.deps import Deps
from bot.nudges import service as nudges
from bot.org import reviews
from bot.org.models import REVIEW_FROM_REMINDER, ReviewRef, ReviewTarget
from bot.org.render import render_review_reminder
from bot.outbox import models as outbox
from bot.outbox.models import Queued
from bot.outbox.service import enqueue_messages, is_enqueued
from bot.slack.blocks import as_dicts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderResult:
    team_id: str
    process_key: str
    owner_id: str
    key: str
    outcome: Queued


def reminder_key(target: ReviewTarget) -> str:
    """One reminder per process per review cycle (the cycle is named by its due date)."""
    assert target.due is not None  # only processes with a review date are reminded
    return f"review-reminder:{target.key}:{target.due.isoformat()}"


def run(deps: Deps, *, now: datetime, team_ids: list[str]) -> list[ReminderResult]:
    """Queue every review reminder due at `now` that was not queued before."""
    results = []
    for team_id in team_ids:
        settings = nudges.get_nudge_settings(
            deps.sessions, team_id=team_id, default_timezone=deps.settings.opsloop_timezone
        )
        local = now.astimezone(settings.team_tz)
        if local.weekday() not in settings.weekdays or local.time() < settings.at:
            continue
        today = local.date()
        for target in reviews.reviews_to_remind(deps.sessions, team_id=team_id, today=today):
            assert target.owner_id is not None
            key = reminder_key(target)
            outcome = Queued.ALREADY
            if not is_enqueued(deps.sessions, team_id=team_id, key=key):
                ref = ReviewRef(target.key, REVIEW_FROM_REMINDER)
                text, blocks = render_review_reminder(target, ref, today)
                message = outbox.post(key, target.owner_id, text, as_dicts(blocks))
                if enqueue_messages(deps.sessions, team_id=team_id, messages=[message], now=now):
                    outcome = Queued.QUEUED
                    log.info("queued the SOP review reminder of %s for %s", target.key, team_id)
            results.append(ReminderResult(team_id, target.key, target.owner_id, key, outcome))
    return results
