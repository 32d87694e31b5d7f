"""`opsloop playbook check|import|export`, `opsloop export kpis` and the shell, via click."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import Engine

from bot.checklists.templates import list_templates
from bot.cli import cli
from bot.clock import FixedClock
from bot.kpis import service as kpis
from bot.org import owners
from bot.playbook.schema import parse_playbook
from storage.db import SessionFactory
from tests.support.paths import REPO_ROOT
from tests.support.playbook import ADMIN, OWNER, SMALL_PLAYBOOK, TEAM, load_small_playbook
from tests.support.slack import run_shell

ROOT = REPO_ROOT
EXAMPLE = ROOT / "playbook.example.yaml"


@pytest.fixture
def run(db_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "OPSLOOP_PLAYBOOK"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env={"DATABASE_URL": db_url})

    return invoke


def test_check_accepts_the_example(run) -> None:  # type: ignore[no-untyped-def]
    result = run("playbook", "check", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "ok — 5 process(es), 6 KPI(s), 1 checklist template(s), 2 admin(s)" in result.output


def test_check_and_import_refuse_a_broken_file(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text().replace("kind: nps_30d", "kind: nps_7d"))
    line = EXAMPLE.read_text().splitlines().index("    kind: nps_30d") + 1
    for args in (["check", str(broken)], ["import", str(broken), "--team", TEAM]):
        result = run("playbook", *args)
        assert result.exit_code == 2
        assert f"{broken}:{line}: kpis[0].kind: unknown KPI kind 'nps_7d'" in result.output
        assert "Traceback" not in result.output


def test_import_is_idempotent_and_export_writes_it_back(  # type: ignore[no-untyped-def]
    run, sessions: SessionFactory, tmp_path: Path
) -> None:
    first = run("playbook", "import", str(EXAMPLE), "--team", TEAM)
    assert first.exit_code == 0, first.output
    assert (
        "processes 5 new, 0 updated; KPIs 6 new, 0 updated; checklist templates 1 new or "
        "changed; 2 admin(s)" in first.output
    )
    again = run("playbook", "import", str(EXAMPLE), "--team", TEAM)
    assert "processes 0 new, 0 updated; KPIs 0 new, 0 updated; checklist templates 0" in (
        again.output
    )
    [template] = list_templates(sessions, team_id=TEAM)
    assert (template.name, template.version, template.item_count) == ("customer-onboarding", 1, 9)
    rows = {r.key: r.owner_id for r in owners.list_owners(sessions, team_id=TEAM)}
    assert rows["onboarding"] == "U05CSLEAD" and rows["renewals"] is None

    exported = run("playbook", "export", "--team", TEAM)
    assert exported.exit_code == 0, exported.output
    data = yaml.safe_load(exported.stdout)
    assert data["timezone"] == "Europe/Berlin"
    assert data["channels"]["escalations"] == "C05ESCALATE"
    assert len(data["checklists"][0]["items"]) == 9
    assert data["severity_slas"]["sev1"] == {"ack_minutes": 15, "resolve_minutes": 240}
    out = tmp_path / "exported.yaml"
    assert run("playbook", "export", "--team", TEAM, "-o", str(out)).exit_code == 0
    assert (
        parse_playbook(out.read_text(), str(out)).kpis == parse_playbook(EXAMPLE.read_text()).kpis
    )


def test_import_needs_a_team_without_a_token(run) -> None:  # type: ignore[no-untyped-def]
    result = run("playbook", "import", str(EXAMPLE))
    assert result.exit_code == 2
    assert "--team" in result.output


def test_export_kpis_definitions_and_measurements(  # type: ignore[no-untyped-def]
    run, sessions: SessionFactory, clock: FixedClock
) -> None:
    load_small_playbook(sessions, clock())
    kpis.log_kpi_value(
        sessions,
        team_id=TEAM,
        user_id=OWNER,
        kpi_ref="activation",
        raw_value="27%",
        note="=cmd|' /C calc'!A0",
        now=clock(),
        tz="Europe/Berlin",
    )
    result = run("export", "kpis", "--format", "csv", "--team", TEAM)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["kpi_key"] for r in rows] == ["activation", "time_to_first_value", "nps"]
    assert rows[0]["value"] == "27.0" and rows[0]["logged_by"] == OWNER
    assert rows[0]["note"].startswith("'=")  # spreadsheet-safe
    assert rows[0]["target"] == "25.0" and rows[0]["owner"] == "process:onboarding"
    assert rows[1]["value"] == "" and rows[2]["kind"] == "nps_30d"
    as_json = json.loads(run("export", "kpis", "--format", "json", "--since", "2026-12-01").stdout)
    assert [r["value"] for r in as_json] == [None, None, None]


def test_the_example_playbook_loads_in_the_shell(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the playground runs on the embedded SQLite")
    out = io.StringIO()
    commands = "as U05HEADOPS\n/ops owners\n/kpi list\n/ops status\nquit\n"
    run_shell(
        database_url=db_url,
        user_id="U05HEADOPS",
        playbook=EXAMPLE,
        stdin=io.StringIO(commands),
        stdout=out,
    )
    text = out.getvalue()
    assert "processes 5 new" in text
    assert "Customer onboarding" in text and "Renewal risk review" in text
    assert "Trial-to-paid activation rate" in text


def test_small_playbook_in_a_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_PLAYBOOK)
    assert parse_playbook(path.read_text(), str(path)).admins == [ADMIN]


@pytest.mark.parametrize(
    ("replace", "by", "says"),
    [
        ("  - key: escalations\n", "  - key: onboarding\n", "duplicate process 'onboarding'"),
        ("owner: process:feedback", "owner: process:nope", "unknown owner 'process:nope'"),
        ("kind: median_time_to_ack", "kind: time_to_ack", "unknown KPI kind 'time_to_ack'"),
        ("sev2: {ack_minutes: 60", "sev2: {ack_minutes: -60", "must be greater than 0"),
    ],
)
def test_import_refuses_bad_playbooks_and_writes_nothing(  # type: ignore[no-untyped-def]
    run, sessions: SessionFactory, tmp_path: Path, replace: str, by: str, says: str
) -> None:
    source = EXAMPLE.read_text()
    assert replace in source
    broken = tmp_path / "team.yaml"
    broken.write_text(source.replace(replace, by, 1))
    lines = broken.read_text().splitlines()
    line = max(i for i, text in enumerate(lines, 1) if by.strip() in text)  # the edited line
    result = run("playbook", "import", str(broken), "--team", TEAM)
    assert result.exit_code == 2
    assert f"{broken}:{line}: " in result.output and says in result.output
    assert owners.list_owners(sessions, team_id=TEAM) == []
