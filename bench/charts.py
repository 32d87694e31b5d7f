"""KPI charts: draw a digest's charts for 30 KPIs (the overview and one trend per KPI).

What the sender does when a week's digest is new: every chart drawn once, as PNG, with
the same drawing code (`bot.kpis.plot.render_png`). Reported as wall time and as this
process's CPU time: the machine is shared, and CPU time is what one digest costs whatever
else runs. The cache (one upload per drawing, reused until a value changes) means a digest
run again, the App Home and `/kpi show` draw nothing more.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from bench import report
from bot.kpis.charts import CHART_PERIODS, Chart, overview_chart, trend_chart
from bot.kpis.models import KpiInfo, KpiReport, WeekValue, kpi_status

KPIS = 30
WEEK = "2026-W47"


def digest_charts(kpis: int = KPIS) -> list[Chart]:
    """The charts of a digest with `kpis` KPIs of varied units, directions and data."""
    reports = []
    weeks = [f"2026-W{47 - CHART_PERIODS + 1 + i}" for i in range(CHART_PERIODS)]
    for k in range(kpis):
        direction = "higher" if k % 3 else "lower"
        unit = ("%", "days", "points", "")[k % 4]
        info = KpiInfo(
            f"kpi{k}", f"KPI number {k}", "", unit, 50.0 + k, direction, None, None, "manual"
        )
        values = tuple(
            WeekValue(week, None if (i + k) % 7 == 3 else 40.0 + (i * 7 + k * 3) % 25)
            for i, week in enumerate(weeks)
        )
        current = values[-1] if values[-1].value is not None else values[-2]
        reports.append(
            KpiReport(info, values, current, kpi_status(current.value, info.target, direction))
        )
    return [overview_chart(reports, period=WEEK), *(trend_chart(r, last=WEEK) for r in reports)]


def measure(kpis: int = KPIS, repeats: int = 5) -> dict[str, Any]:
    """Draw every chart of the digest `repeats` times (after a warm-up: the import of
    matplotlib and its font cache are paid once per process, not per digest)."""
    from bot.kpis.plot import render_png

    charts = digest_charts(kpis)
    render_png(charts[0])
    render_png(charts[1])
    wall, cpu, sizes = [], [], []
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        sizes = [len(render_png(chart)) for chart in charts]
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {
        "kpis": kpis,
        "charts": len(charts),
        "repeats": repeats,
        "wall_ms": [round(t * 1000, 1) for t in wall],
        "cpu_ms": [round(t * 1000, 1) for t in cpu],
        "median_wall_ms": round(statistics.median(wall) * 1000, 1),
        "median_cpu_ms": round(statistics.median(cpu) * 1000, 1),
        "png_kb": round(sum(sizes) / 1024, 1),
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\ncharts — a digest of {result['kpis']} KPIs: {result['charts']} PNGs "
        f"({result['png_kb']} KB), median of {result['repeats']} after a warm-up"
    )
    print(
        report.table(
            ["charts", "wall ms", "min wall", "cpu ms", "min cpu", "per chart (cpu)"],
            [
                [
                    result["charts"],
                    result["median_wall_ms"],
                    min(result["wall_ms"]),
                    result["median_cpu_ms"],
                    min(result["cpu_ms"]),
                    round(result["median_cpu_ms"] / result["charts"], 1),
                ]
            ],
        )
    )
