"""`opsloop shell` drives the real app with no Slack and prints what the bot would do."""

from __future__ import annotations

import io
from pathlib import Path

from bot.shell.example import example_playbook_path, people_in_playbook
from tests.support.paths import EXAMPLE_PLAYBOOK
from tests.support.slack import run_shell


def run_lines(tmp_path: Path, *lines: str, playbook: Path | None = None) -> str:
    out = io.StringIO()
    run_shell(
        database_url=f"sqlite:///{tmp_path / 'shell.db'}",
        user_id="U0PLAYER",
        playbook=playbook,
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
    # Opsloop's own help, not Bolt's 404 and its `@app.command(...)` developer hint.
    assert "Opsloop has no `/nothing-here` command" in output
    assert "@app.command" not in output


def test_shell_creates_its_database(tmp_path: Path) -> None:
    run_lines(tmp_path, "quit")
    assert (tmp_path / "shell.db").exists()


def test_terminal_rendering_resolves_slack_markup() -> None:
    from tests.support.slack import slack_to_terminal

    shown = slack_to_terminal("in <#C0GEN> and <#C1|general> by <@U1> &lt;!channel&gt; &amp;")
    assert shown == "in #C0GEN and #general by @U1 <!channel> &"
    assert slack_to_terminal("<https://x.test|the doc>") == "the doc (https://x.test)"


def test_the_packaged_example_is_the_repositorys_playbook() -> None:
    packaged = example_playbook_path()
    assert packaged.read_bytes() == EXAMPLE_PLAYBOOK.read_bytes()
    # One file, not a copy that drifts: the package's is a link to the repository's.
    assert packaged.resolve() == EXAMPLE_PLAYBOOK.resolve()


def test_the_example_people_are_named_by_their_comments() -> None:
    people = {p.handle: p for p in people_in_playbook(EXAMPLE_PLAYBOOK.read_text())}
    assert people["dana"].user_id == "U05CSLEAD" and people["dana"].name == "Dana Okafor"
    assert people["tomas"].name == "Tomás Ortega"  # typed without the accent
    assert len(people) == 9


def test_two_people_with_one_first_name_get_first_dot_last() -> None:
    text = "owner: U01ANNA  # Anna Berg\nowner: U02ANNA  # Anna Kühn, finance\n"
    assert [p.handle for p in people_in_playbook(text)] == ["anna.berg", "anna.kuhn"]


def test_the_playground_opens_on_the_example_team(tmp_path: Path) -> None:
    output = run_lines(
        tmp_path, "/kpi list", "/checklist templates", playbook=example_playbook_path()
    )
    intro = output.split("opsloop>")[0]
    assert "team T0PLAYGROUND" in intro
    assert f"DATABASE_URL=sqlite:///{tmp_path / 'shell.db'} opsloop digest --dry-run" in intro
    assert "customer-onboarding" in intro and "@dana" in intro
    assert "Trial-to-paid activation rate" in output  # /kpi list
    assert "`customer-onboarding` — Customer onboarding (9 items)" in output


def test_at_name_is_sent_as_a_mention(tmp_path: Path) -> None:
    output = run_lines(
        tmp_path,
        "as @priya",
        "/ops owner renewals @dana",
        "/ops owner renewals @nobody",
        playbook=EXAMPLE_PLAYBOOK,
    )
    assert "(you are now U05HEADOPS)" in output
    assert "@U05CSLEAD now owns *Renewal risk review*" in output
    # A name nobody has stays text, as in Slack: the command asks for a mention.
    assert "mention the new owner with @" in output.split("/ops owner renewals @nobody")[1]
