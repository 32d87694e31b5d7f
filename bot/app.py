"""`build_app(deps)`: the Bolt app with every listener, built from injected dependencies."""

from __future__ import annotations

import logging

from slack_bolt import App

import handlers
from bot.deps import Deps
from bot.executor import TrackingExecutor
from handlers.middleware import inject_deps

log = logging.getLogger(__name__)


def build_app(deps: Deps, *, executor: TrackingExecutor | None = None) -> App:
    """A Bolt app wired to `deps`. Request verification stays on; nothing is called at build.

    The listener pool is sized from settings: Bolt's default of 5 workers makes users see
    `operation_timeout` as soon as a few slow requests pile up.
    """
    signing_secret = deps.settings.slack_signing_secret
    app = App(
        name="opsloop",
        client=deps.client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        token_verification_enabled=False,
        request_verification_enabled=True,
        listener_executor=executor
        or TrackingExecutor(max_workers=deps.settings.opsloop_listener_threads),
        logger=logging.getLogger("opsloop.bolt"),
    )
    app.use(inject_deps(deps))
    handlers.register(app)
    return app
