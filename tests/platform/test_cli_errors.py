"""The CLI's one error boundary: every command answers a broken setting, a database that does
not answer or an unreachable Slack with one line and exit status 2, never a traceback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.escalations import service as escalations
from bot.escalations.models import EscalationDraft
from bot.org import service as directory
from bot.org import team_settings
from storage import schema
from storage.db import make_engine, make_session_factory

TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_APP_TOKEN": "xapp-test",
    "SLACK_SIGNING_SECRET": "secret",
}
COMMANDS = [
    ["export", "feedback"],
    ["digest"],
    ["nudge"],
    ["run"],
    ["serve"],
    ["scheduler"],
    ["playbook", "export", "--team", "T0001"],
    ["migrate"],
]
UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/opsloop"
NO_SLACK = "http://127.0.0.1:9/api/"  # the discard port: nothing listens there


def _invoke(
    args: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {**TOKENS, **env}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.output


def _one_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_malformed_database_url_is_one_line(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = _invoke(args, {"DATABASE_URL": "mysql://x"}, monkeypatch, tmp_path)
    assert code == 2
    assert "DATABASE_URL is invalid" in _one_line(output)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_database_that_does_not_answer_is_one_line(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = _invoke(args, {"DATABASE_URL": UNREACHABLE_DB}, monkeypatch, tmp_path)
    assert code == 2
    line = _one_line(output)
    assert "the database did not answer" in line and "Connection refused" in line
    assert "sqlalche.me" not in line  # SQLAlchemy's help link and statement are cut


def test_an_unreachable_slack_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}", "SLACK_API_URL": NO_SLACK}
    code, output = _invoke(["playbook", "export"], env, monkeypatch, tmp_path)
    assert code == 2
    assert "could not ask Slack for the workspace id" in output.splitlines()[-1]
    assert "Traceback" not in output


def test_an_unexpected_error_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.cli import export

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(export.EXPORTERS, "feedback", broken)  # type: ignore[arg-type]
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}"}
    code, output = _invoke(["export", "feedback"], env, monkeypatch, tmp_path)
    assert code == 2
    line = output.splitlines()[-1]
    assert "unexpected error (ZeroDivisionError: a bug)" in line
    assert "Traceback" not in output


@pytest.mark.parametrize(
    "args", [["digest", "--team", "T0001"], ["nudge", "--as-of", "2026-11-23T10:30:00+00:00"]]
)
def test_a_post_to_an_unreachable_slack_ends_with_one_line_and_exit_2(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Something was due (last week's digest, a SEV1 nobody acknowledged) and Slack could
    not be reached: the command says so in one line before queuing anything (before: exit
    0; then a warning per attempt and "could not be posted")."""
    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = make_engine(url)
    schema.upgrade(engine)
    sessions = make_session_factory(engine)
    directory.set_team_setting(
        sessions, team_id="T0001", key=team_settings.DIGEST_CHANNEL, value="C0DIGEST"
    )
    directory.set_team_setting(
        sessions, team_id="T0001", key=team_settings.TEAM_TIMEZONE, value="UTC"
    )
    directory.set_process_owner(
        sessions, team_id="T0001", process_key="escalations", process_name="Escalations",
        owner_id="U0OWNER", actor_id="U0ADMIN", now=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    escalations.open_escalation(
        sessions, team_id="T0001", reporter_id="U0REPORTER",
        draft=EscalationDraft(title="Down", severity="sev1", owner_id="U0OWNER"),
        now=datetime(2026, 11, 23, 9, tzinfo=UTC) - timedelta(days=1),
    )  # fmt: skip
    engine.dispose()
    code, output = _invoke(args, {"DATABASE_URL": url, "SLACK_API_URL": NO_SLACK}, monkeypatch,
                           tmp_path)  # fmt: skip
    assert code == 2, output
    line = _one_line(output)
    assert "could not reach Slack at http://127.0.0.1:9/api/" in line
    assert "nothing was queued (--dry-run prints without Slack)" in line


def test_run_with_no_route_to_slack_is_one_line_naming_slack(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'o.db'}", "SLACK_API_URL": NO_SLACK}
    code, output = _invoke(["run", "--no-scheduler"], env, monkeypatch, tmp_path)
    assert code == 2
    line = output.strip().splitlines()[-1]
    assert line.startswith("Error: could not reach Slack (")
    assert "check the network and SLACK_API_URL (`opsloop doctor`" in line
    assert "--dry-run" not in line  # `run` has none
    assert "Traceback" not in output
