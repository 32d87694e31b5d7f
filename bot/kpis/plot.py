"""KPI charts as PNG, drawn with matplotlib from the data in `bot.kpis.charts`.

Headless and offline: the Agg backend (no display), the DejaVu Sans font matplotlib ships
(nothing looked up or downloaded), and a private config/cache folder when the home folder
cannot be written (a read-only container). The output is deterministic for the same data:
fixed size and DPI, no timestamp or software name in the PNG metadata.
No Slack and no storage here.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _config_dir_is_writable() -> bool:
    """Whether matplotlib's default config folder can hold its font cache."""
    try:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    except (RuntimeError, KeyError):  # no home folder at all
        return False
    folder = base / "matplotlib"
    probe = folder if folder.exists() else base if base.exists() else base.parent
    return os.access(probe, os.W_OK | os.X_OK)


# Before matplotlib is imported: it reads MPLCONFIGDIR once, and otherwise warns and falls
# back by itself on every start in a read-only container.
if "MPLCONFIGDIR" not in os.environ and not _config_dir_is_writable():
    os.environ["MPLCONFIGDIR"] = tempfile.mkdtemp(prefix="opsloop-matplotlib-")

import matplotlib  # noqa: E402
import numpy  # noqa: E402
import PIL.Image  # noqa: E402

matplotlib.use("Agg")  # explicitly: never a display backend, whatever the environment says

from matplotlib.backend_bases import RendererBase  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import FigureImage  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.transforms import Affine2D  # noqa: E402

from bot.kpis.charts import (  # noqa: E402
    MAX_ATTAINMENT,
    Chart,
    OverviewChart,
    TrendChart,
    chart_title,
    target_words,
)
from bot.kpis.models import (  # noqa: E402
    AT_RISK,
    NO_DATA,
    NO_TARGET,
    OFF_TRACK,
    ON_TRACK,
    plain_value,
)

# Slack shows an image block about 360-600 px wide in the message list and opens it full
# size on click. 8 x 4 inches at 80 DPI (640 x 320) with 13-15 pt text: in the message
# list it looks the same as at 100 DPI (Slack scales it to the same width), with a third
# fewer pixels to fill and to compress.
WIDTH_PX, HEIGHT_PX, DPI = 640, 320, 80
OVERVIEW_ROW_PX = 27
STATUS_COLOURS = {
    ON_TRACK: "#2e7d32",
    AT_RISK: "#f9a825",
    OFF_TRACK: "#c62828",
    NO_DATA: "#9e9e9e",
    NO_TARGET: "#78909c",
}
BAND_COLOUR = "#fff3c4"
GOOD_COLOUR = "#e8f5e9"
STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 13,
    # Glyphs placed without hinting: a good part of the drawing time less, no visible
    # difference at these sizes.
    "text.hinting": "none",
    "axes.titlesize": 15,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# rcParams are process-wide and the sender renders from several threads.
_LOCK = threading.Lock()


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """STYLE in rcParams while a chart is made and drawn, the previous values after: what
    `matplotlib.rc_context` does, without copying every rcParam for each chart."""
    previous = {key: matplotlib.rcParams[key] for key in STYLE}
    matplotlib.rcParams.update(STYLE)
    try:
        yield
    finally:
        matplotlib.rcParams.update(previous)


def figure_of(chart: Chart) -> Figure:
    """The matplotlib figure of `chart` (not rendered yet: tests read its artists)."""
    with _LOCK, _style():
        return _figure(chart)


def render_png(chart: Chart, *, reuse: bool = True) -> bytes:
    """`chart` as PNG bytes, the same bytes for the same data. Trend charts are drawn on one
    kept figure (`reuse=False`: on a figure made for this chart alone, the same bytes)."""
    with _LOCK, _style():
        figure = _figure(chart, reuse=reuse)
        # Drawn once at the figure's own DPI and encoded straight from the canvas (what
        # `savefig` does, without its second pass over the figure's layout). The figure is
        # opaque: RGB, a quarter less to filter and compress than RGBA.
        figure.canvas.draw()
        canvas = figure.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        pixels = canvas.buffer_rgba()  # type: ignore[no-untyped-call]  # backend_agg: no hints
        image = PIL.Image.frombuffer(
            "RGBA", canvas.get_width_height(), pixels, "raw", "RGBA", 0, 1
        ).convert("RGB")
    buffer = io.BytesIO()
    # No metadata at all (no software name, no date): same data, same file. A light
    # compression: half the encoding time for a file a little larger.
    image.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _figure(chart: Chart, *, reuse: bool = False) -> Figure:
    if isinstance(chart, OverviewChart):
        return _overview_figure(chart)
    if not reuse:
        return _TrendFigure().show(chart)
    if not _reused_trend:
        _reused_trend.append(_TrendFigure())
    return _reused_trend[0].show(chart)


class _TrendFigure:
    """A trend chart's figure with its artists made once; `show` moves them to a chart's
    data. Making a Figure and its artists costs about as much as drawing them, and a digest
    draws one trend per KPI: the sender keeps one and updates it (under `_LOCK`)."""

    def __init__(self) -> None:
        # No axis machinery (ticks, locators, formatters are most of a small chart's
        # drawing time): the weeks are written under their points, the target in the
        # header, and the first and last values next to their points.
        self.figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
        FigureCanvasAgg(self.figure)
        axes = self.axes = self.figure.add_axes(TREND_AXES)
        axes.set_axis_off()
        self.good = axes.axhspan(0, 1, color=GOOD_COLOUR, zorder=0, gid="on-track-band")
        self.band = axes.axhspan(0, 1, color=BAND_COLOUR, zorder=0, gid="at-risk-band")
        self.target = axes.axhline(0, color="#555555", linewidth=1.5, linestyle="--", zorder=1)
        # The line joins the weeks that have a value; each point is coloured by its status.
        (self.series,) = axes.plot([], [], color="#37474f", linewidth=2.5, zorder=2, gid="series")
        self.points = axes.scatter(
            [], [], s=110, zorder=3, edgecolors="white", linewidths=1.5, gid="points"
        )
        box = {"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.8}
        self.first_value = axes.text(0, 0, "", ha="center", va="bottom", fontsize=12, bbox=box)
        self.last_value = axes.text(
            0, 0, "", ha="center", va="bottom", fontsize=14, fontweight="bold", bbox=box
        )
        for text in (self.first_value, self.last_value):
            text.set_zorder(4)
        self.empty = self.figure.text(
            *_axes_centre(), "no values yet", ha="center", va="center", visible=False
        )
        # The weeks under their points: one picture per set of weeks, drawn once and pasted
        # (every chart of a digest has the same weeks; text is most of the drawing time).
        self.strip = _PastedImage(self.figure, origin="upper", zorder=5)
        self.strip.set_data(_week_strip(()))
        self.figure.images.append(self.strip)
        self.title = self.figure.text(0.03, 0.93, "", fontsize=15, va="bottom")
        # The target in the header, clear of the line whatever the data: the dashed line.
        self.target_words = self.figure.text(
            0.97, 0.93, "", fontsize=12, color="#444444", ha="right", va="bottom"
        )

    def show(self, chart: TrendChart) -> Figure:
        positions = list(range(len(chart.points)))
        known = [
            (i, float(p.value), p.status)
            for i, p in zip(positions, chart.points, strict=True)
            if p.value is not None
        ]
        xs = [i for i, _, _ in known]
        values = [v for _, v, _ in known]
        scale = [*values, *([chart.target] if chart.target is not None else [])] or [0.0, 1.0]
        low, high = min(scale), max(scale)
        pad = (high - low) * 0.18 or max(abs(high) * 0.1, 1.0)
        bottom, top = low - pad, high + pad
        band = chart.band
        banded = band is not None and chart.target is not None
        if band is not None and chart.target is not None:
            bottom, top = min(bottom, band[0] - pad / 2), max(top, band[1] + pad / 2)
            good = (chart.target, top) if chart.direction == "higher" else (bottom, chart.target)
            _span(self.good, *good)
            _span(self.band, *band)
            self.target.set_ydata([chart.target, chart.target])
        for artist in (self.good, self.band, self.target):
            artist.set_visible(banded)
        self.axes.set_xlim(-0.5, max(len(positions) - 0.5, 0.5))
        self.axes.set_ylim(bottom, top)
        self.series.set_data(xs, values)
        self.points.set_offsets(numpy.column_stack([xs, values]) if known else numpy.empty((0, 2)))
        self.points.set_facecolor([STATUS_COLOURS.get(s, "#9e9e9e") for _, _, s in known])
        lift = (top - bottom) * 0.045
        first_shown = len(known) > 1
        self.first_value.set_visible(first_shown)
        if first_shown:
            index, value, _ = known[0]
            self.first_value.set_position((index, value + lift))
            self.first_value.set_text(plain_value(value, chart.unit))
        self.last_value.set_visible(bool(known))
        if known:
            index, value, _ = known[-1]
            self.last_value.set_position((index, value + lift))
            self.last_value.set_text(plain_value(value, chart.unit))
        self.empty.set_visible(not known)
        self.strip.set_data(_week_strip(week_labels(chart)))
        self.title.set_text(_shorten(chart_title(chart), 48))
        self.target_words.set_text("- - " + target_words(chart.target, chart.unit, chart.direction))
        return self.figure


# The one reused trend figure (made on first use). Used under `_LOCK` only.
_reused_trend: list[_TrendFigure] = []


class _PastedImage(FigureImage):
    """A picture pasted pixel for pixel at the figure's bottom left corner: what `figimage`
    draws, without resampling it for each drawing (a tenth of a trend chart's time)."""

    def make_image(
        self, renderer: RendererBase, magnification: float = 1.0, unsampled: bool = False
    ) -> tuple[Any, float, float, Affine2D]:
        pixels = self.get_array()
        assert pixels is not None
        # The rows bottom up, as `figimage` hands them to the renderer.
        return pixels[::-1], self.ox, self.oy, Affine2D()


def _span(rectangle: Rectangle, low: float, high: float) -> None:
    """Move an `axhspan` to cover `low` to `high` (data units, the full width)."""
    rectangle.set_y(low)
    rectangle.set_height(high - low)


def _axes_centre() -> tuple[float, float]:
    left, bottom, width, height = TREND_AXES
    return left + width / 2, bottom + height / 2


def _overview_figure(chart: OverviewChart) -> Figure:
    rows = max(len(chart.bars), 1)
    height = max(HEIGHT_PX, 72 + rows * OVERVIEW_ROW_PX)
    figure = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.3, right=0.98, top=1 - 36 / height, bottom=32 / height)
    axes = figure.add_subplot()
    # The first KPI on top, as they are listed in the digest.
    positions = list(range(rows - 1, rows - 1 - len(chart.bars), -1))
    lengths = [bar.attainment if bar.attainment is not None else 0.0 for bar in chart.bars]
    axes.axvspan(1 - 0.10, 1.0, color=BAND_COLOUR, zorder=0)
    axes.axvline(1.0, color="#555555", linewidth=1.5, linestyle="--", zorder=1)
    # All bars as one collection: a Rectangle artist per bar costs more to make than the
    # whole overview takes to fill.
    half = 0.62 / 2
    bars = PolyCollection(
        [
            [(0, y - half), (0, y + half), (length, y + half), (length, y - half)]
            for y, length in zip(positions, lengths, strict=True)
        ],
        facecolors=[STATUS_COLOURS.get(bar.status, "#9e9e9e") for bar in chart.bars],
        edgecolors="none",
        zorder=2,
        gid="bars",
    )
    axes.add_collection(bars, autolim=False)
    for position, bar in zip(positions, chart.bars, strict=True):
        if bar.attainment is None:
            label = bar.status
        else:
            label = f"{_shorten(plain_value(bar.value, bar.unit), 16)} · {bar.status}"
        axes.text(
            MAX_ATTAINMENT + 0.03,  # one column, clear of the bars and the target line
            position,
            label,
            va="center",
            fontsize=11,
            zorder=3,
        )
    # Names as plain text rather than tick labels: 30 ticks cost more than the bars.
    axes.set_yticks([])
    for position, bar in zip(positions, chart.bars, strict=True):
        axes.text(
            -0.01,
            position,
            _shorten(bar.name, 26),
            transform=axes.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=12,
        )
    axes.set_xlim(0, MAX_ATTAINMENT + 0.75)
    axes.set_xticks([0, 0.5, 1.0, 1.5], ["0", "50%", "target", "150%"])
    axes.set_ylim(-0.6, rows - 0.4)
    axes.set_title(chart_title(chart), loc="left")
    if not chart.bars:
        axes.text(0.5, 0.5, "no KPIs yet", transform=axes.transAxes, ha="center")
    return figure


# Where the trend axes sit in the figure (fractions), and the strip of week labels below.
TREND_AXES = (0.03, 0.13, 0.94, 0.72)
STRIP_PX = 40


def week_labels(chart: TrendChart) -> tuple[str, ...]:
    """The label under each point: the week without its year (`W47`)."""
    return tuple(point.period.split("-")[-1] for point in chart.points)


@functools.lru_cache(maxsize=16)
def _week_strip(labels: tuple[str, ...]) -> Any:
    """The labels, centred under the points of a trend chart, as an RGBA image as wide as
    the chart (transparent around the text)."""
    strip = Figure(figsize=(WIDTH_PX / DPI, STRIP_PX / DPI), dpi=DPI)
    FigureCanvasAgg(strip)
    strip.patch.set_alpha(0.0)
    left, _, width, _ = TREND_AXES
    count = max(len(labels), 1)
    for index, label in enumerate(labels):
        x = left + width * (index + 0.5) / count
        strip.text(x, 0.6, label, ha="center", va="center", fontsize=12, color="#333333")
    raw = io.BytesIO()
    strip.savefig(raw, format="rgba", dpi=DPI)
    pixels = numpy.frombuffer(raw.getvalue(), dtype=numpy.uint8).reshape(STRIP_PX, WIDTH_PX, 4)
    pixels.setflags(write=False)
    return pixels


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
