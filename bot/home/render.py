"""The App Home tab: four sections, always within Slack's 100-block limit."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.home.models import HomeData, HomeItem, OwnedProcess
from bot.kpis.charts import ChartRef
from bot.kpis.render import STATUS_NOTE, chart_block, kpi_line
from bot.org.models import REVIEW_FROM_HOME, ReviewRef
from bot.org.render import mark_reviewed_button
from bot.slack.limits import VIEW_MAX_BLOCKS
from bot.slack.mrkdwn import escape, link, truncate

HOME_BLOCK_LIMIT = VIEW_MAX_BLOCKS
# Per-section caps: 4 x (header + items + "and N more" + divider) + 3 ≤ 100.
MAX_ITEMS = {"checklist": 18, "escalations": 18, "processes": 12, "kpis": 25}
NOTHING = "Nothing assigned to you."
LINE_LIMIT = 600


def _item_line(item: HomeItem) -> str:
    title = truncate(escape(item.title), LINE_LIMIT)
    title = link(item.url, title)  # only a linkable URL, and one that fits the section
    mark = ":red_circle: " if item.overdue else "• "
    detail = f" — {truncate(escape(item.detail), 300)}" if item.detail else ""
    return mark + title + detail


def _process_line(process: OwnedProcess) -> str:
    name = escape(process.name)
    name = link(process.sop_url, name)
    if process.review_due is None:
        review = ":warning: SOP never reviewed"
    elif process.review_overdue:
        review = f":warning: SOP review was due {process.review_due}"
    else:
        review = f"next SOP review {process.review_due}"
    return f"• *{name}* (`{escape(process.key)}`) — {review}"


def _section(
    title: str,
    lines: list[str],
    cap: int,
    empty: str,
    buttons: list[ButtonElement | None] | None = None,
) -> list[Block]:
    blocks: list[Block] = [HeaderBlock(text=title)]
    if not lines:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=empty)]))
    accessories = buttons or [None] * len(lines)
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=line), accessory=button)
        for line, button in zip(lines[:cap], accessories, strict=False)
    ]
    if len(lines) > cap:
        more = f"… and {len(lines) - cap} more"
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=more)]))
    blocks.append(DividerBlock())
    return blocks


def render_home(data: HomeData, kpi_chart: ChartRef | None = None) -> dict[str, Any]:
    """The `view` for views.publish (type home); `kpi_chart` is the KPIs' overview picture,
    shown under their list."""
    blocks: list[Block] = []
    if data.unavailable:
        note = f":warning: Could not load {', '.join(data.unavailable)} right now."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=note)]))
    blocks += _section(
        "My open checklist items",
        [_item_line(i) for i in data.checklist_items],
        MAX_ITEMS["checklist"],
        NOTHING,
    )
    blocks += _section(
        "My open escalations",
        [_item_line(i) for i in data.escalations],
        MAX_ITEMS["escalations"],
        NOTHING,
    )
    blocks += _section(
        "Processes I own",
        [_process_line(p) for p in data.processes],
        MAX_ITEMS["processes"],
        "You own no process.",
        [mark_reviewed_button(ReviewRef(p.key, REVIEW_FROM_HOME)) for p in data.processes],
    )
    blocks += _section(
        "KPIs",
        [kpi_line(report) for report in data.kpis],
        MAX_ITEMS["kpis"],
        "No KPIs yet: an admin defines them in the playbook.",
    )
    if kpi_chart is not None and data.kpis:
        blocks.insert(len(blocks) - 1, chart_block(kpi_chart))  # above the divider
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=STATUS_NOTE)]))
    assert len(blocks) <= HOME_BLOCK_LIMIT
    return View(type="home", blocks=blocks).to_dict()
