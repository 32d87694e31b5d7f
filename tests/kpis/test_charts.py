"""KPI charts: the data drawn is the series, the PNG is valid and the same for the same data,
and `/kpi show` shows the chart, uploaded once through the outbox and then reused."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D

from bot.clock import FixedClock
from bot.deps import Deps
from bot.kpis.charts import (
    OverviewChart,
    TrendChart,
    alt_text,
    chart_data,
    chart_from_data,
    chart_hash,
    overview_chart,
    trend_chart,
)
from bot.kpis.models import (
    AT_RISK,
    NO_DATA,
    OFF_TRACK,
    ON_TRACK,
    KpiInfo,
    KpiReport,
    WeekValue,
    kpi_status,
)
from bot.kpis.plot import (
    HEIGHT_PX,
    STATUS_COLOURS,
    WIDTH_PX,
    figure_of,
    render_png,
    week_labels,
)
from tests.support.playbook import OWNER, load_small_playbook
from tests.support.slack import SlackDriver, SlackStandin

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _info(
    key: str = "activation",
    *,
    unit: str = "%",
    target: float | None = 25.0,
    direction: str = "higher",
) -> KpiInfo:
    return KpiInfo(key, key.title(), "", unit, target, direction, None, None, "manual")


def _report(values: list[float | None], info: KpiInfo | None = None, first: int = 40) -> KpiReport:
    info = info or _info()
    weeks = tuple(WeekValue(f"2026-W{first + i}", v) for i, v in enumerate(values))
    current = weeks[-1] if weeks[-1].value is not None else weeks[-2]
    return KpiReport(info, weeks, current, kpi_status(current.value, info.target, info.direction))


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_trend_chart_draws_the_series_up_to_the_week_shown_with_each_status() -> None:
    # This week has no value yet: the chart ends at last week, as /kpi show's value does.
    report = _report([18.0, 20.0, None, 23.0, 22.0, 24.5, 26.0, 27.0, None])
    chart = trend_chart(report)
    assert [p.period for p in chart.points] == [f"2026-W{w}" for w in range(40, 48)]
    assert [p.value for p in chart.points] == [18.0, 20.0, None, 23.0, 22.0, 24.5, 26.0, 27.0]
    assert [p.status for p in chart.points] == [
        OFF_TRACK,
        OFF_TRACK,
        NO_DATA,
        AT_RISK,
        OFF_TRACK,
        AT_RISK,
        ON_TRACK,
        ON_TRACK,
    ]
    assert chart.band == (22.5, 25.0)  # at risk: within 10% short of the target
    lower = trend_chart(
        _report([9.0, 11.0], _info("ttr", unit="hours", target=10.0, direction="lower"))
    )
    assert lower.band == (10.0, 11.0)
    assert [p.status for p in lower.points] == [ON_TRACK, AT_RISK]


def test_figure_plots_exactly_the_known_points_coloured_by_status() -> None:
    chart = trend_chart(_report([18.0, None, 23.0, 27.0]))
    figure = figure_of(chart)
    [axes] = figure.axes
    [line] = [a for a in axes.get_children() if isinstance(a, Line2D) and a.get_gid() == "series"]
    assert list(line.get_xdata()) == [0, 2, 3]  # the week without a value is a gap
    assert list(line.get_ydata()) == [18.0, 23.0, 27.0]
    [points] = [
        a for a in axes.get_children() if isinstance(a, PathCollection) and a.get_gid() == "points"
    ]
    assert [list(xy) for xy in points.get_offsets()] == [[0, 18.0], [2, 23.0], [3, 27.0]]
    colours = [to_hex(c) for c in points.get_facecolors()]
    assert colours == [STATUS_COLOURS[s] for s in (OFF_TRACK, AT_RISK, ON_TRACK)]
    labels = [t.get_text() for t in axes.texts]
    assert labels == ["18%", "27%"]  # the first and the last value
    assert week_labels(chart) == ("W40", "W41", "W42", "W43")  # pasted under the points
    [strip] = figure.images
    assert strip.get_array().shape[1] == WIDTH_PX


def test_png_is_valid_readable_size_and_the_same_bytes_for_the_same_data() -> None:
    chart = trend_chart(_report([18.0, 20.0, 23.0, 27.0]))
    other = trend_chart(_report([18.0, 20.0, 23.0, 28.0]))
    first = render_png(chart)
    assert _png_size(first) == (WIDTH_PX, HEIGHT_PX)
    assert b"Software" not in first and b"matplotlib" not in first  # no version, no date
    drawn_between = render_png(other)
    assert render_png(chart) == first  # deterministic, even after drawing another chart
    assert drawn_between != first
    # What is stored and read back draws the same chart, under the same name.
    assert chart_from_data(chart_data(chart)) == chart
    assert chart_hash(chart_from_data(chart_data(chart))) == chart_hash(chart)
    assert chart_hash(other) != chart_hash(chart)


def test_the_kept_figure_draws_each_chart_as_a_figure_of_its_own_even_from_two_threads() -> None:
    # Trend charts are drawn on one kept figure: nothing of the chart before may stay on it
    # (a band, a value label, a point's colour, "no values yet"), whatever the order and
    # whichever sender thread draws.
    charts = [
        trend_chart(_report([18.0, 20.0, 23.0, 27.0])),
        trend_chart(_report([30.0, None, 12.0], _info("plain", unit="", target=None))),
        trend_chart(_report([9.0, 14.0, 11.0], _info("ttr", unit="hours", direction="lower"))),
        trend_chart(_report([21.0, 22.0, 24.0])),
        trend_chart(_report([None, 21.5])),  # one value: no first value written
        trend_chart(_report([None, None, None])),
        overview_chart([_report([20.0, 27.0]), _report([3.0, 4.0], _info("nps"))], period="x"),
    ]
    alone = [render_png(chart, reuse=False) for chart in charts]
    assert len(set(alone)) == len(charts)
    assert [render_png(chart) for chart in charts] == alone
    assert [render_png(chart) for chart in reversed(charts)] == alone[::-1]

    drawn: dict[str, list[list[bytes]]] = {"forwards": [], "backwards": []}
    start = threading.Barrier(2)

    def draw(name: str, order: list[int]) -> None:
        start.wait()
        for _ in range(3):
            pngs = {i: render_png(charts[i]) for i in order}
            drawn[name].append([pngs[i] for i in range(len(charts))])

    threads = [
        threading.Thread(target=draw, args=("forwards", list(range(len(charts))))),
        threading.Thread(target=draw, args=("backwards", list(reversed(range(len(charts)))))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert drawn["forwards"] == [alone] * 3
    assert drawn["backwards"] == [alone] * 3


def test_overview_shows_every_kpi_against_its_target_and_grows_with_them() -> None:
    reports = [
        _report([20.0, 27.0]),
        _report([8.0, 8.5], _info("ttr", unit="hours", target=8.0, direction="lower")),
        _report([30.0, 30.0], _info("nps", unit="points", target=40.0)),
        _report([None, None], _info("churn")),
    ]
    chart = overview_chart(reports, period="2026-W41")
    assert [(b.kpi_key, b.status) for b in chart.bars] == [
        ("activation", ON_TRACK),
        ("ttr", AT_RISK),
        ("nps", OFF_TRACK),
        ("churn", NO_DATA),
    ]
    assert [b.attainment for b in chart.bars] == [
        pytest.approx(27 / 25),
        pytest.approx(8 / 8.5),
        pytest.approx(0.75),
        None,
    ]
    [axes] = figure_of(chart).axes
    [drawn] = [c for c in axes.collections if c.get_gid() == "bars"]
    bars = [float(path.vertices[:, 0].max()) for path in drawn.get_paths()]  # from 0
    assert bars == [pytest.approx(27 / 25), pytest.approx(8 / 8.5), pytest.approx(0.75), 0.0]
    text = alt_text(chart)
    assert text.startswith("4 KPIs in 2026-W41: 1 on track, 1 at risk, 1 off track, 1 no data.")
    assert "Off track: Nps (30, target at least 40)." in text
    many = overview_chart([_report([1.0, 2.0], _info(f"k{i}")) for i in range(30)], period="x")
    width, height = _png_size(render_png(many))
    assert width == WIDTH_PX and height > HEIGHT_PX  # 30 rows stay readable


def test_alt_text_says_the_trend_in_words_judged_by_direction() -> None:
    up = alt_text(trend_chart(_report([18.0, 20.0, None, 27.0])))
    assert "Activation over 4 weeks (2026-W40 to 2026-W43), target at least 25%." in up
    assert "↑ up from 18% to 27% (2026-W40 to 2026-W43, better)." in up
    assert "Against the week before (2026-W41, 20%): ↑ better." in up
    assert "2026-W43: on track." in up and "1 week(s) without a value." in up
    falling_time = alt_text(
        trend_chart(
            _report([12.0, 9.0], _info("ttr", unit="hours", target=10.0, direction="lower"))
        )
    )
    assert "↓ down from 12 hours to 9 hours (2026-W40 to 2026-W41, better)." in falling_time
    assert alt_text(trend_chart(_report([None, None]))).endswith("no values yet.")
    long = alt_text(overview_chart([_report([1.0, 2.0], _info("k" * 60))] * 200, period="x"))
    assert len(long) <= 2000


def test_charts_draw_in_a_read_only_home_without_a_display(tmp_path: Path) -> None:
    # A home under a plain file: nobody, not even root, can create ~/.config there.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    home = blocker / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME")}
    env.update(HOME=str(home), MPLBACKEND="TkAgg", DISPLAY="")  # a display backend asked for
    script = (
        "import sys, matplotlib\n"
        "from bot.kpis.charts import overview_chart\n"
        "from bot.kpis.plot import render_png\n"
        "png = render_png(overview_chart([], period='2026-W47'))\n"
        "assert png[:4] == b'\\x89PNG', png[:8]\n"
        "print(matplotlib.get_backend(), matplotlib.get_configdir())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    backend, configdir = done.stdout.split()
    assert backend.lower() == "agg"
    assert not configdir.startswith(str(home))
    assert "warning" not in done.stderr.lower(), done.stderr


# -- /kpi show, through the real app and the stand-in ---------------------------------------


@pytest.fixture
def team(deps: Deps) -> Deps:
    load_small_playbook(deps.sessions, deps.clock())
    return deps


def _log_weeks(slack: SlackDriver, clock: FixedClock, values: list[tuple[int, str]]) -> None:
    for day, text in values:
        clock.now = datetime(2026, 11, day, 12, tzinfo=UTC)
        assert slack.command("/kpi", f"log activation {text}", user=OWNER).status == 200


def test_kpi_show_has_trend_arrow_notes_and_a_chart_uploaded_once_then_reused(
    slack: SlackDriver, team: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    _log_weeks(slack, clock, [(4, "20% <!channel> & friends"), (11, "22%"), (18, "26% pricing")])
    first = slack.command("/kpi", "show activation")
    text = first.reply_text
    assert "Trend: ↑ better, from 22% (2026-W46)" in text
    assert "2026-W47  26%  *" in text and "2026-W45  20%  *" in text
    assert "• 2026-W47: pricing" in text
    assert "&lt;!channel&gt; &amp; friends" in text and "<!channel>" not in text
    assert "The chart follows in a moment." in text  # the listener never waits on Slack
    [uploaded] = standin.uploaded_files()
    assert uploaded.data is not None and uploaded.data[:8] == PNG_SIGNATURE
    assert uploaded.filename == "kpi-activation-2026-W47.png"
    assert "↑ up from 20% to 26%" in uploaded.alt_txt
    # The chart follows privately, showing the uploaded file with the trend in words.
    [follow_up] = first.of("chat.postEphemeral")
    [image] = [b for b in follow_up.params["blocks"] if b["type"] == "image"]
    assert image["slack_file"] == {"id": uploaded.id}
    assert "↑ up from 20% to 26%" in image["alt_text"]

    again = slack.command("/kpi", "show activation")
    [shown] = [b for b in again.answer.params["blocks"] if b["type"] == "image"]
    assert shown["slack_file"] == {"id": uploaded.id}  # reused, in the answer itself
    assert len(standin.uploaded_files()) == 1
    assert not again.of("files.getUploadURLExternal") and not again.of("chat.postEphemeral")

    # A new value is a new chart: drawn and uploaded again.
    slack.command("/kpi", "log activation 27%", user=OWNER)
    slack.command("/kpi", "show activation")
    assert len(standin.uploaded_files()) == 2


def test_kpi_show_says_the_chart_is_missing_when_its_upload_was_given_up(
    slack: SlackDriver, team: Deps, standin: SlackStandin, clock: FixedClock
) -> None:
    _log_weeks(slack, clock, [(18, "26%")])
    standin.fail("files.getUploadURLExternal", status=200, error="invalid_arguments", times=5)
    first = slack.command("/kpi", "show activation")
    assert "26%" in first.reply_text
    assert not standin.uploaded_files()
    [follow_up] = first.of("chat.postEphemeral")  # sent anyway, saying so
    assert "could not be uploaded" in str(follow_up.params["blocks"])
    assert not [b for b in follow_up.params["blocks"] if b["type"] == "image"]
    again = slack.command("/kpi", "show activation")
    assert "could not be uploaded" in again.reply_text
    assert not [b for b in again.answer.params["blocks"] if b["type"] == "image"]


def test_kpi_show_of_an_unknown_kpi_uploads_nothing(
    slack: SlackDriver, team: Deps, standin: SlackStandin
) -> None:
    result = slack.command("/kpi", "show activaton")
    assert "There is no KPI called `activaton`" in result.reply_text
    assert not standin.calls("files.getUploadURLExternal")


def test_chart_types_round_trip_through_their_stored_form() -> None:
    trend = trend_chart(_report([1.0, 2.0]))
    overview = overview_chart([_report([1.0, 2.0])], period="2026-W41")
    assert isinstance(chart_from_data(chart_data(trend)), TrendChart)
    assert isinstance(chart_from_data(chart_data(overview)), OverviewChart)
