"""KPI charts: what each draws and the Slack file it was uploaded as, reused until it changes

Revision ID: ch01
Revises: sk01
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "ch01"
down_revision: str | None = "tr01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kpi_charts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("chart_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("kpi_key", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("alt_text", sa.Text(), nullable=False),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("uploaded_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_charts")),
        sa.UniqueConstraint("team_id", "chart_hash", name=op.f("uq_kpi_charts_team_id_chart_hash")),
    )


def downgrade() -> None:
    op.drop_table("kpi_charts")
