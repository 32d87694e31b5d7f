"""`/kpi` replies: a logged value, one KPI over 8 weeks, the list of KPIs."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    ImageBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.kpis.charts import ChartRef
from bot.kpis.models import (
    KpiInfo,
    KpiReport,
    LoggedValue,
    Measurement,
    plain_value,
    shown_periods,
    trend_of,
)
from bot.outbox.models import CHART_BLOCK_PREFIX, CHART_MISSING
from bot.slack.help import CommandHelp
from bot.slack.mrkdwn import SECTION_TEXT_LIMIT, escape, local_time, truncate, user_ref

KPI_HELP = CommandHelp(
    "/kpi",
    "Log and review the team's KPIs against their targets.",
    (
        "`/kpi log <kpi> <value> [note]` — log this week's value (this month's for a monthly "
        "KPI; KPI owner or admins), e.g. `/kpi log activation 27% after pricing change`; a "
        "second value replaces the first (the answer shows the one replaced)",
        "*Log value* on a KPI in your nudge DM — the same, in a small form",
        "`/kpi show <kpi>` — the last 8 weeks (6 months), the target and the status",
        "`/kpi list` — every KPI with its current value and status",
        "`/kpi target <kpi> <value>` — change a target (admins)",
    ),
)

STATUS_EMOJI = {
    "on track": ":large_green_circle:",
    "at risk": ":large_yellow_circle:",
    "off track": ":red_circle:",
    "no data": ":white_circle:",
    "no target": ":white_circle:",
}
STATUS_NOTE = "On track: meets the target. At risk: misses it by at most 10%. Off track: worse."
MAX_LIST_BLOCKS = 45


def format_value(value: float | None, unit: str) -> str:
    """`42%`, `3.5 days`, `40`: a KPI value with its unit, or an em dash for no data."""
    return escape(plain_value(value, unit))


def format_target(kpi: KpiInfo) -> str:
    if kpi.target is None:
        return "no target"
    sign = "≥" if kpi.direction == "higher" else "≤"
    return f"target {sign} {format_value(kpi.target, kpi.unit)}"


def status_text(status: str) -> str:
    return f"{STATUS_EMOJI.get(status, '')} {status}".strip()


def owner_text(kpi: KpiInfo) -> str:
    if kpi.owner_id:
        return f"{user_ref(kpi.owner_id)}"
    return "_no owner_"


def kpi_line(report: KpiReport) -> str:
    """One line about a KPI: name, current value, target, status, owner."""
    kpi = report.kpi
    value = report.current.value
    shown = "" if value is None else f" — {format_value(value, kpi.unit)}"
    return (
        f"*{escape(kpi.name)}* (`{escape(kpi.key)}`){shown} · {format_target(kpi)} · "
        f"{status_text(report.status)} · {owner_text(kpi)}"
    )


def render_kpi_logged(logged: LoggedValue) -> tuple[str, list[Block]]:
    kpi = logged.kpi
    text = (
        f":white_check_mark: Logged {format_value(logged.value, kpi.unit)} for "
        f"*{escape(kpi.name)}* ({logged.week}) · {format_target(kpi)} · "
        f"{status_text(logged.status)}"
    )
    if logged.replaced is not None:
        text += "\n" + replaced_line(logged.replaced, kpi, logged.week)
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]


def replaced_line(previous: Measurement, kpi: KpiInfo, period: str) -> str:
    """`Replaced 22% logged by @dana <date> for 2026-W47 (kept in the export).`"""
    note = f" (“{truncate(escape(previous.note), 100)}”)" if previous.note else ""
    return (
        f":arrows_counterclockwise: Replaced {format_value(previous.value, kpi.unit)}{note} "
        f"logged by {user_ref(previous.by_id)} {local_time(previous.at)} for {period}; "
        "the earlier value stays in the export."
    )


def trend_text(report: KpiReport) -> str:
    """`↑ better, from 22% (2026-W46)`: the current value against the one before it, if
    any; better or worse by the KPI's direction (a falling time to resolve is better)."""
    values = [w for w in report.weeks if w.value is not None and w.week < report.current.week]
    if report.current.value is None or not values:
        return ""
    before = values[-1]
    trend = trend_of(report.current.value, before.value, report.kpi.direction)
    assert trend is not None
    was = format_value(before.value, report.kpi.unit)
    return f"{trend.arrow} {trend.word}, from {was} ({before.week})"


NOTE_LIMIT = 300


def notes_text(report: KpiReport) -> str:
    """The notes logged with the values shown, newest first (`2026-W46: after pricing`)."""
    lines = [
        f"• {w.week}: {truncate(escape(' '.join(w.note.split())), NOTE_LIMIT)}"
        for w in reversed(report.weeks[-shown_periods(report.kpi) :])
        if w.note.strip()
    ]
    return "Notes:\n" + "\n".join(lines) if lines else ""


def chart_block(ref: ChartRef) -> Block:
    """The image block of a chart: by its file once uploaded, else filled in by the sender
    when the message goes out (after the upload), or a line saying it is missing."""
    if ref.missing and not ref.file_id:
        return ContextBlock(
            block_id=f"{CHART_BLOCK_PREFIX}{ref.chart_hash}",
            elements=[MarkdownTextObject(text=CHART_MISSING)],
        )
    return ImageBlock(
        block_id=f"{CHART_BLOCK_PREFIX}{ref.chart_hash}",
        slack_file={"id": ref.file_id or ""},
        alt_text=ref.alt_text,
        title=ref.title,
    )


def render_chart_follow_up(report: KpiReport, ref: ChartRef) -> tuple[str, list[Block]]:
    """The chart of `/kpi show`, sent once it is uploaded (the answer came first)."""
    text = f"Chart of *{escape(report.kpi.name)}*: {escape(ref.alt_text)}"
    return text, [chart_block(ref)]


CHART_FOLLOWS = "_The chart follows in a moment._"


def render_kpi_report(report: KpiReport, chart: ChartRef | None = None) -> tuple[str, list[Block]]:
    """One KPI: its line, trend, table of the last weeks, notes and, when given, its chart
    (shown if uploaded, else announced: it follows once uploaded, or is missing)."""
    kpi = report.kpi
    rows = []
    shown = report.weeks[-shown_periods(kpi) :]
    for week in shown:
        mark = "  *" if week.note.strip() else ""
        rows.append(f"{week.week}  {format_value(week.value, kpi.unit)}{mark}")
    table = "```\n" + "\n".join(rows) + "\n```"
    span = f"Last {len(shown)} {kpi.period_word}s:"
    kind = "logged by hand" if kpi.is_manual else f"computed ({kpi.kind})"
    kind += ", monthly" if kpi.period_word == "month" else ""
    footer = f"{kind}; value shown: {report.current.week}. {STATUS_NOTE}"
    summary = kpi_line(report)
    trend = trend_text(report)
    if trend:
        summary += f"\nTrend: {trend}"
    if kpi.description:
        summary += "\n" + truncate(escape(kpi.description), 500)
    notes = notes_text(report)
    if notes:
        table += "\n_* a note was logged with the value_"
    text = f"{summary}\n{span}\n{table}"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(summary, SECTION_TEXT_LIMIT))),
        SectionBlock(text=MarkdownTextObject(text=f"{span}\n{table}")),
    ]
    if notes:
        text += "\n" + notes
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text=truncate(notes, SECTION_TEXT_LIMIT)))
        )
    if chart is not None and (chart.file_id or chart.missing):
        blocks.append(chart_block(chart))
    elif chart is not None:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=CHART_FOLLOWS)]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=footer)]))
    return text, blocks


def render_kpi_list(reports: list[KpiReport]) -> tuple[str, list[Block]]:
    if not reports:
        text = "There are no KPIs yet. An admin defines them in the playbook (`kpis:`)."
        return text, [SectionBlock(text=MarkdownTextObject(text=text))]
    lines = [kpi_line(report) for report in reports]
    blocks: list[Block] = [HeaderBlock(text="KPIs")]
    shown = lines[:MAX_LIST_BLOCKS]
    blocks += [SectionBlock(text=MarkdownTextObject(text=line)) for line in shown]
    if len(lines) > len(shown):
        more = f"… and {len(lines) - len(shown)} more"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=STATUS_NOTE)]))
    return "KPIs\n" + "\n".join(lines), blocks


def render_target_changed(kpi: KpiInfo) -> tuple[str, list[Block]]:
    text = f":dart: *{escape(kpi.name)}* now has {format_target(kpi)}."
    return text, [SectionBlock(text=MarkdownTextObject(text=text))]
