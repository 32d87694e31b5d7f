"""Nudges at scale: every owner of an overdue checklist item gets one DM, against the limits.

`owners` people (in five timezones, all inside their nudge hours at `NOW`) own `items`
overdue checklist items of active runs. The real nudge job (`schedules.nudge_job.run`, what
the scheduler and `opsloop nudge` run) posts through the real WebClient to the Slack
stand-in, which answers 429 + Retry-After beyond one message per second per channel and,
when asked, beyond a workspace-wide cap. The job queues the DMs in the outbox and the
real outbox sender (paced: one message per second per channel, the workspace budget, 429s
rescheduled) delivers them. The job is then run a second time at the same moment: the
outbox keys must make it queue and post nothing.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from bench import report, servers
from bot.outbox.models import Queued
from bot.settings import load_settings
from bot.shell.standin import SlackStandin
from bot.slack.client import make_web_client
from bot.wiring import deps_from_parts, make_sender
from schedules import nudge_job
from storage.db import make_engine, make_session_factory
from storage.models.checklists import ChecklistItem, ChecklistRun, ChecklistTemplate
from storage.models.core import Person

TEAM = "TBENCH"
# A Wednesday, 15:00 UTC: 10:00 to 17:00 local in every zone below (nudge hours 10-18).
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)
ZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Helsinki", "America/New_York")
ITEMS_PER_RUN = 8


def load(sessions: Any, *, owners: int, items: int) -> None:
    """People with timezones, and `items` overdue items spread evenly over `owners`."""
    runs = math.ceil(items / ITEMS_PER_RUN)
    started = NOW - timedelta(days=10)
    with sessions.begin() as session:
        session.execute(
            insert(Person),
            [
                {
                    "team_id": TEAM,
                    "user_id": _owner(o),
                    "display_name": f"Owner {o}",
                    "timezone": ZONES[o % len(ZONES)],
                    "is_deleted": False,
                    "refreshed_at": NOW,
                }
                for o in range(owners)
            ],
        )
        template = ChecklistTemplate(
            team_id=TEAM,
            name="onboarding",
            version=1,
            title="Onboarding",
            items=[],
            fingerprint="f",
            created_at=started,
        )
        session.add(template)
        session.flush()
        session.execute(
            insert(ChecklistRun),
            [
                {
                    "team_id": TEAM,
                    "key": f"run{r}",
                    "template_id": template.id,
                    "template_name": "onboarding",
                    "template_version": 1,
                    "title": "Onboarding",
                    "subject": f"New hire {r}",
                    "channel_id": "C0BENCH",
                    "message_ts": f"1.{r}",
                    "started_by": "U0ADMIN",
                    "started_at": started,
                    "status": "active",
                    "revision": 0,
                }
                for r in range(runs)
            ],
        )
        run_ids = list(session.scalars(select(ChecklistRun.id).order_by(ChecklistRun.id)))
        session.execute(
            insert(ChecklistItem),
            [
                {
                    "team_id": TEAM,
                    "run_id": run_ids[i // ITEMS_PER_RUN],
                    "position": i % ITEMS_PER_RUN,
                    "title": f"Step {i % ITEMS_PER_RUN}",
                    "owner_spec": "manager",
                    "owner_id": _owner(i % owners),
                    "due_at": NOW - timedelta(days=1 + i % 5),
                }
                for i in range(items)
            ],
        )


def _owner(o: int) -> str:
    return f"U{o:06d}"


def floor_seconds(
    dms_per_channel: list[int], channel_rate: float, workspace: float | None
) -> dict[str, float]:
    """The least time the limits allow: the busiest channel, and the workspace cap."""
    busiest = max(dms_per_channel, default=0)
    per_channel = max(busiest - 1, 0) / channel_rate
    total = sum(dms_per_channel)
    per_workspace = max(total - workspace, 0) / workspace if workspace else 0.0
    return {
        "per_channel_s": round(per_channel, 2),
        "workspace_s": round(per_workspace, 2),
        "floor_s": round(max(per_channel, per_workspace), 2),
    }


def run(
    *, db: str, owners: int, items: int, channel_rate: float, workspace_rate: float | None
) -> dict[str, Any]:
    """Load, run the nudge job twice, and count what the stand-in received."""
    with (
        servers.workdir() as workdir,
        servers.database(db, Path(workdir)) as url,
        SlackStandin() as standin,
    ):
        standin.channel_rate_per_second = channel_rate
        standin.workspace_rate_per_second = workspace_rate
        engine = make_engine(url)
        try:
            sessions = make_session_factory(engine)
            print(f"[{db}] loading {owners:,} owners, {items:,} overdue items …", flush=True)
            load(sessions, owners=owners, items=items)
            settings = load_settings(
                slack_signing_secret="bench",
                slack_bot_token=servers.BOT_TOKEN,
                database_url=url,
                slack_api_url=standin.base_url,
                opsloop_timezone="UTC",
                _env_file=None,
            )
            client = make_web_client(token=servers.BOT_TOKEN, base_url=standin.base_url)
            deps = deps_from_parts(settings=settings, engine=engine, client=client)
            print(f"[{db}] running the nudge job …", flush=True)
            sender = make_sender(deps)
            started = time.perf_counter()
            # As in `opsloop scheduler`: the sender runs beside the job and starts posting
            # the first DM as soon as it is stored (each DM commits on its own).
            sender.start()
            results = nudge_job.run(deps, now=NOW, team_ids=[TEAM])
            sender.drain(timeout=3600)
            total_s = time.perf_counter() - started
            posts = standin.calls("chat.postMessage")
            started = time.perf_counter()
            again = nudge_job.run(deps, now=NOW, team_ids=[TEAM])
            sender.drain(timeout=600)
            again_s = time.perf_counter() - started
            sender.stop()
            posted_again = len(standin.calls("chat.postMessage")) - len(posts)
        finally:
            engine.dispose()
        all_posts = standin.calls("chat.postMessage", ok_only=False)
    per_channel = Counter(str(c.params.get("channel")) for c in posts)
    expected = {_owner(o) for o in range(min(owners, items))}
    outcomes = Counter(r.outcome.value for r in results)
    floor = floor_seconds(list(per_channel.values()), channel_rate, workspace_rate)
    return {
        "db": db,
        "owners": owners,
        "items": items,
        "channel_rate_per_second": channel_rate,
        "workspace_rate_per_second": workspace_rate,
        "total_s": round(total_s, 2),
        **floor,
        "dms_sent": len(posts),
        "duplicates": sum(1 for n in per_channel.values() if n > 1),
        "missed": len(expected - set(per_channel)),
        "unexpected": len(set(per_channel) - expected),
        "http_429": sum(1 for c in all_posts if c.status == 429),
        "outcomes": dict(outcomes),
        "second_run_queued": sum(1 for r in again if r.outcome is Queued.QUEUED),
        "second_run_sent": posted_again,
        "second_run_s": round(again_s, 2),
    }


def print_table(runs: list[dict[str, Any]]) -> None:
    print("\nnudges — the real nudge job against the stand-in's chat.postMessage limits")
    headers = [
        "db",
        "owners",
        "items",
        "ch/s",
        "ws/s",
        "total s",
        "floor s",
        "DMs",
        "dup",
        "missed",
        "429s",
        "rerun sent",
    ]
    rows = [
        [
            r["db"],
            r["owners"],
            r["items"],
            r["channel_rate_per_second"],
            r["workspace_rate_per_second"] or "off",
            r["total_s"],
            r["floor_s"],
            r["dms_sent"],
            r["duplicates"],
            r["missed"],
            r["http_429"],
            r["second_run_sent"],
        ]
        for r in runs
    ]
    print(report.table(headers, rows))
