"""KPI charts as Slack files: stored once per drawing, uploaded once, reused everywhere.

A chart is named by the hash of what it draws (`bot.kpis.charts.chart_hash`). The first
surface that needs it (the digest, the App Home, `/kpi show`) stores it and queues its
upload in the outbox, in the same transaction as its own message; the sender draws the PNG
then (`chart_upload`), uploads it with files_upload_v2 and keeps the file id on the chart,
which every later message showing the same data reuses. So a chart is drawn and uploaded
once per KPI and period, and again only when a value (or the target) changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.kpis.charts import (
    TREND,
    Chart,
    ChartRef,
    ChartUpload,
    TrendChart,
    alt_text,
    chart_data,
    chart_filename,
    chart_from_data,
    chart_hash,
    chart_period,
    chart_title,
    upload_key,
)
from bot.outbox import models as outbox
from bot.outbox.models import Outgoing
from bot.outbox.service import enqueue
from storage import charts as chart_store
from storage import outbox as outbox_rows
from storage.db import SessionFactory, transaction
from storage.models.outbox import OUTBOX_FAILED, OUTBOX_SKIPPED

GIVEN_UP = (OUTBOX_FAILED, OUTBOX_SKIPPED)


def prepare_charts(
    session: Session, *, team_id: str, charts: Sequence[Chart], channel: str, now: datetime
) -> list[ChartRef]:
    """Store each chart (once) and queue its upload unless it was uploaded before, in the
    caller's transaction; how a message shows each."""
    refs = []
    for chart in charts:
        name = chart_hash(chart)
        row = chart_store.add_chart_if_absent(
            session,
            team_id=team_id,
            chart_hash=name,
            kind=TREND if isinstance(chart, TrendChart) else "overview",
            kpi_key=chart.kpi_key if isinstance(chart, TrendChart) else None,
            period=chart_period(chart),
            spec=json.dumps(chart_data(chart), ensure_ascii=False, sort_keys=True),
            title=chart_title(chart),
            alt_text=alt_text(chart),
            now=now,
        )
        missing = False
        if row.file_id is None:
            # Queued once per team and drawing (the key): a digest run twice, or a second
            # scheduler, adds nothing; a given-up upload stays given up (a person resends).
            upload = outbox.upload_chart(upload_key(name), chart_hash=name, channel=channel)
            if not enqueue(session, team_id=team_id, messages=[upload], now=now):
                queued = outbox_rows.get_by_key(session, team_id=team_id, key=upload_key(name))
                missing = queued is not None and queued.state in GIVEN_UP
        refs.append(ChartRef(name, row.title, row.alt_text, row.file_id, upload_key(name), missing))
    return refs


def queue_with_charts(
    sessions: SessionFactory,
    *,
    team_id: str,
    charts: Sequence[Chart],
    channel: str,
    now: datetime,
    messages: Callable[[list[ChartRef]], Sequence[Outgoing]],
) -> tuple[list[ChartRef], int]:
    """Store the charts and queue their uploads, then the messages showing them (built by
    `messages` from how each chart is shown), in one transaction: (the charts, how many
    messages were new)."""
    with transaction(sessions) as session:
        refs = prepare_charts(session, team_id=team_id, charts=charts, channel=channel, now=now)
        added = enqueue(session, team_id=team_id, messages=messages(refs), now=now)
        return refs, added


def pending_uploads(refs: Iterable[ChartRef]) -> tuple[str, ...]:
    """The upload keys a message showing `refs` waits for (those not uploaded yet)."""
    return tuple(ref.upload_key for ref in refs if ref.file_id is None and not ref.missing)


def chart_upload(sessions: SessionFactory, *, team_id: str, chart_hash: str) -> ChartUpload | None:
    """The PNG to upload for a stored chart, drawn now (None: no such chart)."""
    with transaction(sessions) as session:
        row = chart_store.get_chart(session, team_id=team_id, chart_hash=chart_hash)
        if row is None:
            return None
        chart = chart_from_data(json.loads(row.spec))
        title, alt = row.title, row.alt_text
    # Imported here: matplotlib takes most of a second to load, and only the sender and
    # `--charts` draw; every other command and listener needs none of it.
    from bot.kpis.plot import render_png

    return ChartUpload(chart_filename(chart), title, alt, render_png(chart))


def chart_file_ids(
    sessions: SessionFactory, *, team_id: str, hashes: Iterable[str]
) -> dict[str, str]:
    """hash → Slack file id, for the charts among `hashes` that were uploaded."""
    with transaction(sessions) as session:
        return chart_store.list_file_ids(session, team_id=team_id, hashes=hashes)


@dataclass(frozen=True)
class StoredCharts:
    """The sender's view of the stored charts (`bot.slack.sender.Charts`)."""

    sessions: SessionFactory

    def draw(self, team_id: str, chart_hash: str) -> ChartUpload | None:
        return chart_upload(self.sessions, team_id=team_id, chart_hash=chart_hash)

    def file_ids(self, team_id: str, hashes: Iterable[str]) -> dict[str, str]:
        return chart_file_ids(self.sessions, team_id=team_id, hashes=hashes)
