"""Playbook validation: every problem names the file, the line and what is wrong."""

from __future__ import annotations

import pytest

from bot.playbook.schema import PlaybookInvalidError, parse_playbook
from bot.settings import SettingsError
from tests.support.paths import REPO_ROOT
from tests.support.playbook import SMALL_PLAYBOOK

ROOT = REPO_ROOT


def _problems(text: str) -> list[str]:
    with pytest.raises(PlaybookInvalidError) as caught:
        parse_playbook(text, "team.yaml")
    return str(caught.value).splitlines()[1:]


def test_example_playbook_is_valid_and_realistic() -> None:
    playbook = parse_playbook((ROOT / "playbook.example.yaml").read_text(), "example")
    keys = {p.key for p in playbook.processes}
    assert {"onboarding", "escalations", "feedback"} <= keys
    kinds = {k.kind for k in playbook.kpis}
    assert {"nps_30d", "median_time_to_onboard", "median_time_to_ack"} <= kinds
    [onboarding] = [c for c in playbook.checklists if c.name == "customer-onboarding"]
    assert 8 <= len(onboarding.items) <= 10
    assert set(playbook.severity_slas) == {"sev1", "sev2", "sev3", "sev4"}
    assert playbook.digest.weekday == "monday" and playbook.digest.time == "09:00"


def test_defaults_and_unquoted_times() -> None:
    playbook = parse_playbook("nudge:\n  time: 10:00\n", "t.yaml")  # YAML 1.1 reads 600
    assert playbook.nudge.time == "10:00"
    assert playbook.nudge.weekdays == ["monday", "tuesday", "wednesday", "thursday", "friday"]
    assert playbook.digest.time == "09:00" and playbook.digest.weekday == "monday"


def test_duplicate_process_names_both_lines() -> None:
    text = "processes:\n  - key: onboarding\n    name: A\n  - key: onboarding\n    name: B\n"
    [problem] = _problems(text)
    assert problem.startswith("team.yaml:4: processes[1].key: duplicate process 'onboarding'")
    assert "first defined on line 2" in problem


def test_unknown_owner_reference() -> None:
    text = (
        "processes:\n  - key: onboarding\n    name: Onboarding\n"
        "kpis:\n  - key: nps\n    name: NPS\n    kind: nps_30d\n    owner: process:nope\n"
    )
    [problem] = _problems(text)
    assert problem.startswith("team.yaml:8: kpis[0].owner: unknown owner 'process:nope'")
    assert "onboarding" in problem


def test_owner_that_is_not_a_user_id() -> None:
    [problem] = _problems("processes:\n  - key: a\n    name: A\n    owner: dana\n")
    assert problem.startswith("team.yaml:4: processes[0].owner:")
    assert "not a Slack user id" in problem


def test_kpi_of_unknown_kind() -> None:
    [problem] = _problems("kpis:\n  - key: x\n    name: X\n    kind: vibes\n")
    assert problem.startswith("team.yaml:4: kpis[0].kind: unknown KPI kind 'vibes'")
    assert "nps_30d" in problem


def test_negative_sla() -> None:
    text = "severity_slas:\n  sev1:\n    ack_minutes: 15\n    resolve_minutes: -60\n"
    [problem] = _problems(text)
    assert problem == "team.yaml:4: severity_slas.sev1.resolve_minutes: must be greater than 0"


def test_negative_checklist_due_days_and_missing_title() -> None:
    text = (
        "checklists:\n  - name: onboarding\n    items:\n      - title: Kickoff\n"
        "        due_days: -1\n      - owner: U0123ABC\n"
    )
    problems = _problems(text)
    assert problems[0].startswith("team.yaml:5: checklists[0].items[0].due_days:")
    assert problems[1] == "team.yaml:6: checklists[0].items[1].title: title is required"


def test_typo_duplicate_key_and_syntax_error() -> None:
    [problem] = _problems("timezone: UTC\nchanels:\n  digest: C1\n")
    assert problem == "team.yaml:2: chanels: unknown setting 'chanels' (check the spelling)"
    [problem] = _problems("timezone: UTC\ntimezone: Europe/Paris\n")
    assert problem.startswith("team.yaml:2: timezone:") and "twice" in problem
    [problem] = _problems("processes:\n  - key: [a\n")
    assert problem.startswith("team.yaml:3: not valid YAML")


def test_every_problem_is_reported_sorted_by_line() -> None:
    text = SMALL_PLAYBOOK.replace("kind: nps_30d", "kind: nope").replace(
        "timezone: Europe/Berlin", "timezone: Mars/Olympus"
    )
    problems = _problems(text)
    assert [p.split(":")[1] for p in problems] == ["1", "35"]


def test_invalid_playbook_is_a_settings_error_so_the_cli_prints_it() -> None:
    with pytest.raises(SettingsError):
        parse_playbook("kpis: 3\n", "x.yaml")


def test_computed_kpi_takes_its_kinds_unit() -> None:
    playbook = parse_playbook("kpis:\n  - key: ack\n    name: Ack\n    kind: median_time_to_ack\n")
    assert playbook.kpis[0].unit == "minutes"
    [problem] = _problems(
        "kpis:\n  - key: ack\n    name: Ack\n    kind: median_time_to_ack\n    unit: hours\n"
    )
    assert problem.startswith("team.yaml:5: kpis[0].unit: a median_time_to_ack KPI is computed")


def test_sla_ack_cannot_be_longer_than_resolve() -> None:
    [problem] = _problems("severity_slas:\n  sev2:\n    ack_minutes: 90\n    resolve_minutes: 60\n")
    assert problem.startswith("team.yaml:2: severity_slas.sev2: ack_minutes must not be longer")
