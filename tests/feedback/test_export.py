"""`opsloop export feedback`: every field, full text, UTF-8, CSV and JSON, --since and --team."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.clock import FixedClock
from bot.feedback.export import COLUMNS
from storage.db import SessionFactory
from tests.support.slack import SlackDriver

LONG = "Säge 🚀 " + "the report builder drops columns; " * 320


@pytest.fixture
def logged(slack: SlackDriver, sessions: SessionFactory, clock: FixedClock) -> SlackDriver:
    slack.command("/feedback", f"Acme: {LONG} #reporting #ux nps:4")
    clock.advance(days=10)
    slack.command("/feedback", '=HYPERLINK("https://evil.test") click me #billing')
    view = (
        slack.message_shortcut(
            "log_as_feedback",
            {
                "type": "message",
                "user": "U0CUSTOMER",
                "text": "from slack",
                "ts": "1700000000.000100",
            },
        )
        .of("views.open")[0]
        .params["view"]
    )
    slack.submit(
        "feedback.form",
        {"feedback_text": {"feedback_text": {"type": "plain_text_input", "value": "from slack"}}},
        private_metadata=view["private_metadata"],
    )
    return slack


def run_export(db_url: str, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["export", "feedback", *args],
        env={"DATABASE_URL": db_url, "OPSLOOP_LOG_LEVEL": "WARNING"},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.usefixtures("logged")
def test_csv_has_every_field_and_the_full_text(db_url: str) -> None:
    rows = list(csv.DictReader(io.StringIO(run_export(db_url, "--format", "csv"))))
    assert list(rows[0]) == COLUMNS
    first, second, third = rows
    assert first["text"] == LONG.strip()
    assert len(first["text"]) > 10_000
    assert first["customer"] == "Acme"
    assert first["tags"] == "reporting, ux"
    assert first["nps_score"] == "4" and first["nps_category"] == "detractor"
    assert first["status"] == "new" and first["reporter_id"] == "U0001"
    assert first["created_at"] == "2026-11-18T10:00:00+00:00"
    # a cell a spreadsheet would run as a formula is neutralised
    assert second["text"].startswith("'=HYPERLINK(")
    assert third["author_id"] == "U0CUSTOMER"
    assert third["permalink"].startswith("https://standin.slack.test/archives/C0001/p")
    assert third["message_ts"] == "1700000000.000100"


@pytest.mark.usefixtures("logged")
def test_json_keeps_types_and_since_filters(db_url: str) -> None:
    records = json.loads(run_export(db_url, "--format", "json"))
    assert [r["tags"] for r in records] == [["reporting", "ux"], ["billing"], []]
    assert records[0]["nps_score"] == 4 and records[1]["nps_score"] is None
    assert records[0]["text"] == LONG.strip()
    assert set(records[0]) == set(COLUMNS)
    later = json.loads(run_export(db_url, "--format", "json", "--since", "2026-11-20"))
    assert [r["id"] for r in later] == [r["id"] for r in records[1:]]
    other_team = json.loads(run_export(db_url, "--format", "json", "--team", "T9999"))
    assert other_team == []


@pytest.mark.usefixtures("logged")
def test_csv_file_is_utf8_with_a_byte_order_mark(db_url: str, tmp_path: Path) -> None:
    target = tmp_path / "feedback.csv"
    run_export(db_url, "--format", "csv", "--output", str(target))
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "Säge 🚀".encode() in raw
