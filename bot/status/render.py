"""`/ops status`: the health of the operation, as a short checklist of what is missing."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.org.models import REVIEW_FROM_STATUS, ReviewRef
from bot.org.render import MARK_REVIEWED_ACTION
from bot.slack.limits import BUTTON_TEXT_LIMIT
from bot.slack.mrkdwn import SECTION_TEXT_LIMIT, escape, truncate
from bot.status.models import StatusReport

MAX_NAMES = 20
# One line each for this many deactivated owners, then one line for the rest, so a team
# whose directory changed a lot still gets a status within Slack's 50 blocks.
MAX_OWNER_LINES = 10
# *Mark reviewed* buttons under the stale SOPs (one actions block; Slack allows 25).
MAX_REVIEW_BUTTONS = 10


HEALTHY = (
    ":white_check_mark: Every process has an active owner, every KPI has recent data "
    "and every SOP is reviewed on time."
)


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    if len(names) > MAX_NAMES:
        shown += f" and {len(names) - MAX_NAMES} more"
    return shown


def render_status(report: StatusReport) -> tuple[str, list[Block]]:
    lines: list[str] = []
    if report.processes_without_owner:
        names = [escape(n) for n in report.processes_without_owner]
        lines.append(f":warning: *Processes without an owner:* {_names(names)}")
    for owner in report.deactivated_owners[:MAX_OWNER_LINES]:
        owns = _names([escape(o) for o in owner.owns])
        who = f"`{escape(owner.user_id)}`"
        if owner.display_name:  # an id Slack does not know has no name
            who = f"{escape(owner.display_name)} ({who})"
        lines.append(f":warning: *Owner deactivated or not in this Slack:* {who} still owns {owns}")
    hidden = report.deactivated_owners[MAX_OWNER_LINES:]
    if hidden:
        others = _names([escape(o.display_name or o.user_id) for o in hidden])
        lines.append(f":warning: *{len(hidden)} more owners deactivated or not in Slack:* {others}")
    if report.kpis_without_data:
        names = [escape(n) for n in report.kpis_without_data]
        lines.append(f":warning: *KPIs with no value for two weeks:* {_names(names)}")
    if report.stale_sops:
        parts = [
            f"{escape(sop.name)} ({'never reviewed' if sop.due is None else f'due {sop.due}'})"
            for sop in report.stale_sops
        ]
        lines.append(f":warning: *SOPs past their review date:* {_names(parts)}")
    summary = f"{report.process_count} process(es), {report.kpi_count} KPI(s). " + (
        "All healthy." if report.healthy else f"{len(lines)} thing(s) need attention."
    )
    if report.healthy:
        lines.append(HEALTHY)
    blocks: list[Block] = [HeaderBlock(text="Operation status")]
    blocks += [
        SectionBlock(text=MarkdownTextObject(text=truncate(line, SECTION_TEXT_LIMIT)))
        for line in lines
    ]
    if report.stale_sops:
        # Anyone may see the status; the click is checked (owner or admin) before the modal.
        buttons = [
            ButtonElement(
                text=truncate(f"Mark reviewed: {sop.name}", BUTTON_TEXT_LIMIT),
                action_id=MARK_REVIEWED_ACTION,
                value=ReviewRef(sop.key, REVIEW_FROM_STATUS).to_value(),
            )
            for sop in report.stale_sops[:MAX_REVIEW_BUTTONS]
        ]
        blocks.append(ActionsBlock(block_id="status_reviews", elements=buttons))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=summary)]))
    return "Operation status\n" + "\n".join(lines) + "\n" + summary, blocks
