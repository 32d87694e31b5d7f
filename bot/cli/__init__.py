"""The `opsloop` command line: one click group, one error boundary, a module per family.

`OpsloopGroup` is the boundary: whatever a subcommand raises — bad settings, an outdated
schema, a database or a Slack that does not answer — becomes one line on stderr and exit
status 2, never a traceback. Subcommand modules import `bot.cli.common`, never each other.
"""

from __future__ import annotations

import logging
import urllib.error
from typing import Any

import click
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import SQLAlchemyError

from bot.cli import doctor, export, jobs, outbox, playbook, server, shell
from bot.cli.common import CliError
from bot.errors import DatabaseUnavailableError
from bot.settings import SettingsError
from bot.wiring import SchemaOutdatedError, SlackUnavailableError

log = logging.getLogger(__name__)


def _detail(error: BaseException) -> str:
    """The first line of what went wrong, without SQLAlchemy's statement and help link."""
    cause = getattr(error, "orig", None) or error
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return " ".join(first.split())[:200]


def one_line(error: BaseException) -> str:
    """What the user is told about an error a command could not handle itself."""
    detail = _detail(error)
    if isinstance(error, SettingsError | SchemaOutdatedError | SlackUnavailableError):
        return str(error)
    if isinstance(error, DatabaseUnavailableError | SQLAlchemyError):
        return (
            f"the database did not answer ({detail}); check DATABASE_URL and that the "
            "server is running"
        )
    if isinstance(error, SlackApiError):
        reason = error.response.get("error") if error.response is not None else None
        return f"Slack refused the call ({reason or detail}); check SLACK_BOT_TOKEN and scopes"
    if isinstance(error, SlackClientError | urllib.error.URLError | OSError):
        return (
            f"could not reach Slack ({detail}); check the network and SLACK_API_URL "
            "(`opsloop doctor` checks the whole setup)"
        )
    return (
        f"unexpected error ({type(error).__name__}: {detail}); "
        "OPSLOOP_LOG_LEVEL=DEBUG shows the traceback"
    )


class OpsloopGroup(click.Group):
    """A click group whose subcommands never end in a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:
            log.debug("command failed", exc_info=error)
            raise CliError(one_line(error)) from None


# Every subcommand of `opsloop`.
COMMANDS: tuple[click.Command, ...] = (
    server.run,
    server.serve,
    jobs.scheduler,
    server.migrate,
    jobs.digest,
    jobs.nudge,
    outbox.outbox,
    export.export,
    playbook.playbook,
    shell.shell,
    doctor.doctor,
)


@click.group(
    cls=OpsloopGroup,
    commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Log more: -v for INFO, -vv for DEBUG (default: warnings and errors; INFO for "
    "run, serve and scheduler).",
)
def cli(verbose: int) -> None:
    """Opsloop: the Slack bot product-ops teams run their week on."""


def main() -> None:
    cli(prog_name="opsloop")
