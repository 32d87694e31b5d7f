"""Dry runs never need Slack, and the playground's database is the command line's too.

Run as the user runs them (subprocesses), with Slack unreachable: no traceback, no
warning or INFO line, exit 0.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

NO_SLACK = "http://127.0.0.1:9/api/"  # the discard port: nothing listens there
# A Monday 10:30 in Berlin: the example team's owners are in their nudge hour, and its
# manual KPIs (activation, gross_churn) are owed for the week.
NUDGE_HOUR = "2026-11-23T10:30:00+01:00"


def opsloop(
    tmp_path: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPSLOOP_", "DATABASE_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, "SLACK_API_URL": NO_SLACK, **env},
        cwd=tmp_path,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_quiet(result: subprocess.CompletedProcess[str]) -> None:
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything
    assert not re.search(r" (INFO|WARNING|ERROR) ", everything), result.stderr


@pytest.fixture
def playground(tmp_path: Path) -> str:
    """The playground opened once on the example team; the DATABASE_URL it printed."""
    shell = opsloop(tmp_path, "shell", stdin="quit\n")
    assert shell.returncode == 0, shell.stderr
    assert_quiet(shell)
    [url] = re.findall(r"DATABASE_URL=(\S+) opsloop digest --dry-run", shell.stdout)
    assert url == f"sqlite:///{tmp_path / 'opsloop-shell.db'}"
    return url


def test_nudge_dry_run_on_the_playground_needs_no_slack(tmp_path: Path, playground: str) -> None:
    result = opsloop(tmp_path, "nudge", "--dry-run", "--as-of", NUDGE_HOUR, DATABASE_URL=playground)
    assert result.returncode == 0, result.stderr
    assert_quiet(result)  # before: users.info retried and logged for every owner
    assert "nudge → U05GROWTH" in result.stdout
    assert "/kpi log activation <value>" in result.stdout


def test_digest_dry_run_on_the_playground_prints_its_team(tmp_path: Path, playground: str) -> None:
    result = opsloop(
        tmp_path, "digest", "--dry-run", "--as-of", NUDGE_HOUR, DATABASE_URL=playground
    )
    assert result.returncode == 0, result.stderr
    assert_quiet(result)
    assert "digest 2026-W47 · team T0PLAYGROUND" in result.stdout


def test_the_playground_can_start_empty(tmp_path: Path) -> None:
    shell = opsloop(tmp_path, "shell", "--empty", stdin="/kpi list\n")
    assert shell.returncode == 0, shell.stderr
    assert "There are no KPIs yet" in shell.stdout


def test_opsloop_playbook_replaces_the_example(tmp_path: Path) -> None:
    playbook = tmp_path / "ours.yaml"
    playbook.write_text(
        "kpis:\n  - key: uptime\n    name: Uptime\n    kind: manual\n    target: 99.9\n"
        "    owner: U0OPS  # Robin\n"
    )
    shell = opsloop(tmp_path, "shell", stdin="/kpi list\n", OPSLOOP_PLAYBOOK=str(playbook))
    assert shell.returncode == 0, shell.stderr
    assert "KPIs: uptime." in shell.stdout and "@robin" in shell.stdout
    assert "activation" not in shell.stdout
