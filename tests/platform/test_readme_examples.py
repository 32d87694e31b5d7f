"""Every example in README.md works as written, offline.

- Each line of a ```bash block is run, in README order, as a subprocess in one temporary
  folder (with the example playbook in it, as in a checkout) and its own `opsloop.db`, with
  Slack unreachable: exit 0, no traceback, no log line. A line whose comment says
  `needs Slack` or `needs Docker` is skipped as such (it is marked so in the README for its
  readers too; CI has no Docker daemon and no base images);
  the set-up lines that got you here (venv, pip, the test suite itself) are listed below.
- The ```text transcript of `opsloop shell` is typed into the playground; every line it
  shows (but `...`) appears in that order.
- Every slash command written out in the README's text (`/kpi log activation 27% …`) is
  typed into the playground on the example team, as one of its admins, and answers without
  an error.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import EXAMPLE_PLAYBOOK, REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
NO_SLACK = "http://127.0.0.1:9/api/"  # the discard port: nothing listens there
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# How you got here: a virtualenv, the install, the test suite itself.
SETUP = {
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e .",
    "pip install -e '.[dev]'",
    "python -m pytest -n 4",
}


@dataclass(frozen=True)
class Example:
    line: str
    argv: list[str]
    needs_slack: bool


def _bash_examples() -> list[Example]:
    examples = []
    for language, body in BLOCK.findall(README):
        if language != "bash":
            continue
        for raw in body.splitlines():
            if not raw.strip():
                continue
            comment = re.search(r"\s#\s(.*)$", raw)
            examples.append(
                Example(
                    raw.strip(),
                    shlex.split(raw, comments=True),
                    bool(comment and re.search(r"needs (Slack|Docker)", comment.group(1))),
                )
            )
    return examples


EXAMPLES = _bash_examples()


def _env() -> dict[str, str]:
    clean = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "OPSLOOP_", "DATABASE_URL"))
    }
    return {**clean, "SLACK_API_URL": NO_SLACK}


def _opsloop(argv: list[str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert argv[0] == "opsloop", f"not an opsloop command; mark or list it: {argv}"
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv[1:]],
        cwd=cwd,
        env=_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every runnable example, in README order, in one folder (as a reader follows it)."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copy(EXAMPLE_PLAYBOOK, folder / "playbook.example.yaml")
    results = {}
    for example in EXAMPLES:
        if example.needs_slack or example.line in SETUP:
            continue
        results[example.line] = _opsloop(example.argv, folder)
    return results


def _param(example: Example) -> object:
    if example.line in SETUP:
        return pytest.param(example, id=example.line, marks=pytest.mark.skip(reason="set-up"))
    if example.needs_slack:
        skip = pytest.mark.skip(reason="needs Slack or Docker (marked in README)")
        return pytest.param(example, id=example.line, marks=skip)
    return pytest.param(example, id=example.line)


def test_the_readme_has_runnable_examples() -> None:
    runnable = [e for e in EXAMPLES if not e.needs_slack and e.line not in SETUP]
    assert len(runnable) >= 5
    assert any(e.argv[:2] == ["opsloop", "nudge"] for e in runnable)
    assert {e.line for e in EXAMPLES} >= SETUP  # the list above names real README lines


@pytest.mark.parametrize("example", [_param(e) for e in EXAMPLES])
def test_a_readme_command_works_as_written(
    example: Example, ran: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    result = ran[example.line]
    everything = result.stdout + result.stderr
    assert result.returncode == 0, everything
    assert "Traceback" not in everything
    assert not re.search(r"\b(INFO|WARNING|ERROR)\b", result.stderr), result.stderr


def _transcript() -> tuple[list[str], list[str]]:
    """(what is typed, what is shown) in the README's `opsloop shell` transcript."""
    [body] = [body for lang, body in BLOCK.findall(README) if body.startswith("$ opsloop shell")]
    typed, shown = [], []
    for line in body.splitlines()[1:]:
        if line.startswith("opsloop> "):
            typed.append(re.sub(r"\s{2,}#.*$", "", line.removeprefix("opsloop> ")))
        elif line.strip() != "...":
            shown.append(line)
    return typed, shown


def test_the_shell_transcript_is_what_the_shell_shows(tmp_path: Path) -> None:
    typed, shown = _transcript()
    result = _opsloop(["opsloop", "shell"], tmp_path, stdin="\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    output = result.stdout.splitlines()
    position = 0
    for line in shown:
        assert line in output[position:], f"{line!r} not shown (in order)"
        position = output.index(line, position) + 1


TYPED_COMMAND = re.compile(r"`(/(?:ops|feedback|kpi|checklist|escalate)\b[^`]*)`")
# What an answer that refused looks like: a user error's example, or the shell's `!` lines.
REFUSED = ("Example: `", "There is no", "I don't know", "Opsloop has no", "went wrong", "\n! ")


# Named in the text as a command, not given as something to type ("templates for
# `/checklist start`"): on its own it rightly asks which template.
NAMED_NOT_TYPED = {"/checklist start"}
# Shown in the README as what is refused (a target outside the KPI's bounds): each must be.
REFUSED_ON_PURPOSE = {"/kpi target nps 500"}


def _typed_commands() -> list[str]:
    commands = []
    for command in TYPED_COMMAND.findall(README):
        if re.search(r"[<\[|]", command) or command in NAMED_NOT_TYPED:
            continue  # a usage line (`/kpi log <kpi> <value>`) or a name
        if command not in commands:
            commands.append(command)
    return commands


def test_every_slash_command_in_the_readme_is_answered_without_an_error(tmp_path: Path) -> None:
    commands = _typed_commands()
    assert "/kpi log activation 27% pricing change" in commands
    assert "/ops owner onboarding @dana" in commands
    result = _opsloop(
        ["opsloop", "shell", "--user", "U05HEADOPS"],  # Priya, an admin of the example team
        tmp_path,
        stdin="\n".join(commands) + "\n",
    )
    assert result.returncode == 0, result.stderr
    answers = result.stdout.split("\nopsloop> ")[1:]
    assert len(answers) == len(commands)
    for command, answer in zip(commands, answers, strict=True):
        assert answer.startswith(command), answer
        refused = [marker for marker in REFUSED if marker in "\n" + answer]
        if command in REFUSED_ON_PURPOSE:
            assert refused, f"{command} was accepted, though README says it is refused: {answer}"
        else:
            assert not refused, f"{command} was refused: {answer}"
