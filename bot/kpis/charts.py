"""What a KPI chart shows, as plain data: built from reports, hashed, described in words.

`trend_chart` (one KPI's last periods against its target band) and `overview_chart` (every
KPI's status in one period) are pure: the picture `bot.kpis.plot` draws is exactly these
points, so tests check the data drawn without comparing pixels. `chart_hash` names a chart
by everything it draws (and the drawing's version): the same data is rendered and uploaded
once, a changed value makes a new chart. No matplotlib, no storage, no Slack here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bot.kpis.models import (
    AT_RISK,
    AT_RISK_MARGIN,
    NO_DATA,
    NO_TARGET,
    OFF_TRACK,
    ON_TRACK,
    KpiReport,
    kpi_status,
    plain_value,
    trend_of,
)

# Periods a trend chart shows (the digest, /kpi show and the App Home draw the same ones,
# so one upload serves them all).
CHART_PERIODS = 8
# Bumped when the drawing changes, so charts uploaded before are not reused.
DRAWING_VERSION = 1
# Slack's limit for an image block's alt text.
ALT_TEXT_LIMIT = 2000
TREND = "trend"
OVERVIEW = "overview"
STATUS_ORDER = (ON_TRACK, AT_RISK, OFF_TRACK, NO_DATA, NO_TARGET)


@dataclass(frozen=True)
class ChartPoint:
    period: str
    value: float | None
    status: str


@dataclass(frozen=True)
class TrendChart:
    """One KPI over its last periods; `band` is the at-risk band next to the target."""

    kpi_key: str
    name: str
    unit: str
    direction: str
    target: float | None
    points: tuple[ChartPoint, ...]

    @property
    def band(self) -> tuple[float, float] | None:
        """(low, high) of the values that are *at risk*: within 10% of the target, short of it."""
        if self.target is None:
            return None
        margin = abs(self.target) * AT_RISK_MARGIN
        if self.direction == "higher":
            return self.target - margin, self.target
        return self.target, self.target + margin


@dataclass(frozen=True)
class OverviewBar:
    """One KPI in the overview: `attainment` is its value against target (1.0 = on target,
    more is better whatever the direction; None without a value or a target)."""

    kpi_key: str
    name: str
    unit: str
    value: float | None
    target: float | None
    direction: str
    status: str
    attainment: float | None


@dataclass(frozen=True)
class OverviewChart:
    period: str
    bars: tuple[OverviewBar, ...]


Chart = TrendChart | OverviewChart
# How far past the target the overview draws (a KPI at 3x its target is just "well over").
MAX_ATTAINMENT = 1.5


def trend_chart(
    report: KpiReport, *, periods: int = CHART_PERIODS, last: str | None = None
) -> TrendChart:
    """The last `periods` of `report` up to `last` (default: the period it shows), each
    with its status."""
    kpi = report.kpi
    end = last or report.current.week
    shown = [week for week in report.weeks if week.week <= end][-periods:]
    return TrendChart(
        kpi_key=kpi.key,
        name=kpi.name,
        unit=kpi.unit,
        direction=kpi.direction,
        target=kpi.target,
        points=tuple(
            ChartPoint(w.week, w.value, kpi_status(w.value, kpi.target, kpi.direction))
            for w in shown
        ),
    )


def attainment(value: float | None, target: float | None, direction: str) -> float | None:
    """`value` against `target` as a fraction where 1.0 meets it and more is better."""
    if value is None or target is None:
        return None
    if target == 0 or (direction != "higher" and value == 0):
        meets = value >= target if direction == "higher" else value <= target
        return MAX_ATTAINMENT if meets else 0.0
    ratio = value / target if direction == "higher" else target / value
    return max(0.0, min(MAX_ATTAINMENT, ratio))


def overview_chart(reports: Sequence[KpiReport], *, period: str | None = None) -> OverviewChart:
    """Every KPI's value of `period` (default: the value each report shows, labelled with
    the latest of their periods) against its target, in the order they are defined."""
    bars = []
    label = period or max((r.current.week for r in reports), default="")
    for report in reports:
        kpi = report.kpi
        if period is None:
            value = report.current.value
        else:
            value = next((w.value for w in report.weeks if w.week == period), None)
        bars.append(
            OverviewBar(
                kpi_key=kpi.key,
                name=kpi.name,
                unit=kpi.unit,
                value=value,
                target=kpi.target,
                direction=kpi.direction,
                status=kpi_status(value, kpi.target, kpi.direction),
                attainment=attainment(value, kpi.target, kpi.direction),
            )
        )
    return OverviewChart(label, tuple(bars))


def chart_data(chart: Chart) -> dict[str, Any]:
    """The chart as JSON-ready data (stored, hashed, and read back by `chart_from_data`)."""
    kind = TREND if isinstance(chart, TrendChart) else OVERVIEW
    return {"kind": kind, "version": DRAWING_VERSION, **asdict(chart)}


def chart_from_data(data: dict[str, Any]) -> Chart:
    fields = {k: v for k, v in data.items() if k not in ("kind", "version")}
    if data.get("kind") == TREND:
        fields["points"] = tuple(ChartPoint(**p) for p in fields["points"])
        return TrendChart(**fields)
    fields["bars"] = tuple(OverviewBar(**b) for b in fields["bars"])
    return OverviewChart(**fields)


def chart_hash(chart: Chart) -> str:
    """A name for everything the chart draws: equal for equal data, new when a value changes."""
    canonical = json.dumps(chart_data(chart), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def chart_period(chart: Chart) -> str:
    if isinstance(chart, OverviewChart):
        return chart.period
    return chart.points[-1].period if chart.points else ""


def chart_title(chart: Chart) -> str:
    if isinstance(chart, OverviewChart):
        return f"KPIs in {chart.period}"
    return f"{chart.name} — last {len(chart.points)} weeks"


def chart_filename(chart: Chart) -> str:
    if isinstance(chart, OverviewChart):
        return f"kpis-{chart.period}.png"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in chart.kpi_key)[:60]
    return f"kpi-{safe}-{chart_period(chart)}.png"


def target_words(target: float | None, unit: str, direction: str) -> str:
    if target is None:
        return "no target"
    sign = "at least" if direction == "higher" else "at most"
    return f"target {sign} {plain_value(target, unit)}"


def alt_text(chart: Chart) -> str:
    """What the picture says, in words (Slack shows it to screen readers and as a fallback)."""
    text = _trend_alt(chart) if isinstance(chart, TrendChart) else _overview_alt(chart)
    return text if len(text) <= ALT_TEXT_LIMIT else text[: ALT_TEXT_LIMIT - 1] + "…"


def _trend_alt(chart: TrendChart) -> str:
    known = [p for p in chart.points if p.value is not None]
    span = f"{chart.points[0].period} to {chart.points[-1].period}" if chart.points else ""
    head = f"{chart.name} over {len(chart.points)} weeks ({span}), " + target_words(
        chart.target, chart.unit, chart.direction
    )
    if not known:
        return head + ": no values yet."
    first, last = known[0], known[-1]
    words = [head + "."]
    if len(known) == 1:
        words.append(f"Only {last.period} has a value: {plain_value(last.value, chart.unit)}.")
    else:
        trend = trend_of(last.value, first.value, chart.direction)
        assert trend is not None
        moved = (
            "unchanged at"
            if trend.better is None
            else ("up" if trend.arrow == "↑" else "down")
            + f" from {plain_value(first.value, chart.unit)} to"
        )
        judged = "" if trend.better is None else f", {trend.word}"
        words.append(
            f"{trend.arrow} {moved} {plain_value(last.value, chart.unit)} "
            f"({first.period} to {last.period}{judged})."
        )
        previous = known[-2]
        step = trend_of(last.value, previous.value, chart.direction)
        if step is not None and previous is not first:
            words.append(
                f"Against the week before ({previous.period}, "
                f"{plain_value(previous.value, chart.unit)}): {step.arrow} {step.word}."
            )
    words.append(f"{last.period}: {last.status}.")
    missing = len(chart.points) - len(known)
    if missing:
        words.append(f"{missing} week(s) without a value.")
    return " ".join(words)


def _overview_alt(chart: OverviewChart) -> str:
    counts = {status: 0 for status in STATUS_ORDER}
    for bar in chart.bars:
        counts[bar.status] = counts.get(bar.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    words = [f"{len(chart.bars)} KPIs in {chart.period}: {summary or 'none'}."]
    for status in (OFF_TRACK, AT_RISK):
        named = [
            f"{bar.name} ({plain_value(bar.value, bar.unit)}, "
            f"{target_words(bar.target, bar.unit, bar.direction)})"
            for bar in chart.bars
            if bar.status == status
        ]
        if named:
            words.append(f"{status.capitalize()}: " + "; ".join(named) + ".")
    return " ".join(words)


@dataclass(frozen=True)
class ChartRef:
    """A stored chart as a message shows it: by its Slack file once uploaded, else by the
    upload a message waits for (`upload_key`)."""

    chart_hash: str
    title: str
    alt_text: str
    file_id: str | None
    upload_key: str
    # The upload was given up: messages say the chart is missing instead of waiting.
    missing: bool = False


def upload_key(hash_: str) -> str:
    """The outbox key of a chart's upload: one per team and drawing, ever."""
    return f"chart:{hash_}"


def unstored_refs(charts: Sequence[Chart]) -> list[ChartRef]:
    """How a message would show `charts` before they are stored (a dry run, a preview)."""
    return [
        ChartRef(chart_hash(c), chart_title(c), alt_text(c), None, upload_key(chart_hash(c)))
        for c in charts
    ]


@dataclass(frozen=True)
class ChartUpload:
    """What the sender uploads for one chart."""

    filename: str
    title: str
    alt_text: str
    png: bytes
