"""The shape of the code: import contracts hold, and importing a package has no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

DOMAINS = (
    "org", "feedback", "escalations", "checklists", "kpis",
    "digest", "nudges", "home", "playbook", "status", "reactions",
)  # fmt: skip
RENDERING = ("models.py", "render.py", "modal.py", "modals.py")
SLACK_FACING = (*RENDERING, "messages.py")
USE_CASE_NEVER = ("slack_bolt", "slack_sdk", "jinja2", "handlers", "schedules")


def _rules(path: Path) -> tuple[str, ...]:
    """What the module at `path` must never import directly (the README's dependency rules)."""
    parts = path.relative_to(REPO_ROOT).parts
    if parts[0] == "storage":
        return ("bot", "handlers", "schedules", "slack_bolt", "slack_sdk", "jinja2")
    if parts[0] == "handlers":
        return ("sqlalchemy", "storage", "handlers.")
    if parts[0] == "schedules":
        return ("slack_bolt", "handlers")
    if parts[:2] == ("bot", "slack") and path.name in ("mrkdwn.py", "help.py"):
        return ("storage", "sqlalchemy")
    if len(parts) == 3 and parts[1] in DOMAINS:
        if path.name in RENDERING:
            return ("storage", "sqlalchemy")
        if path.name not in SLACK_FACING and path.name != "__init__.py":
            return USE_CASE_NEVER
    return ()


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _modules() -> list[Path]:
    return sorted(
        path
        for package in ("bot", "handlers", "schedules", "storage")
        for path in (REPO_ROOT / package).rglob("*.py")
        if _rules(path)
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_module_imports_nothing_its_layer_forbids(path: Path) -> None:
    """Direct imports, file by file (lint-imports below also checks them transitively)."""
    own = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
    bad = {
        name
        for name in _imports(path)
        for prefix in _rules(path)
        if (
            name == prefix.rstrip(".")
            or name.startswith(prefix if prefix.endswith(".") else prefix + ".")
        )
        and name != own
    }
    assert not bad, f"{path.relative_to(REPO_ROOT)} imports {sorted(bad)}"


def test_import_contracts_hold() -> None:
    """`lint-imports` (contracts in pyproject.toml) passes: layers, domain independence, no
    storage in models and renderers, no Slack in services, no cycles."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_importing_packages_has_no_side_effects(tmp_path: Path) -> None:
    """No engine, settings or app is created at import (a fresh interpreter, empty env)."""
    code = (
        "import os\n"
        "os.environ.clear()\n"
        "import bot.wiring, bot.cli, bot.slack.http, handlers, schedules.runner, storage.db\n"
        "import storage.models\n"
        "import glob; print(glob.glob('*.db'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert out.stdout.strip() == "[]"
