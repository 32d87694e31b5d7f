"""Checklist templates: the YAML shape, its validation errors, and versioned storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.checklists.templates import (
    ChecklistTemplateSpec,
    list_templates,
    load_template_specs,
    parse_template_specs,
    sync_templates,
)
from bot.clock import FixedClock
from bot.errors import UserError
from storage.db import SessionFactory
from tests.support.checklists import ONBOARDING, TEAM, big_template


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checklists.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_template_specs_reads_the_yaml_shape(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
checklists:
  - name: Onboarding
    title: Customer onboarding
    description: From contract to first value
    items:
      - title: Kick-off call
        owner: starter
        due_days: 0
      - title: Provision the workspace
        owner: U0002
        due_days: 2
        help_url: https://wiki.example.com/provision
      - title: Import data
        owner: process:onboarding
        due_days: 5
""",
    )
    [spec] = load_template_specs(path)
    assert isinstance(spec, ChecklistTemplateSpec)
    assert spec.name == "onboarding"  # names are keys: lower-cased
    assert spec.display_title == "Customer onboarding"
    assert [i.owner for i in spec.items] == ["starter", "U0002", "process:onboarding"]
    assert spec.items[1].help_url == "https://wiki.example.com/provision"


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"title": "Call", "due_days": -1}, "greater than or equal to 0"),
        ({"title": "Call", "due_days": 2.5}, "valid integer"),
        ({"title": "Call", "due_days": "3"}, "valid integer"),
        ({"title": "Call", "owner": "bob"}, "must be a Slack user id"),
        ({"title": "Call", "owner": "process:"}, "must be a Slack user id"),
        ({"title": "Call", "help_url": "javascript:alert(1)"}, "help_url"),
        ({"title": "  "}, "title"),
    ],
)
def test_bad_item_is_rejected_naming_template_and_item(item: dict[str, Any], fragment: str) -> None:
    raw = [{"name": "onboarding", "items": [{"title": "Fine"}, item]}]
    with pytest.raises(UserError) as caught:
        parse_template_specs(raw)
    message = caught.value.message
    assert "template 'onboarding', item 2" in message
    assert fragment in message


def test_template_without_items_is_rejected_naming_it(tmp_path: Path) -> None:
    path = _write(tmp_path, "checklists:\n  - name: empty\n    items: []\n")
    with pytest.raises(UserError) as caught:
        load_template_specs(path)
    assert "template 'empty'" in caught.value.message
    assert "at least one item" in caught.value.message
    assert str(path) in caught.value.message


def test_too_many_items_and_duplicate_names_are_rejected() -> None:
    with pytest.raises(UserError, match="at most 60 items"):
        parse_template_specs([big_template(61)])
    with pytest.raises(UserError, match="used more than once"):
        parse_template_specs([ONBOARDING, {**ONBOARDING, "name": "Onboarding"}])


def test_file_without_checklists_key_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="checklists:"):
        load_template_specs(_write(tmp_path, "processes: []\n"))


def test_sync_stores_a_new_version_only_when_a_template_changes(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    specs = parse_template_specs([ONBOARDING])
    first = sync_templates(sessions, team_id=TEAM, specs=specs, now=clock())
    assert first.created == ("onboarding",)
    again = sync_templates(sessions, team_id=TEAM, specs=specs, now=clock())
    assert again.unchanged == ("onboarding",)
    assert list_templates(sessions, team_id=TEAM)[0].version == 1

    edited = {**ONBOARDING, "items": [*ONBOARDING["items"], {"title": "QBR", "due_days": 30}]}
    result = sync_templates(
        sessions, team_id=TEAM, specs=parse_template_specs([edited]), now=clock()
    )
    assert result.updated == ("onboarding",)
    [summary] = list_templates(sessions, team_id=TEAM)
    assert (summary.version, summary.item_count) == (2, 4)
    # another team is untouched
    assert list_templates(sessions, team_id="T0002") == []


def test_sync_retires_templates_missing_from_the_file(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    sync_templates(
        sessions,
        team_id=TEAM,
        specs=parse_template_specs([ONBOARDING, big_template(3)]),
        now=clock(),
    )
    result = sync_templates(
        sessions, team_id=TEAM, specs=parse_template_specs([ONBOARDING]), now=clock()
    )
    assert result.retired == ("big",)
    assert [t.name for t in list_templates(sessions, team_id=TEAM)] == ["onboarding"]
