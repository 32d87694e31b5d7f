"""The help texts and README name templates the shipped example playbook has (before: they
said `/checklist start onboarding Acme`, and the bot answered there is no such template)."""

from __future__ import annotations

import re

import yaml

from bot.checklists.render import CHECKLIST_HELP
from tests.support.paths import EXAMPLE_PLAYBOOK, REPO_ROOT

EXAMPLE = yaml.safe_load(EXAMPLE_PLAYBOOK.read_text())
TEMPLATES = {str(t["name"]) for t in EXAMPLE["checklists"]}
START = re.compile(r"/checklist start ([A-Za-z0-9_-]+)")


def _started(text: str) -> set[str]:
    return set(START.findall(text)) - {"<template>"}


def test_checklist_help_starts_a_template_of_the_example_playbook() -> None:
    started = _started("\n".join(CHECKLIST_HELP.usage))
    assert started and started <= TEMPLATES


def test_readme_starts_only_templates_of_the_example_playbook() -> None:
    started = _started((REPO_ROOT / "README.md").read_text())
    assert started and started <= TEMPLATES
