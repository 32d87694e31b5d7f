"""Where the repository's own files are, for tests that read them (manifest, playbook, code)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = REPO_ROOT / "app.yaml"
EXAMPLE_PLAYBOOK = REPO_ROOT / "playbook.example.yaml"
