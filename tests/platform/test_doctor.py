"""`opsloop doctor` against the Slack stand-in: each check in order, each failure with its
fix, exit 0 only when everything passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli import cli
from bot.playbook.schema import parse_playbook
from bot.playbook.service import import_playbook
from bot.slack.scopes import BOT_SCOPES
from bot.slack.sender import OutboxSender
from schedules.leader import LEASE_NAME
from storage import leases
from storage.db import SessionFactory, transaction
from tests.support.slack import SlackStandin

TEAM = "T0STANDIN"  # the workspace the stand-in's auth.test names
PLAYBOOK = """\
timezone: Europe/Berlin
channels:
  escalations: C0ESC
  digest: C0DIGEST
admins: [U0ADMIN]
processes:
  - key: onboarding
    name: Customer onboarding
    owner: U0DANA  # Dana
kpis:
  - key: activation
    name: Activation
    kind: manual
    target: 25
    owner: U0ANA
"""
CHECKS = [
    "settings",
    "database",
    "Slack bot token",
    "Slack scopes",
    "Socket Mode app token",
    "escalations channel",
    "digest channel",
    "owners",
    "scheduler",
    "outbox",
]


@pytest.fixture
def ready(
    standin: SlackStandin, sessions: SessionFactory, engine: Engine, sender: OutboxSender
) -> SlackStandin:
    """A setup that passes every check: migrated, imported, people active, a scheduler, and
    the import's new-owner DMs delivered (an empty outbox backlog)."""
    now = datetime.now(UTC)
    import_playbook(sessions, TEAM, parse_playbook(PLAYBOOK, "playbook.yaml"), now)
    for user_id in ("U0ADMIN", "U0DANA", "U0ANA"):
        standin.add_user(user_id, user_id.lower())
    assert sender.drain(30)
    with transaction(sessions) as session:
        leases.claim_lease(
            session, name=LEASE_NAME, holder="host:1:abc", now=now, ttl=timedelta(minutes=15)
        )
    return standin


def doctor(
    db_url: str, standin: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str
) -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("OPSLOOP_PLAYBOOK", "SLACK_SIGNING_SECRET", "OPSLOOP_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    values = {
        "DATABASE_URL": db_url,
        "SLACK_API_URL": standin.base_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_APP_TOKEN": "xapp-test",
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["doctor"])
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def line_of(lines: list[str], name: str) -> str:
    return next(line for line in lines if line[2:].startswith(f"{name}:"))


def fix_after(lines: list[str], name: str) -> str:
    index = lines.index(line_of(lines, name))
    assert lines[index + 1].startswith("    fix: ")
    return lines[index + 1]


def test_everything_passes_against_the_standin(
    db_url: str, ready: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path)
    assert code == 0, "\n".join(lines)
    named = [line[2:].split(":")[0] for line in lines if line[:2] in ("✓ ", "✗ ", "· ")]
    assert named == CHECKS  # in this order
    assert all(line.startswith("✓") for line in lines if line[:2] in ("✓ ", "✗ ", "· "))
    assert "valid for workspace T0STANDIN" in line_of(lines, "Slack bot token")
    assert f"all {len(BOT_SCOPES)} the app needs are granted" in line_of(lines, "Slack scopes")
    assert "#c0digest (C0DIGEST), the bot is a member" in line_of(lines, "digest channel")
    # From the database: the owners of processes and KPIs.
    assert "all 2 people the playbook names are active" in line_of(lines, "owners")
    assert "led by host:1:abc" in line_of(lines, "scheduler")
    assert "0 waiting, 0 failed" in line_of(lines, "outbox")
    assert lines[-1] == f"All {len(CHECKS)} checks passed."
    asked = {call.method for call in ready.calls()}
    assert {"auth.test", "apps.connections.open", "conversations.info", "users.info"} <= asked


def test_with_opsloop_playbook_its_channels_and_people_are_checked(
    db_url: str, ready: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    playbook = tmp_path / "playbook.yaml"
    playbook.write_text(PLAYBOOK.replace("digest: C0DIGEST", "digest: C0OTHER"))
    ready.channels_without_bot.add("C0OTHER")
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path, OPSLOOP_PLAYBOOK=str(playbook))
    assert code == 1
    assert line_of(lines, "playbook") == f"✓ playbook: {playbook} is valid"
    assert "the bot is not in #c0other" in line_of(lines, "digest channel")
    assert "all 3 people the playbook names are active" in line_of(lines, "owners")  # + admin


def test_a_missing_scope_is_named_with_why_and_how(
    db_url: str, ready: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert ready.granted_scopes is not None
    ready.granted_scopes.remove("im:history")
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path)
    assert code == 1
    scopes = line_of(lines, "Slack scopes")
    assert scopes.startswith("✗") and "missing im:history (finding a post" in scopes
    assert "reinstall the app" in fix_after(lines, "Slack scopes")
    assert lines[-1] == f"1 of {len(CHECKS)} checks failed."


def test_a_channel_the_bot_is_not_in_says_invite(
    db_url: str, ready: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ready.channels_without_bot.add("C0DIGEST")
    ready.missing_channels.add("C0ESC")
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path)
    assert code == 1
    assert line_of(lines, "digest channel").startswith("✗ digest channel: the bot is not in")
    assert "/invite @Opsloop in #c0digest" in fix_after(lines, "digest channel")
    assert "C0ESC does not exist" in line_of(lines, "escalations channel")
    assert "channels.escalations in the playbook" in fix_after(lines, "escalations channel")


def test_a_deactivated_owner_and_no_scheduler_fail(
    db_url: str,
    ready: SlackStandin,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    ready.users["U0DANA"].deleted = True
    with transaction(sessions) as session:
        leases.release_lease(session, name=LEASE_NAME, holder="host:1:abc")
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path)
    assert code == 1
    assert "U0DANA (u0dana, deactivated)" in line_of(lines, "owners")
    assert "/ops owner <process> @someone" in fix_after(lines, "owners")
    assert "no scheduler holds the lease" in line_of(lines, "scheduler")
    assert "opsloop run" in fix_after(lines, "scheduler")


def test_slack_unreachable_is_a_failed_check_not_a_traceback(
    db_url: str, ready: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, lines = doctor(
        db_url, ready, monkeypatch, tmp_path, SLACK_API_URL="http://127.0.0.1:9/api/"
    )
    assert code == 1
    token = line_of(lines, "Slack bot token")
    assert token.startswith("✗") and "could not reach Slack at http://127.0.0.1:9/api/" in token
    assert "SLACK_API_URL" in fix_after(lines, "Slack bot token")
    assert line_of(lines, "channels").startswith("· channels: not checked")
    assert line_of(lines, "outbox").startswith("✓")  # the database still answers


def test_a_database_not_migrated_says_run_migrate(
    standin: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, lines = doctor(f"sqlite:///{tmp_path / 'new.db'}", standin, monkeypatch, tmp_path)
    assert code == 1
    database = line_of(lines, "database")
    assert database.startswith("✗ database: reachable, but the schema is at empty")
    assert fix_after(lines, "database") == "    fix: run `opsloop migrate`"
    assert line_of(lines, "outbox").startswith("· outbox: not checked")


def test_a_failed_outbox_message_fails_with_the_command_to_look(
    db_url: str,
    ready: SlackStandin,
    sessions: SessionFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from bot.outbox import models as outbox
    from bot.outbox.service import enqueue_messages
    from storage import outbox as outbox_rows

    now = datetime.now(UTC)
    enqueue_messages(sessions, team_id=TEAM, messages=[outbox.post("k", "C0X", "hi")], now=now)
    with transaction(sessions) as session:
        row = outbox_rows.get_by_key(session, team_id=TEAM, key="k")
        assert row is not None
        row.state = "failed"
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path)
    assert code == 1
    assert "0 waiting, 1 failed" in line_of(lines, "outbox")
    assert "opsloop outbox --failed" in fix_after(lines, "outbox")


def test_an_app_token_slack_refuses_fails_with_where_to_get_one(
    db_url: str, ready: SlackStandin, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ready.fail("apps.connections.open", status=200, error="invalid_auth", retry_after=None)
    code, lines = doctor(db_url, ready, monkeypatch, tmp_path)
    assert code == 1
    assert "apps.connections.open: Slack answered invalid_auth" in line_of(
        lines, "Socket Mode app token"
    )
    assert "connections:write" in fix_after(lines, "Socket Mode app token")
    assert lines[-1] == f"1 of {len(CHECKS)} checks failed."
