"""`/kpi` replies: a logged value, one KPI over 8 weeks, the list of KPIs."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.kpis.models import KpiInfo, KpiReport, LoggedValue, Measurement
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
    if value is None:
        return "—"
    number = f"{value:.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:.0f}"
    if not unit or unit == "points":
        return number
    if unit == "%":
        return number + "%"
    return f"{number} {escape(unit)}"


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
    """`↑ from 22% (2026-W46)`: the current value against the one before it, if any."""
    values = [w for w in report.weeks if w.value is not None and w.week < report.current.week]
    if report.current.value is None or not values:
        return ""
    before = values[-1]
    assert before.value is not None
    arrow = "↑" if report.current.value > before.value else "↓"
    if report.current.value == before.value:
        arrow = "→"
    return f"{arrow} from {format_value(before.value, report.kpi.unit)} ({before.week})"


def render_kpi_report(report: KpiReport) -> tuple[str, list[Block]]:
    kpi = report.kpi
    rows = []
    for week in report.weeks:
        rows.append(f"{week.week}  {format_value(week.value, kpi.unit)}")
    table = "```\n" + "\n".join(rows) + "\n```"
    span = f"Last {len(report.weeks)} {kpi.period_word}s:"
    kind = "logged by hand" if kpi.is_manual else f"computed ({kpi.kind})"
    kind += ", monthly" if kpi.period_word == "month" else ""
    footer = f"{kind}; value shown: {report.current.week}. {STATUS_NOTE}"
    summary = kpi_line(report)
    trend = trend_text(report)
    if trend:
        summary += f"\nTrend: {trend}"
    if kpi.description:
        summary += "\n" + truncate(escape(kpi.description), 500)
    text = f"{summary}\n{span}\n{table}"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(summary, SECTION_TEXT_LIMIT))),
        SectionBlock(text=MarkdownTextObject(text=f"{span}\n{table}")),
        ContextBlock(elements=[MarkdownTextObject(text=footer)]),
    ]
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
