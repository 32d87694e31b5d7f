"""CLI logs are quiet by default: warnings and errors for one-shot commands (no Alembic INFO
lines around `opsloop digest --dry-run`), INFO for the services, `-v` / `-vv` for more."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.common import settings_from_env


@pytest.fixture(autouse=True)
def root_level() -> Iterator[None]:
    before = logging.getLogger().level
    yield
    logging.getLogger().setLevel(before)


def _level_after(args: list[str], env: dict[str, str]) -> int:
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    assert "alembic.runtime.migration" not in result.output
    return logging.getLogger().level


@pytest.mark.parametrize(
    ("flags", "env_level", "expected"),
    [
        ([], None, logging.WARNING),
        (["-v"], None, logging.INFO),
        (["-vv"], None, logging.DEBUG),
        ([], "ERROR", logging.ERROR),
        (["-v"], "ERROR", logging.INFO),  # asked for on the command line: it wins
    ],
)
def test_a_one_shot_command_logs_warnings_unless_asked(
    tmp_path: Path, flags: list[str], env_level: str | None, expected: int
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'quiet.db'}", "OPSLOOP_LOG_LEVEL": ""}
    if env_level:
        env["OPSLOOP_LOG_LEVEL"] = env_level
    level = _level_after([*flags, "nudge", "--dry-run"], env)
    assert level == expected


def test_a_service_logs_info_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSLOOP_LOG_LEVEL", raising=False)
    settings_from_env(service=True)
    assert logging.getLogger().level == logging.INFO
    settings_from_env()
    assert logging.getLogger().level == logging.WARNING
