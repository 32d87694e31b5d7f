"""`opsloop doctor`: is this installation ready? Every check in order, each with its fix.

Settings; the database (reachable, migrated); Slack (the bot token, its scopes against the
ones Opsloop needs, the app token of Socket Mode); the configured channels (they exist, the
bot is in them); the playbook's people (active users); the scheduler lease and the outbox
backlog. Read-only: it changes nothing, in the database or in Slack. The CLI is not a
listener, so it may ask Slack directly and wait for the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.cli.common import settings_from_env
from bot.clock import system_clock
from bot.deps import Deps
from bot.errors import DatabaseUnavailableError
from bot.ids import is_user_id
from bot.org import owners, team_settings
from bot.org import service as directory
from bot.playbook.schema import Playbook
from bot.playbook.service import load_playbook_file
from bot.settings import Settings, SettingsError
from bot.slack.scopes import BOT_SCOPES
from bot.wiring import make_deps
from schedules.leader import LEASE_NAME
from storage import leases, schema
from storage import outbox as outbox_rows
from storage.db import transaction
from storage.models.outbox import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENDING

# A message still waiting this long means nothing is sending, or Slack keeps refusing.
STALE_PENDING = timedelta(minutes=15)
# Doctor waits this long for each Slack answer, and never retries: it reports.
SLACK_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class Check:
    """One line of the report. `passed` None: nothing to check here (not a failure)."""

    name: str
    passed: bool | None
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        mark = {True: "✓", False: "✗", None: "·"}[self.passed]
        shown = [f"{mark} {self.name}: {self.detail}"]
        if self.fix and self.passed is False:
            shown.append(f"    fix: {self.fix}")
        return shown


@dataclass
class _Found:
    """What earlier checks learned that later ones need."""

    settings: Settings | None = None
    playbook: Playbook | None = None
    deps: Deps | None = None
    database_ok: bool = False
    slack: WebClient | None = None
    team_id: str | None = None


def _client(settings: Settings, token: str) -> WebClient:
    """A Web API client that answers within SLACK_TIMEOUT_SECONDS and never retries."""
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[],
    )


def _slack_failure(error: Exception, settings: Settings) -> tuple[str, str]:
    """(what happened, the fix) for a Web API call that did not succeed."""
    if isinstance(error, SlackApiError):
        return (
            f"Slack answered {error.response.get('error')}",
            "check the token (api.slack.com/apps → your app)",
        )
    return (
        f"could not reach Slack at {settings.slack_api_url} ({error})",
        "check the network (a proxy, a firewall) and SLACK_API_URL",
    )


def _check_settings(found: _Found) -> Iterator[Check]:
    try:
        settings = settings_from_env()
    except SettingsError as error:
        yield Check("settings", False, str(error), "see README → Configuration")
        return
    found.settings = settings
    yield Check(
        "settings",
        True,
        f"DATABASE_URL {make_url(settings.database_url).render_as_string(hide_password=True)}, "
        f"Slack at {settings.slack_api_url}",
    )
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        yield Check(
            "how Slack reaches Opsloop",
            False,
            "neither SLACK_APP_TOKEN (Socket Mode, `opsloop run`) nor SLACK_SIGNING_SECRET "
            "(HTTP, `opsloop serve`) is set",
            "set SLACK_APP_TOKEN (README → Create the Slack app, step 2)",
        )
    if settings.opsloop_playbook is not None:
        try:
            found.playbook = load_playbook_file(settings.opsloop_playbook)
        except SettingsError as error:
            yield Check("playbook", False, str(error), "fix the lines named above")
        else:
            yield Check("playbook", True, f"{settings.opsloop_playbook} is valid")


def _check_database(found: _Found) -> Iterator[Check]:
    settings = found.settings
    if settings is None:
        return
    try:
        deps = make_deps(settings)
        found.deps = deps
        current = schema.current_revision(deps.engine)
        head = schema.head_revision(deps.engine)
    except (SQLAlchemyError, DatabaseUnavailableError, OSError) as error:
        cause = getattr(error, "orig", None) or error
        yield Check(
            "database",
            False,
            f"did not answer ({str(cause).strip().splitlines()[0][:160]})",
            "check DATABASE_URL and that the database server is running",
        )
        return
    if current != head:
        yield Check(
            "database",
            False,
            f"reachable, but the schema is at {current or 'empty'} and this Opsloop needs {head}",
            "run `opsloop migrate`",
        )
        return
    found.database_ok = True
    yield Check("database", True, f"reachable, schema up to date ({head})")


def _check_bot_token(found: _Found) -> Iterator[Check]:
    settings = found.settings
    if settings is None:
        return
    if settings.slack_bot_token is None:
        yield Check(
            "Slack bot token",
            False,
            "SLACK_BOT_TOKEN is not set",
            "set it to the Bot User OAuth Token (xoxb-…) from api.slack.com/apps → "
            "OAuth & Permissions",
        )
        return
    client = _client(settings, settings.slack_bot_token.get_secret_value())
    try:
        answer = client.auth_test()
    except (SlackApiError, SlackClientError, OSError) as error:
        detail, fix = _slack_failure(error, settings)
        if isinstance(error, SlackApiError):
            fix = (
                "set SLACK_BOT_TOKEN to the app's current Bot User OAuth Token "
                "(api.slack.com/apps → OAuth & Permissions; reinstall the app if it was removed)"
            )
        yield Check("Slack bot token", False, f"auth.test: {detail}", fix)
        return
    found.slack = client
    found.team_id = str(answer.get("team_id"))
    yield Check(
        "Slack bot token",
        True,
        f"valid for workspace {answer.get('team') or found.team_id} ({found.team_id}) "
        f"as {answer.get('user') or answer.get('user_id')}",
    )
    yield _scopes_check(answer)


def _header(response: SlackResponse, name: str) -> str | None:
    for key, value in (response.headers or {}).items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


def _scopes_check(answer: SlackResponse) -> Check:
    granted_header = _header(answer, "x-oauth-scopes")
    if granted_header is None:
        return Check(
            "Slack scopes",
            False,
            "Slack did not say which scopes the token has (no x-oauth-scopes header)",
            "point SLACK_API_URL at Slack's Web API (https://slack.com/api/)",
        )
    granted = {scope.strip() for scope in granted_header.split(",") if scope.strip()}
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        why = "; ".join(f"{scope} ({BOT_SCOPES[scope]})" for scope in missing)
        return Check(
            "Slack scopes",
            False,
            f"missing {why}",
            "add them under api.slack.com/apps → OAuth & Permissions → Bot Token Scopes "
            "(or paste app.yaml as the manifest again), then reinstall the app",
        )
    return Check("Slack scopes", True, f"all {len(BOT_SCOPES)} the app needs are granted")


def _check_app_token(found: _Found) -> Iterator[Check]:
    settings = found.settings
    if settings is None:
        return
    if settings.slack_app_token is None:
        yield Check(
            "Socket Mode app token",
            None,
            "SLACK_APP_TOKEN not set: only `opsloop run` (Socket Mode) needs it",
        )
        return
    token = settings.slack_app_token.get_secret_value()
    try:
        _client(settings, token).apps_connections_open(app_token=token)
    except (SlackApiError, SlackClientError, OSError) as error:
        detail, fix = _slack_failure(error, settings)
        if isinstance(error, SlackApiError):
            fix = (
                "set SLACK_APP_TOKEN to an app-level token (xapp-…) with connections:write, "
                "and turn Socket Mode on (api.slack.com/apps → Basic Information / Socket Mode)"
            )
        yield Check("Socket Mode app token", False, f"apps.connections.open: {detail}", fix)
        return
    yield Check("Socket Mode app token", True, "opens a Socket Mode connection")


def _configured_channels(found: _Found) -> dict[str, str] | None:
    """Which channel each purpose posts to: the playbook file's, else the database's."""
    if found.playbook is not None:
        channels = found.playbook.channels
        configured = {
            "escalations": channels.escalations,
            "digest": channels.digest,
            "feedback": channels.feedback,
        }
        return {purpose: channel for purpose, channel in configured.items() if channel}
    if found.deps is None or not found.database_ok or found.team_id is None:
        return None
    keys = {
        "escalations": team_settings.ESCALATIONS_CHANNEL,
        "digest": team_settings.DIGEST_CHANNEL,
        "feedback": team_settings.FEEDBACK_CHANNEL,
    }
    stored = {
        purpose: directory.get_team_setting(found.deps.sessions, team_id=found.team_id, key=key)
        for purpose, key in keys.items()
    }
    return {purpose: channel for purpose, channel in stored.items() if channel}


def _not_checked(found: _Found, facts: object | None) -> str | None:
    """Why a check that asks Slack about the playbook's facts cannot run, if it cannot."""
    if found.slack is None:
        return "not checked: auth.test did not succeed (above)"
    if facts is None:
        return "not checked: the database is not ready"
    return None


def _check_channels(found: _Found) -> Iterator[Check]:
    if found.settings is None:
        return
    slack = found.slack
    channels = _configured_channels(found) if slack else None
    reason = _not_checked(found, channels)
    if reason is not None or channels is None or slack is None:
        yield Check("channels", None, reason or "")
        return
    if not channels:
        yield Check(
            "channels",
            None,
            "none configured (the playbook's channels:); escalations are posted where they "
            "are raised and no digest is posted",
        )
        return
    for purpose, channel in channels.items():
        name = f"{purpose} channel"
        try:
            info = slack.conversations_info(channel=channel)
        except SlackApiError as error:
            reason = error.response.get("error")
            if reason == "channel_not_found":
                yield Check(
                    name,
                    False,
                    f"{channel} does not exist, or is private without the bot in it",
                    f"set channels.{purpose} in the playbook to the channel's id (channel → "
                    "About → Channel ID), or /invite @Opsloop to the private channel",
                )
            else:
                yield Check(
                    name,
                    False,
                    f"conversations.info {channel}: Slack answered {reason}",
                    "grant the scopes above (channels:read, groups:read) and reinstall",
                )
            continue
        except (SlackClientError, OSError) as error:
            detail, fix = _slack_failure(error, found.settings)
            yield Check(name, False, detail, fix)
            continue
        conversation = info.get("channel") or {}
        shown = f"#{conversation.get('name') or channel} ({channel})"
        if conversation.get("is_member"):
            yield Check(name, True, f"{shown}, the bot is a member")
        else:
            yield Check(
                name,
                False,
                f"the bot is not in {shown}: posts there fail with not_in_channel",
                f"in Slack, type /invite @Opsloop in #{conversation.get('name') or channel}",
            )


def _playbook_people(found: _Found) -> set[str] | None:
    """Who the playbook makes responsible: in the OPSLOOP_PLAYBOOK file, admins and every
    owner named by id; else, as imported, the owners of processes and KPIs."""
    if found.playbook is not None:
        playbook = found.playbook
        named = [*playbook.admins, *(p.owner for p in playbook.processes)]
        named += [kpi.owner for kpi in playbook.kpis]
        named += [item.owner for c in playbook.checklists for item in c.items]
        return {user_id for user_id in named if user_id and is_user_id(user_id)}
    if found.deps is None or not found.database_ok or found.team_id is None:
        return None
    return owners.list_owner_ids(found.deps.sessions, team_id=found.team_id)


def _check_owners(found: _Found) -> Iterator[Check]:
    if found.settings is None:
        return
    slack = found.slack
    people = _playbook_people(found) if slack else None
    reason = _not_checked(found, people)
    if reason is not None or people is None or slack is None:
        yield Check("owners", None, reason or "")
        return
    if not people:
        yield Check("owners", None, "the playbook names no one yet")
        return
    inactive: list[str] = []
    for user_id in sorted(people):
        try:
            user = slack.users_info(user=user_id).get("user") or {}
        except SlackApiError as error:
            inactive.append(f"{user_id} ({error.response.get('error')})")
            continue
        except (SlackClientError, OSError) as error:
            detail, fix = _slack_failure(error, found.settings)
            yield Check("owners", False, detail, fix)
            return
        if user.get("deleted"):
            inactive.append(f"{user_id} ({user.get('real_name') or user.get('name')}, deactivated)")
    if inactive:
        yield Check(
            "owners",
            False,
            f"not active in Slack: {', '.join(inactive)}",
            "give their processes and KPIs a new owner: `/ops owner <process> @someone`, or "
            "edit the playbook and import it",
        )
    else:
        yield Check("owners", True, f"all {len(people)} people the playbook names are active")


def _check_scheduler(found: _Found, now: datetime) -> Iterator[Check]:
    if found.deps is None or not found.database_ok:
        if found.settings is not None:
            yield Check("scheduler", None, "not checked: the database is not ready")
        return
    with transaction(found.deps.sessions) as session:
        lease = leases.get_lease(session, name=LEASE_NAME)
        holder = (lease.holder, lease.expires_at) if lease is not None else None
    if holder is None or holder[1] <= now:
        yield Check(
            "scheduler",
            False,
            "no scheduler holds the lease: digests and nudges are not being posted",
            "start `opsloop run` (or `opsloop scheduler`, or `serve --with-scheduler`)",
        )
        return
    yield Check(
        "scheduler",
        True,
        f"led by {holder[0]} (lease renewed until {holder[1]:%Y-%m-%d %H:%M} UTC)",
    )


def _check_outbox(found: _Found, now: datetime) -> Iterator[Check]:
    if found.deps is None or not found.database_ok:
        if found.settings is not None:
            yield Check("outbox", None, "not checked: the database is not ready")
        return
    with transaction(found.deps.sessions) as session:
        counts = outbox_rows.count_by_state(session)
        oldest = outbox_rows.oldest_created_at(session, states=[OUTBOX_PENDING, OUTBOX_SENDING])
    waiting = counts.get(OUTBOX_PENDING, 0) + counts.get(OUTBOX_SENDING, 0)
    failed = counts.get(OUTBOX_FAILED, 0)
    detail = f"{waiting} waiting, {failed} failed"
    if oldest is not None:
        detail += f", oldest waiting since {oldest:%Y-%m-%d %H:%M} UTC"
    if failed:
        yield Check(
            "outbox",
            False,
            detail,
            "`opsloop outbox --failed` shows Slack's error; `opsloop outbox resend ID` "
            "or `skip ID` once it is fixed",
        )
    elif oldest is not None and now - oldest > STALE_PENDING:
        yield Check(
            "outbox",
            False,
            detail,
            "nothing is sending: start `opsloop run` or `serve`; `opsloop outbox` shows "
            "each message's last error",
        )
    else:
        yield Check("outbox", True, detail)


def run_checks(now: Callable[[], datetime] | None = None) -> list[Check]:
    """Every check, in order; later checks use what earlier ones found."""
    found = _Found()
    checks: list[Check] = []
    checks += _check_settings(found)
    checks += _check_database(found)
    checks += _check_bot_token(found)
    checks += _check_app_token(found)
    checks += _check_channels(found)
    checks += _check_owners(found)
    moment = (now or system_clock)()
    checks += _check_scheduler(found, moment)
    checks += _check_outbox(found, moment)
    if found.deps is not None:
        found.deps.engine.dispose()
    return checks


@click.command()
def doctor() -> None:
    """Check the installation: settings, database, Slack token and scopes, channels,
    owners, scheduler and outbox; each problem with its fix. Exit 1 when one fails."""
    checks = run_checks()
    for check in checks:
        for line in check.lines():
            click.echo(line)
    failed = [check for check in checks if check.passed is False]
    if failed:
        click.echo(f"\n{len(failed)} of {len(checks)} checks failed.")
        raise SystemExit(1)
    click.echo(f"\nAll {len(checks)} checks passed.")
