"""Configuration from environment variables and a `.env` file (pydantic-settings).

Nothing is read at import time: call `load_settings()`. A missing or malformed value raises
`SettingsError` whose message names the variable, says what is wrong and how to fix it; the
CLI prints that one line and exits without a traceback. Tokens are `SecretStr`, so they never
show up in a repr or a log line.
"""

from __future__ import annotations

import zoneinfo
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///opsloop.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# Why each variable exists and how to fix it, shown when its value is rejected.
_HOW_TO_FIX: dict[str, str] = {
    "slack_bot_token": "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…), "
    "from api.slack.com/apps → your app → OAuth & Permissions",
    "slack_app_token": "set SLACK_APP_TOKEN to an app-level token (xapp-…) with the "
    "connections:write scope, from api.slack.com/apps → Basic Information → App-Level Tokens",
    "slack_signing_secret": "set SLACK_SIGNING_SECRET to the Signing Secret from "
    "api.slack.com/apps → Basic Information → App Credentials",
    "database_url": "set DATABASE_URL to e.g. sqlite:///opsloop.db or "
    "postgresql+psycopg://user:pass@host:5432/opsloop",
    "slack_api_url": "set SLACK_API_URL to an http(s) URL ending in /api/, "
    "e.g. https://slack.com/api/",
    "opsloop_playbook": "set OPSLOOP_PLAYBOOK to the path of a playbook YAML file "
    "(see playbook.example.yaml)",
    "opsloop_timezone": "set OPSLOOP_TIMEZONE to an IANA zone such as Europe/Berlin or UTC",
    "opsloop_listener_threads": "set OPSLOOP_LISTENER_THREADS to a whole number from 1 to 256",
    "opsloop_slack_timeout": "set OPSLOOP_SLACK_TIMEOUT to whole seconds from 1 to 60",
    "opsloop_outbox_claim_seconds": "set OPSLOOP_OUTBOX_CLAIM_SECONDS to whole seconds "
    "from 2 to 3600",
    "opsloop_log_level": "set OPSLOOP_LOG_LEVEL to DEBUG, INFO, WARNING or ERROR",
    "opsloop_templates_dir": "set OPSLOOP_TEMPLATES_DIR to a folder of .j2 files that "
    "override the digest templates (see bot/templates/digest/), or leave it unset",
}


class SettingsError(Exception):
    """A configuration value is missing or malformed; the message is meant for the user."""


class Settings(BaseSettings):
    """Every knob Opsloop reads from the environment (README → Configuration)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    slack_api_url: str = DEFAULT_SLACK_API_URL
    opsloop_playbook: Path | None = None
    opsloop_timezone: str = "UTC"
    opsloop_listener_threads: int = Field(default=16, ge=1, le=256)
    # How long the outbox sender waits for Slack before a post counts as "unsure".
    opsloop_slack_timeout: int = Field(default=10, ge=1, le=60)
    # A row claimed by a sender that went silent this long (killed, a lost machine) is
    # taken over, looked up in Slack before anything is posted again.
    opsloop_outbox_claim_seconds: int = Field(default=90, ge=2, le=3600)
    # None: INFO for the long-running commands (run, serve, scheduler), WARNING for the rest.
    opsloop_log_level: str | None = None
    opsloop_templates_dir: Path | None = None

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp-")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        value = value.strip()
        if value.startswith("postgres://"):
            # Heroku-style URLs; SQLAlchemy wants the dialect spelled out.
            value = "postgresql+psycopg://" + value.removeprefix("postgres://")
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not (value.startswith("sqlite:") or value.startswith("postgresql+psycopg://")):
            raise ValueError("only sqlite:/// and postgresql:// URLs are supported")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("it must be an http:// or https:// URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("opsloop_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known IANA timezone") from exc
        return value

    @field_validator("opsloop_playbook")
    @classmethod
    def _playbook_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no file at {value}")
        return value

    @field_validator("opsloop_templates_dir")
    @classmethod
    def _templates_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"no folder at {value}")
        return value

    @field_validator("opsloop_log_level")
    @classmethod
    def _log_level_known(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"{value!r} is not a log level")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def require(self, *names: str) -> None:
        """Raise `SettingsError` for the first of `names` that is unset."""
        for name in names:
            if getattr(self, name) is None:
                raise SettingsError(f"{name.upper()} is not set: {_HOW_TO_FIX[name]}.")


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and `.env`; raise `SettingsError` on bad values."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "configuration"
        reason = str(error["msg"]).removeprefix("Value error, ")
        fix = _HOW_TO_FIX.get(name, "check the value")
        raise SettingsError(f"{name.upper()} is invalid ({reason}): {fix}.") from None
