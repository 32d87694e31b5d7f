"""What every `opsloop` subcommand shares: the one-line error, settings, ready `Deps`.

Subcommand modules import this module, never each other. The error boundary itself is
`bot.cli.OpsloopGroup`.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime

import click
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.settings import Settings, load_settings
from bot.shell.screen import BlockPrinter, Screen
from bot.wiring import make_deps, prepare_schema

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


def settings_from_env(*, service: bool = False) -> Settings:
    """Settings from the environment and `.env`, with logging configured from them: a
    one-shot command logs warnings and errors only (`-v` for INFO, `-vv` for DEBUG), a
    service (`run`, `serve`, `scheduler`) logs INFO; OPSLOOP_LOG_LEVEL decides when set."""
    settings = load_settings()
    level = _log_level(settings, service=service)
    configure_logging(level)
    # slack_sdk logs every connection it could not make as an ERROR; a one-shot command
    # says so itself in one line (the error boundary, `reach_slack`), so the same news
    # twice is noise. A service keeps it: that is the log of a running bot.
    logging.getLogger("slack_sdk.web.base_client").setLevel(
        logging.CRITICAL if not service and level in ("WARNING", "ERROR") else logging.NOTSET
    )
    return settings


def _log_level(settings: Settings, *, service: bool) -> str:
    context = click.get_current_context(silent=True)
    verbose = int((context.find_root().params.get("verbose") or 0) if context else 0)
    if verbose:
        return "DEBUG" if verbose > 1 else "INFO"
    if settings.opsloop_log_level:
        return settings.opsloop_log_level
    return "INFO" if service else "WARNING"


_HANDLER_NAME = "opsloop-cli"


def configure_logging(level: str) -> None:
    """One stderr handler on the root logger (added once), at `level`."""
    root = logging.getLogger()
    if not any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(getattr(logging, level, logging.INFO))


def ready_deps(*, needs_token: bool = False, service: bool = False) -> Deps:
    """Deps from the environment with the schema checked; `needs_token`: posting to Slack;
    `service`: a long-running command (logs INFO by default)."""
    settings = settings_from_env(service=service)
    if needs_token:
        settings.require("slack_bot_token")
    deps = make_deps(settings)
    prepare_schema(deps)
    return deps


def reach_slack(deps: Deps) -> None:
    """Ask Slack who the bot token is (auth.test) before a command queues posts, so that a
    Slack that cannot be reached, or refuses the token, is one line up front rather than
    posts left pending with a warning each."""
    try:
        deps.client.auth_test()
    except SlackApiError as exc:
        raise CliError(
            f"Slack refused the bot token ({exc.response.get('error')}): check "
            "SLACK_BOT_TOKEN (`opsloop doctor` checks the whole setup); nothing was queued"
        ) from None
    except (SlackClientError, OSError) as exc:
        raise CliError(
            f"could not reach Slack at {deps.settings.slack_api_url} ({exc}): check the "
            "network and SLACK_API_URL; nothing was queued (--dry-run prints without Slack)"
        ) from None


def parse_moment(value: str | None, *, option: str) -> datetime | None:
    """An ISO date or timestamp given on the command line (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO timestamp or date, "
            "e.g. 2026-11-23T10:00:00+01:00 or 2026-11-23",
            param_hint=option,
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def print_blocks(title: str, text: str, blocks: list[Block]) -> None:
    """A message as the terminal shows it (the shell's renderer), with its sizes."""
    screen = Screen()
    BlockPrinter(1).render([b.to_dict() for b in blocks], {"kind": "message"}, screen, indent="")
    click.echo(f"── {title} " + "─" * max(0, 60 - len(title)))
    click.echo("\n".join(screen.lines))
    click.echo(f"(text fallback: {len(text)} characters, {len(blocks)} blocks)\n")
