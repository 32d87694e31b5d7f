"""KPIs with a target and an owner, and the values logged for the manual ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime


class Kpi(Base):
    """A KPI definition. `owner_ref` is a Slack user id or `process:<key>` (its owner)."""

    __tablename__ = "kpis"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(32), default="")
    target: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(8), default="higher")
    owner_ref: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(64), default="manual")
    # `weekly` or `monthly`: the period a manual KPI's value is owed for and shown by.
    cadence: Mapped[str] = mapped_column(String(8), default="weekly", server_default="weekly")
    # Bounds of a value or target; None: the default of the KPI's unit (0..100 for %).
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)


class KpiMeasurement(Base):
    """One value of a manual KPI, logged by someone at a moment (the week is derived)."""

    __tablename__ = "kpi_measurements"
    __table_args__ = (Index("ix_kpi_measurements_kpi_id_at", "kpi_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"))
    value: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by_id: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
