"""The digest's charts: drawn, uploaded through the outbox and shown with the digest once;
the digest still goes out, with its tables, when an upload fails; a dry run draws them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.clock import FixedClock
from bot.deps import Deps
from bot.outbox.models import UPLOAD_CHART, Queued
from schedules import digest_job
from storage.db import SessionFactory, transaction
from storage.models.charts import KpiChart
from storage.models.outbox import OutboxMessage
from tests.support.playbook import ADMIN, OWNER, TEAM, load_small_playbook
from tests.support.schedule import run_and_deliver
from tests.support.slack import SlackDriver, SlackStandin

PNG = b"\x89PNG\r\n\x1a\n"
DIGEST = "C0DIGEST"
# Monday 09:00 in Berlin: the digest of 2026-W47 is due.
DUE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def _log(slack: SlackDriver, clock: FixedClock, kpi: str, values: list[tuple[int, str]]) -> None:
    for day, value in values:
        clock.now = datetime(2026, 11, day, 12, tzinfo=UTC)
        assert slack.command("/kpi", f"log {kpi} {value}", user=OWNER).status == 200


@pytest.fixture
def week_of_values(deps: Deps, slack: SlackDriver, clock: FixedClock) -> Deps:
    load_small_playbook(deps.sessions, clock())
    _log(slack, clock, "activation", [(4, "20%"), (11, "22%"), (18, "27%")])
    _log(slack, clock, "time_to_first_value", [(11, "12"), (18, "9")])
    return deps


def _digest_posts(standin: SlackStandin) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    posts = [c.params for c in standin.calls("chat.postMessage") if c.params["channel"] == DIGEST]
    [digest] = [p for p in posts if not p.get("thread_ts")]
    return digest, [p for p in posts if p.get("thread_ts")]


def _images(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message["blocks"] if b["type"] == "image"]


def _rows(sessions: SessionFactory, model: Any) -> list[Any]:
    with transaction(sessions) as session:
        return list(session.scalars(select(model)))


def test_digest_uploads_its_charts_and_shows_them_once(
    week_of_values: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    deps = week_of_values
    standin.clear()
    clock.now = DUE
    run_and_deliver(deps, clock())
    files = {f.filename: f for f in standin.uploaded_files()}
    assert set(files) == {
        "kpis-2026-W47.png",
        "kpi-activation-2026-W47.png",
        "kpi-time_to_first_value-2026-W47.png",
        "kpi-nps-2026-W47.png",
    }
    assert all(f.data is not None and f.data[:8] == PNG for f in files.values())
    assert all(f.channel is None for f in files.values())  # shared nowhere: shown by id

    digest, [thread] = _digest_posts(standin)
    text = digest["text"]
    assert "*Trial-to-paid activation*: 27% ↑ better (last week 22%" in text
    assert "*Time to first value*: 9 days ↓ better (last week 12 days" in text
    [overview] = _images(digest)
    assert overview["slack_file"] == {"id": files["kpis-2026-W47.png"].id}
    assert overview["alt_text"].startswith("3 KPIs in 2026-W47: 2 on track, 1 no data.")
    # One trend per KPI in the digest's thread, each with its trend in words.
    digest_ts = next(
        c.response["ts"]
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == DIGEST and not c.params.get("thread_ts")
    )
    assert thread["thread_ts"] == digest_ts
    trends = _images(thread)
    assert [i["slack_file"]["id"] for i in trends] == [
        files[f"kpi-{key}-2026-W47.png"].id for key in ("activation", "time_to_first_value", "nps")
    ]
    assert "↑ up from 20% to 27%" in trends[0]["alt_text"]
    assert "↓ down from 12 days to 9 days" in trends[1]["alt_text"]

    # Run again, and by a second scheduler: nothing is uploaded or posted again.
    uploads, posts = (
        len(standin.calls("files.getUploadURLExternal")),
        len(standin.calls("chat.postMessage")),
    )
    run_and_deliver(deps, clock())
    again = digest_job.post_digest(deps, team_id=TEAM, week="2026-W47", channel=DIGEST, now=DUE)
    assert again is Queued.ALREADY
    run_and_deliver(deps, clock())
    assert len(standin.calls("files.getUploadURLExternal")) == uploads
    assert len(standin.calls("chat.postMessage")) == posts
    charts = _rows(deps.sessions, KpiChart)
    assert len(charts) == 4 and all(c.file_id for c in charts)
    upload_rows = [r for r in _rows(deps.sessions, OutboxMessage) if r.method == UPLOAD_CHART]
    assert len(upload_rows) == 4 and {r.state for r in upload_rows} == {"sent"}


def test_a_chart_uploaded_for_show_is_reused_by_the_digest(
    week_of_values: Deps, slack: SlackDriver, standin: SlackStandin, clock: FixedClock
) -> None:
    # Sunday: /kpi show draws the same 8 weeks the digest will.
    clock.now = datetime(2026, 11, 22, 18, tzinfo=UTC)
    slack.command("/kpi", "show activation")
    [shown] = standin.uploaded_files()
    clock.now = DUE
    run_and_deliver(week_of_values, clock())
    names = [f.filename for f in standin.uploaded_files()]
    assert names.count("kpi-activation-2026-W47.png") == 1  # not uploaded again
    _, [thread] = _digest_posts(standin)
    assert _images(thread)[0]["slack_file"] == {"id": shown.id}


def test_digest_goes_out_with_its_tables_when_the_upload_is_given_up(
    week_of_values: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    deps = week_of_values
    # Slack refuses to complete any upload, for good.
    standin.fail("files.completeUploadExternal", status=200, error="invalid_arguments", times=99)
    clock.now = DUE
    run_and_deliver(deps, clock())
    assert not standin.uploaded_files()
    digest, [thread] = _digest_posts(standin)
    assert "*Trial-to-paid activation*: 27% ↑ better" in digest["text"]
    assert not _images(digest) and not _images(thread)
    missing = [b for b in digest["blocks"] + thread["blocks"] if "could not be uploaded" in str(b)]
    assert len(missing) == 4  # the overview in the digest, three trends in its thread
    # The admins are told why, as for any message Opsloop gave up on.
    notices = [
        c.params["text"]
        for c in standin.calls("chat.postMessage")
        if c.params["channel"] == ADMIN and "KPI chart" in c.params["text"]
    ]
    assert len(notices) == 1 and "invalid_arguments" in notices[0]  # one, not one per chart


def test_a_failed_post_of_the_bytes_is_retried_and_the_chart_shown(
    week_of_values: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    standin.fail("upload", status=500, error="server error", times=1)
    clock.now = DUE
    run_and_deliver(week_of_values, clock())
    assert len(standin.calls("upload", ok_only=False)) == 5  # 4 charts, one tried twice
    digest, _ = _digest_posts(standin)
    [overview] = _images(digest)
    assert overview["slack_file"]["id"] in {f.id for f in standin.uploaded_files()}


def test_dry_run_draws_the_charts_into_a_folder_and_posts_nothing(
    week_of_values: Deps,
    db_url: str,
    standin: SlackStandin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "OPSLOOP_PLAYBOOK"):
        monkeypatch.delenv(name, raising=False)
    standin.clear()
    folder = tmp_path / "charts"
    env = {"DATABASE_URL": db_url}
    result = CliRunner().invoke(
        cli,
        [
            "digest",
            "--dry-run",
            "--week",
            "2026-W47",
            "--charts",
            str(folder),
            "--as-of",
            DUE.isoformat(),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in folder.iterdir())
    assert written == [
        "kpi-activation-2026-W47.png",
        "kpi-nps-2026-W47.png",
        "kpi-time_to_first_value-2026-W47.png",
        "kpis-2026-W47.png",
    ]
    assert all((folder / name).read_bytes()[:8] == PNG for name in written)
    assert f"{folder / 'kpi-activation-2026-W47.png'}  — Trial-to-paid activation" in result.output
    assert "[image: 3 KPIs in 2026-W47" in result.output  # where the digest shows it
    assert not standin.calls()
    assert not _rows(week_of_values.sessions, KpiChart)  # a dry run stores nothing


def test_charts_folder_without_dry_run_is_refused(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["digest", "--charts", "/tmp/x"], env={"DATABASE_URL": db_url})
    assert result.exit_code == 2
    assert "--charts" in result.output and "Traceback" not in result.output


def test_digest_goes_out_without_its_picture_when_slack_refuses_the_image_block(
    week_of_values: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    # Slack may refuse an image block naming a file it has not finished processing.
    standin.fail("chat.postMessage", status=200, error="invalid_blocks", times=1)
    clock.now = DUE
    run_and_deliver(week_of_values, clock())
    refused, digest = [
        c.params
        for c in standin.calls("chat.postMessage")  # the refusal is recorded too (ok: false)
        if c.params["channel"] == DIGEST and not c.params.get("thread_ts")
    ]
    assert _images(refused) and not _images(digest)
    assert "*Trial-to-paid activation*: 27% ↑ better" in digest["text"]
    assert "could not be uploaded" in str(digest["blocks"])
