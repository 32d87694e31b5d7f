"""The import rules of ARCHITECTURE.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package (path prefix) → module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "storage": ("bot", "handlers", "schedules", "slack_bolt", "slack_sdk"),
    "bot/services": ("slack_bolt", "slack_sdk", "jinja2", "handlers", "schedules"),
    "bot/render": ("storage", "sqlalchemy"),
    "handlers": ("sqlalchemy", "storage"),
    "schedules": ("slack_bolt",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _cases() -> list[tuple[str, Path]]:
    return [(pkg, p) for pkg in FORBIDDEN for p in sorted((ROOT / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), _cases(), ids=lambda v: str(v))
def test_module_respects_layer_rules(package: str, path: Path) -> None:
    bad = {
        name
        for name in _imports(path)
        for prefix in FORBIDDEN[package]
        if name == prefix or name.startswith(prefix + ".")
    }
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


def test_importing_packages_has_no_side_effects() -> None:
    """No engine, settings or app is created at import (a fresh interpreter, empty env)."""
    import subprocess
    import sys

    code = (
        "import os\n"
        "os.environ.clear()\n"
        "import bot.app, bot.cli, bot.http, handlers, storage.db, storage.models\n"
        "import glob; print(glob.glob('*.db'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "tests", check=True
    )
    assert out.stdout.strip() == "[]"
