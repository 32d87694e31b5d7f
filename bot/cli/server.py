"""`opsloop run` (Socket Mode), `opsloop serve` (HTTP) and `opsloop migrate`."""

from __future__ import annotations

import logging

import click

from bot.cli.common import CREATE_APP_HINT, CliError, settings_from_env
from bot.wiring import build_app, make_deps, prepare_to_serve
from schedules.runner import start_background, stop
from storage import schema

log = logging.getLogger(__name__)


@click.command()
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not post digests and nudges from this process (run `opsloop scheduler` instead).",
)
def run(no_scheduler: bool) -> None:
    """Connect to Slack over Socket Mode (no public URL needed), with the scheduler."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    settings = settings_from_env()
    if settings.slack_bot_token is None or settings.slack_app_token is None:
        missing = "SLACK_BOT_TOKEN" if settings.slack_bot_token is None else "SLACK_APP_TOKEN"
        raise CliError(f"{missing} is not set. {CREATE_APP_HINT}")
    deps = make_deps(settings)
    prepare_to_serve(deps)
    app = build_app(deps)
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    scheduler = None if no_scheduler else start_background(deps)
    log.info("connecting to Slack over Socket Mode")
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        if scheduler is not None:
            stop(scheduler)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--threads",
    default=16,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Server worker threads.",
)
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run the scheduler (digests, nudges) in this process; one replica leads.",
)
def serve(host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Serve Slack's HTTP requests (POST /slack/events, GET /healthz) with waitress."""
    from bot.slack.http import serve as serve_http

    settings = settings_from_env()
    settings.require("slack_signing_secret", "slack_bot_token")
    deps = make_deps(settings)
    prepare_to_serve(deps)
    app = build_app(deps)
    running = start_background(deps) if with_scheduler else None
    try:
        serve_http(app, deps, host=host, port=port, threads=threads)
    finally:
        if running is not None:
            stop(running)


@click.command()
@click.option(
    "--to",
    "revision",
    default="head",
    show_default=True,
    help="Target revision; a revision older than the current one downgrades.",
)
def migrate(revision: str) -> None:
    """Apply database migrations (Alembic) to DATABASE_URL."""
    deps = make_deps(settings_from_env())
    before = schema.current_revision(deps.engine)
    if revision in ("head", schema.head_revision(deps.engine)) or before is None:
        schema.upgrade(deps.engine, revision)
    else:
        schema.downgrade(deps.engine, revision)
    after = schema.current_revision(deps.engine)
    click.echo(f"database schema: {before or 'empty'} → {after or 'empty'}")
