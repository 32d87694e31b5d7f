"""KPI charts: what each one draws, and the Slack file it was uploaded as (reused)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class KpiChart(Base):
    """One chart, named by the hash of everything it draws: the same data is rendered and
    uploaded once per team, and every surface showing it (digest, App Home, /kpi show)
    reuses the uploaded file."""

    __tablename__ = "kpi_charts"
    __table_args__ = (UniqueConstraint("team_id", "chart_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    chart_hash: Mapped[str] = mapped_column(String(64))
    # "trend" (one KPI) or "overview" (every KPI's status); the KPI's key for a trend.
    kind: Mapped[str] = mapped_column(String(16))
    kpi_key: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    # JSON of bot.kpis.charts.chart_data: the chart is drawn from it when it is uploaded.
    spec: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(200))
    alt_text: Mapped[str] = mapped_column(Text)
    # The Slack file id once uploaded (files.completeUploadExternal).
    file_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
