"""`/kpi`: log a value, show one KPI, list them, change a target."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk.models.blocks import Block

from bot.deps import Deps
from bot.errors import UserError
from bot.ids import is_channel_id
from bot.kpis import chart_files
from bot.kpis import service as kpis
from bot.kpis.charts import ChartRef, trend_chart
from bot.kpis.models import KpiReport
from bot.kpis.parse import split_value_and_note
from bot.kpis.render import (
    KPI_HELP,
    render_chart_follow_up,
    render_kpi_list,
    render_kpi_logged,
    render_kpi_report,
    render_target_changed,
)
from bot.org import service as directory
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.slack.blocks import as_dicts
from bot.slack.context import deps_of, team_of, user_of
from bot.slack.errors import guarded
from bot.slack.help import render_command_help
from bot.slack.mrkdwn import typed
from bot.slack.replies import answer, command_args

KPI_COMMAND = "/kpi"
LOG_EXAMPLE = "/kpi log activation 27% after the pricing change"


def register(app: App) -> None:
    app.command(KPI_COMMAND)(guarded(handle_kpi_command))


def handle_kpi_command(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Answered in the ack, after a logged value or a changed target is stored."""
    deps = deps_of(context)
    team_id, user_id = team_of(body), user_of(body)
    word, rest = command_args(body.get("text"))
    now = deps.clock()
    tz = directory.team_timezone(
        deps.sessions, team_id=team_id, default=deps.settings.opsloop_timezone
    )
    text: str
    blocks: list[Block]
    if word in ("", "help"):
        text, blocks = render_command_help(KPI_HELP)
    elif word == "log":
        kpi_ref, *after = rest.split(maxsplit=1) or [""]
        raw_value, note = split_value_and_note(after[0] if after else "")
        if not raw_value:
            raise UserError("Tell me which KPI and the value.", example=LOG_EXAMPLE)
        logged = kpis.log_kpi_value(
            deps.sessions,
            team_id=team_id,
            user_id=user_id,
            kpi_ref=kpi_ref,
            raw_value=raw_value,
            note=note,
            now=now,
            tz=tz,
        )
        text, blocks = render_kpi_logged(logged)
    elif word == "show" and rest:
        report = kpis.show_kpi(deps.sessions, team_id=team_id, kpi_ref=rest, now=now, tz=tz)
        channel = str(body.get("channel_id") or "")
        chart = _show_chart(
            deps, report, team_id=team_id, user_id=user_id, channel=channel, now=now
        )
        text, blocks = render_kpi_report(report, chart)
    elif word in ("list", "show"):
        reports = kpis.list_kpi_reports(deps.sessions, team_id=team_id, now=now, tz=tz)
        text, blocks = render_kpi_list(reports)
    elif word == "target":
        parts = rest.split()
        if len(parts) != 2:
            raise UserError("Tell me which KPI and the new target.", example="/kpi target nps 45")
        changed = kpis.set_kpi_target(
            deps.sessions,
            team_id=team_id,
            user_id=user_id,
            kpi_ref=parts[0],
            raw_value=parts[1],
            now=now,
        )
        text, blocks = render_target_changed(changed)
    else:
        shown = typed(body.get("text", ""), 100)
        help_text, _ = render_command_help(KPI_HELP)
        raise UserError(f"I don't know `/kpi {shown}`.\n{help_text}", example=LOG_EXAMPLE)
    answer(ack, text, blocks)


def _show_chart(
    deps: Deps, report: KpiReport, *, team_id: str, user_id: str, channel: str, now: datetime
) -> ChartRef:
    """The KPI's chart for the answer: shown at once when uploaded before (by the digest,
    the App Home or an earlier `/kpi show`); otherwise its upload is queued and the chart
    follows privately once uploaded (the listener never waits on Slack)."""
    in_channel = channel if is_channel_id(channel) else None

    def follow_up(refs: list[ChartRef]) -> list[Outgoing]:
        ref = refs[0]
        if ref.file_id or ref.missing:
            return []
        text, blocks = render_chart_follow_up(report, ref)
        return [
            outbox.tell_privately(
                f"kpi-chart:{user_id}:{ref.chart_hash}",
                user_id=user_id,
                channel=in_channel,
                text=text,
                blocks=as_dicts(blocks),
                after=ref.upload_key,
            )
        ]

    refs, _ = chart_files.queue_with_charts(
        deps.sessions,
        team_id=team_id,
        charts=[trend_chart(report)],
        channel=in_channel or user_id,
        now=now,
        messages=follow_up,
    )
    return refs[0]
