"""Settings: clear one-line errors naming the variable, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "DATABASE_URL",
        "SLACK_API_URL",
        "OPSLOOP_PLAYBOOK",
        "OPSLOOP_TIMEZONE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///opsloop.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.opsloop_timezone == "UTC"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("OPSLOOP_TIMEZONE", "Mars/Olympus", "OPSLOOP_TIMEZONE is invalid"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN is invalid"),
        ("SLACK_APP_TOKEN", "xoxb-wrong", "SLACK_APP_TOKEN is invalid"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL is invalid"),
        ("SLACK_API_URL", "ftp://x", "SLACK_API_URL is invalid"),
        ("OPSLOOP_PLAYBOOK", "/nonexistent/playbook.yaml", "OPSLOOP_PLAYBOOK is invalid"),
        ("OPSLOOP_LISTENER_THREADS", "lots", "OPSLOOP_LISTENER_THREADS is invalid"),
    ],
)
def test_malformed_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(expected)
    assert "set " + variable in message  # says how to fix it
    assert "\n" not in message


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPSLOOP_TIMEZONE=Europe/Berlin\n")
    assert load_settings().opsloop_timezone == "Europe/Berlin"


def test_postgres_url_gets_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/ops")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db:5432/ops"


def test_secrets_do_not_appear_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-value")
    settings = load_settings()
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())


def test_run_without_tokens_says_how_to_create_the_app() -> None:
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN is not set" in result.output
    assert "app.yaml" in result.output
    assert "opsloop shell" in result.output
    assert "Traceback" not in result.output


def test_cli_bad_setting_is_one_line_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSLOOP_TIMEZONE", "Nowhere/Special")
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "OPSLOOP_TIMEZONE is invalid" in result.output


def test_serve_refuses_an_empty_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "   ")
    result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET is not set" in result.output
