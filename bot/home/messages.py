"""The App Home as an outbox message: rebuilt from the database and published by the sender."""

from __future__ import annotations

from bot.deps import Deps
from bot.home.render import render_home
from bot.home.service import build_home
from bot.org import service as directory
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing


def home_message(deps: Deps, *, team_id: str, user_id: str) -> Outgoing:
    """`user_id`'s App Home as it is now (only the newest version is ever published)."""
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
    return outbox.publish_home(f"home:{user_id}", user_id=user_id, view=render_home(data))
