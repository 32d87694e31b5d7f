"""The App Home tab: rebuilt and published each time a user opens it."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext

from bot.home.render import render_home
from bot.home.service import build_home
from bot.kpis.chart_files import pending_uploads, queue_with_charts
from bot.kpis.charts import ChartRef, overview_chart
from bot.org import service as directory
from bot.org.people import queue_stale_people
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue_messages
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.errors import guarded


def register(app: App) -> None:
    app.event("app_home_opened")(guarded(handle_app_home_opened))


def handle_app_home_opened(
    event: dict[str, Any], body: dict[str, Any], context: BoltContext
) -> None:
    if event.get("tab", "home") != "home":
        return  # the Messages tab fires this event too; only the Home tab is ours to draw
    deps = deps_of(context)
    # "" for a value not shaped like a user id (a forged event): nobody to draw a Home for
    team_id, user_id = team_of(body), user_of(body)
    if not user_id:
        return
    # Keeps the viewer's timezone and name fresh in the cache (nudges use the timezone).
    queue_stale_people(deps.sessions, team_id=team_id, user_ids=[user_id], now=deps.clock())
    tz = directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )
    data = build_home(
        deps.sessions,
        sections=deps.home_sections,
        team_id=team_id,
        user_id=user_id,
        now=deps.clock(),
        tz=tz,
    )
    if not data.kpis:
        home = outbox.publish_home(f"home:{user_id}", user_id=user_id, view=render_home(data))
        enqueue_messages(deps.sessions, team_id=team_id, messages=[home], now=deps.clock())
        return

    def publish(refs: list[ChartRef]) -> list[Outgoing]:
        # Published once the overview is uploaded (at once when it was before: the same
        # data draws the same chart, reused from the digest or an earlier visit).
        view = render_home(data, refs[0])
        waits = pending_uploads(refs)
        return [
            outbox.publish_home(f"home:{user_id}", user_id=user_id, view=view, after=waits or None)
        ]

    queue_with_charts(
        deps.sessions,
        team_id=team_id,
        charts=[overview_chart(data.kpis)],
        channel=user_id,
        now=deps.clock(),
        messages=publish,
    )
