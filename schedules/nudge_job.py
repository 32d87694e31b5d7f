"""The nudge job: one DM per owner per local day, and the process-owner reports, queued in
the outbox (the sender delivers them paced to Slack's limits)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.nudges import service as nudges
from bot.nudges.models import Nudge
from bot.nudges.render import render_nudge, render_owner_report
from bot.org.messages import slack_person_fetcher
from bot.outbox import models as outbox
from bot.outbox.models import Queued
from bot.outbox.service import enqueue
from bot.slack.blocks import as_dicts
from storage import outbox as outbox_rows
from storage.db import transaction

log = logging.getLogger(__name__)

# DMs queued per transaction (see `run`).
QUEUE_BATCH = 20


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
    """Queue every nudge due at `now`, each at most once per recipient and local day.

    DMs are queued `QUEUE_BATCH` at a time, each batch in one transaction: one per DM took
    every other SQLite turn from the sender running beside the job (the first thousand
    DMs' commits held back the first posts for seconds), and one for all would keep every
    DM until the last was rendered."""
    results = []
    pending = due(deps, now=now, team_ids=team_ids)
    for start in range(0, len(pending), QUEUE_BATCH):
        batch = [(nudge, nudge_key(nudge)) for nudge in pending[start : start + QUEUE_BATCH]]
        with transaction(deps.sessions) as session:
            known = {key for nudge, key in batch if _queued(session, nudge.team_id, key)}
        # Rendered outside any transaction: a listener may need the turn meanwhile.
        messages = {
            key: outbox.post(key, nudge.user_id, *_rendered(nudge, now))
            for nudge, key in batch
            if key not in known
        }
        with transaction(deps.sessions) as session:
            for nudge, key in batch:
                outcome = Queued.ALREADY
                message = messages.get(key)
                if message is not None and enqueue(
                    session, team_id=nudge.team_id, messages=[message], now=now
                ):
                    outcome = Queued.QUEUED
                    log.info(
                        "queued %s for %s (%d items)", nudge.kind, nudge.user_id, len(nudge.items)
                    )
                results.append(
                    NudgeResult(
                        nudge.team_id, nudge.kind, nudge.user_id, nudge.period, key, outcome
                    )
                )
    return results


def _queued(session: Session, team_id: str, key: str) -> bool:
    return outbox_rows.exists(session, team_id=team_id, key=key)


def _rendered(nudge: Nudge, now: datetime) -> tuple[str, list[dict[str, Any]]]:
    text, blocks = render(nudge, now=now)
    return text, as_dicts(blocks)
