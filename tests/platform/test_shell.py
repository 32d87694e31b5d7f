"""`opsloop shell` drives the real app with no Slack and prints what the bot would do."""

from __future__ import annotations

import io
from pathlib import Path

from tests.support.slack import run_shell


def run_lines(tmp_path: Path, *lines: str) -> str:
    out = io.StringIO()
    run_shell(
        database_url=f"sqlite:///{tmp_path / 'shell.db'}",
        user_id="U0PLAYER",
        stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
    )
    return out.getvalue()


def test_shell_answers_ops_help(tmp_path: Path) -> None:
    output = run_lines(tmp_path, "/ops help")
    assert "[only you]" in output
    assert "== Opsloop commands ==" in output
    assert "/ops help" in output


def test_shell_explains_unknown_input_and_missing_elements(tmp_path: Path) -> None:
    output = run_lines(tmp_path, "dance", "click 7", "submit", "/nothing-here")
    assert "I did not understand that" in output
    assert "There is no element [7]" in output
    assert "No modal is open" in output
    assert "No listener handles this" in output


def test_shell_creates_its_database(tmp_path: Path) -> None:
    run_lines(tmp_path, "quit")
    assert (tmp_path / "shell.db").exists()


def test_terminal_rendering_resolves_slack_markup() -> None:
    from tests.support.slack import slack_to_terminal

    shown = slack_to_terminal("in <#C0GEN> and <#C1|general> by <@U1> &lt;!channel&gt; &amp;")
    assert shown == "in #C0GEN and #general by @U1 <!channel> &"
    assert slack_to_terminal("<https://x.test|the doc>") == "the doc (https://x.test)"
