"""`opsloop run` (Socket Mode), `opsloop serve` (HTTP) and `opsloop migrate`."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

import click

from bot.cli.common import CREATE_APP_HINT, CliError, settings_from_env
from bot.slack.executor import TrackingExecutor
from bot.slack.sender import OutboxSender
from bot.wiring import build_app, make_deps, make_sender, prepare_to_serve
from schedules.runner import start_background, stop
from storage import schema

log = logging.getLogger(__name__)


# A stop (SIGTERM, Ctrl-C) waits this long for listeners, then for the sender's pass
# (after HTTP mode's own drain, bot.slack.http.DRAIN_SECONDS): within 30 s in all.
SHUTDOWN_SECONDS = 6.0
# `run`'s main thread wakes this often. Python runs a signal handler only on the main thread,
# and a SIGTERM the kernel hands to another thread does not wake a main thread blocked
# without a timeout (Bolt's handler.start() waits forever): `opsloop run` then ignored
# SIGTERM now and then (tests/platform/test_socket_mode.py).
SIGNAL_CHECK_SECONDS = 0.5


def _exit_on_sigterm() -> None:
    """SIGTERM ends the process like Ctrl-C does, through the `finally` that drains it; a
    second one while it drains is ignored rather than cutting the drain short."""

    def terminate(_signum: int, _frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)


def _stop_background(sender: OutboxSender, scheduler: Any) -> None:
    """Stop the scheduler (its lease is released at once) and the sender (its pass in
    flight is recorded; what is still pending is sent by the next process)."""
    if scheduler is not None:
        stop(scheduler)
    sender.stop(SHUTDOWN_SECONDS)


@click.command()
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not post digests and nudges from this process (run `opsloop scheduler` instead).",
)
def run(no_scheduler: bool) -> None:
    """Connect to Slack over Socket Mode (no public URL needed), with the scheduler."""
    from bot.slack.socket_mode import SocketModeConnection
    from bot.slack.turns import runners_for

    settings = settings_from_env(service=True)
    if settings.slack_bot_token is None or settings.slack_app_token is None:
        missing = "SLACK_BOT_TOKEN" if settings.slack_bot_token is None else "SLACK_APP_TOKEN"
        raise CliError(f"{missing} is not set. {CREATE_APP_HINT}")
    deps = make_deps(settings)
    prepare_to_serve(deps)
    listeners = TrackingExecutor(max_workers=settings.opsloop_listener_threads)
    stopping = threading.Event()
    app = build_app(deps, executor=listeners, stopping=stopping)
    handler = SocketModeConnection(
        app,
        settings.slack_app_token.get_secret_value(),
        concurrency=settings.opsloop_listener_threads,
        runners=runners_for(deps.engine),
    )
    sender = make_sender(deps)
    sender.start()
    scheduler = None if no_scheduler else start_background(deps)
    _exit_on_sigterm()
    log.info("connecting to Slack over Socket Mode")
    try:
        handler.connect()  # type: ignore[no-untyped-call]
        log.info("connected to Slack over Socket Mode")
        while True:
            time.sleep(SIGNAL_CHECK_SECONDS)
    except (KeyboardInterrupt, SystemExit):
        log.info("stopping: finishing the requests in flight")
    finally:
        # New requests are refused (unacknowledged, nothing stored); the running ones finish
        # and ack (each only after storing); the acks are written; then the connection closes.
        stopping.set()
        listeners.wait_idle(SHUTDOWN_SECONDS)
        handler.wait_idle(SHUTDOWN_SECONDS)
        handler.close()
        _stop_background(sender, scheduler)
        deps.engine.dispose()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 256),
    help="Requests handled at once (server threads) [default: OPSLOOP_LISTENER_THREADS, 16].",
)
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run the scheduler (SLA alerts, digests, nudges) here; one replica leads.",
)
def serve(host: str, port: int, threads: int | None, with_scheduler: bool) -> None:
    """Serve Slack's HTTP requests (POST /slack/events, GET /healthz) with waitress."""
    from bot.slack.http import serve as serve_http

    settings = settings_from_env(service=True)
    settings.require("slack_signing_secret", "slack_bot_token")
    if threads is None:
        threads = settings.opsloop_listener_threads
    else:
        # Listeners run on the server threads: the database pool is sized from them.
        settings = settings.model_copy(update={"opsloop_listener_threads": threads})
    deps = make_deps(settings)
    prepare_to_serve(deps)
    listeners = TrackingExecutor(max_workers=settings.opsloop_listener_threads)
    app = build_app(deps, executor=listeners)
    sender = make_sender(deps)
    sender.start()
    running = start_background(deps) if with_scheduler else None
    try:
        serve_http(app, deps, host=host, port=port, threads=threads)
    finally:
        listeners.wait_idle(SHUTDOWN_SECONDS)
        _stop_background(sender, running)
        deps.engine.dispose()
    log.info("stopped")


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
