"""Bolt listeners: the inbound adapter for Slack (ack → parse → service → render → respond).

Each module exposes `register(app)`; listener functions are plain module-level functions.
Handlers never touch the database directly: they call `bot.services`.
"""

from __future__ import annotations

from slack_bolt import App

from handlers import (
    checklists,
    errors,
    escalations,
    feedback,
    home,
    kpi,
    middleware,
    ops,
    owners,
)
from handlers import digest as digest_handlers
from handlers import nudges as nudge_handlers


def register(app: App) -> None:
    """Attach every middleware and listener of Opsloop to `app`."""
    middleware.register(app)
    errors.register(app)
    ops.register(app)
    checklists.register(app)
    feedback.register(app)
    escalations.register(app)
    owners.register(app)
    kpi.register(app)
    home.register(app)
    digest_handlers.register(app)
    nudge_handlers.register(app)
