"""The `opsloop` command line (click). Every subcommand turns bad configuration into one line."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from bot.settings import Settings, SettingsError, load_settings

F = TypeVar("F", bound=Callable[..., Any])

CREATE_APP_HINT = (
    "Create the Slack app from app.yaml (api.slack.com/apps → Create New App → From a "
    "manifest), install it, then set SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, "
    "with connections:write). README.md → 'Create the Slack app' walks through it. "
    "To try Opsloop without Slack, run `opsloop shell`."
)


class CliError(click.ClickException):
    """A one-line error for the user, printed without a traceback (exit code 2)."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


def friendly_errors(func: F) -> F:
    """Turn configuration and startup errors into `opsloop: error: …` and exit 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            raise CliError(str(exc)) from None

    return wrapper  # type: ignore[return-value]


def settings_from_env() -> Settings:
    settings = load_settings()
    configure_logging(settings.opsloop_log_level)
    return settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Opsloop: the Slack bot product-ops teams run their week on."""


@cli.command()
@friendly_errors
@click.option(
    "--no-scheduler",
    is_flag=True,
    help="Do not post digests and nudges from this process (run `opsloop scheduler` instead).",
)
def run(no_scheduler: bool) -> None:
    """Connect to Slack over Socket Mode (no public URL needed), with the scheduler."""
    from bot.runtime import SchemaOutdatedError, make_deps, prepare_to_serve

    settings = settings_from_env()
    if settings.slack_bot_token is None or settings.slack_app_token is None:
        missing = "SLACK_BOT_TOKEN" if settings.slack_bot_token is None else "SLACK_APP_TOKEN"
        raise CliError(f"{missing} is not set. {CREATE_APP_HINT}")
    deps = make_deps(settings)
    try:
        prepare_to_serve(deps)
    except SchemaOutdatedError as exc:
        raise CliError(str(exc)) from None
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_app

    app = build_app(deps)
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    scheduler = None
    if not no_scheduler:
        from schedules.runner import start_background

        scheduler = start_background(deps)
    logging.getLogger(__name__).info("connecting to Slack over Socket Mode")
    try:
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        if scheduler is not None:
            from schedules.runner import stop

            stop(scheduler)


@cli.command()
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
@friendly_errors
def serve(host: str, port: int, threads: int, with_scheduler: bool) -> None:
    """Serve Slack's HTTP requests (POST /slack/events, GET /healthz) with waitress."""
    from bot.runtime import SchemaOutdatedError, make_deps, prepare_to_serve

    settings = settings_from_env()
    settings.require("slack_signing_secret", "slack_bot_token")
    deps = make_deps(settings)
    try:
        prepare_to_serve(deps)
    except SchemaOutdatedError as exc:
        raise CliError(str(exc)) from None
    from bot.app import build_app
    from bot.http import serve as serve_http

    app = build_app(deps)
    if not with_scheduler:
        serve_http(app, deps, host=host, port=port, threads=threads)
        return
    from schedules.runner import start_background, stop

    running = start_background(deps)
    try:
        serve_http(app, deps, host=host, port=port, threads=threads)
    finally:
        stop(running)


@cli.command()
@click.option(
    "--to",
    "revision",
    default="head",
    show_default=True,
    help="Target revision; a revision older than the current one downgrades.",
)
@friendly_errors
def migrate(revision: str) -> None:
    """Apply database migrations (Alembic) to DATABASE_URL."""
    from bot.runtime import make_deps
    from storage import schema

    settings = settings_from_env()
    deps = make_deps(settings)
    before = schema.current_revision(deps.engine)
    if revision in ("head", "heads", schema.head_revision(deps.engine)) or before is None:
        schema.upgrade(deps.engine, "heads" if revision == "head" else revision)
    else:
        schema.downgrade(deps.engine, revision)
    after = schema.current_revision(deps.engine)
    click.echo(f"database schema: {before or 'empty'} → {after or 'empty'}")


@cli.command()
@click.option(
    "--database-url",
    default="sqlite:///opsloop-shell.db",
    show_default=True,
    help="Where the playground keeps its data.",
)
@click.option("--user", default="U0PLAYER", show_default=True, help="Your Slack user id here.")
@friendly_errors
def shell(database_url: str, user: str) -> None:
    """A local playground with no Slack: type /ops help and see what the bot would do."""
    from bot.playground.shell import run_shell

    run_shell(database_url=database_url, user_id=user)


def main() -> None:
    from bot import cli_commands

    cli_commands.register(cli)
    cli(prog_name="opsloop")
