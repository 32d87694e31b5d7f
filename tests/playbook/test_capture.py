"""The playbook's `capture:` block: which reactions capture a message, or none."""

from __future__ import annotations

import pytest
import yaml

from bot.clock import FixedClock
from bot.playbook import service as playbook
from bot.playbook.schema import PlaybookInvalidError, parse_playbook
from bot.reactions.models import CaptureKind
from bot.reactions.service import capture_settings
from storage.db import SessionFactory

TEAM = "T0001"


def test_defaults_are_memo_and_rotating_light() -> None:
    capture = parse_playbook("version: 1\n", "t.yaml").capture
    assert (capture.feedback, capture.escalate) == (["memo"], ["rotating_light"])


def test_colons_and_case_are_forgiven_and_an_empty_list_turns_a_capture_off() -> None:
    text = "capture:\n  feedback: [':Memo:', inbox_tray, memo]\n  escalate: []\n"
    capture = parse_playbook(text, "t.yaml").capture
    assert (capture.feedback, capture.escalate) == (["memo", "inbox_tray"], [])


@pytest.mark.parametrize(
    ("block", "says"),
    [
        ("capture:\n  feedback: ['<!channel>']\n", "is not an emoji name"),
        ("capture:\n  feedback: [memo]\n  escalate: [memo]\n", "cannot both"),
        ("capture:\n  feedback: memo\n", "valid list"),
        ("capture:\n  reactions: [memo]\n", "reactions"),
    ],
)
def test_bad_capture_blocks_name_the_line(block: str, says: str) -> None:
    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook("version: 1\n" + block, "team.yaml")
    message = str(caught.value)
    assert "team.yaml:" in message and says in message


def test_import_sets_the_team_capture_and_export_writes_it_back(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    assert capture_settings(sessions, team_id=TEAM).kind_of("memo") == CaptureKind.FEEDBACK
    text = "version: 1\ncapture:\n  feedback: []\n  escalate: [fire, rotating_light]\n"
    playbook.import_playbook(sessions, TEAM, parse_playbook(text, "t.yaml"), clock())
    settings = capture_settings(sessions, team_id=TEAM)
    assert settings.kind_of("memo") is None
    assert settings.kind_of("fire") == CaptureKind.ESCALATE
    assert settings.kind_of("rotating_light::skin-tone-2") == CaptureKind.ESCALATE
    exported = yaml.safe_load(playbook.export_playbook(sessions, team_id=TEAM))
    assert exported["capture"] == {"feedback": [], "escalate": ["fire", "rotating_light"]}
    assert parse_playbook(playbook.export_playbook(sessions, team_id=TEAM), "again").capture
