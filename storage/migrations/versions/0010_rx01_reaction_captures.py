"""reaction captures: a message logged as feedback (or offered as an escalation) by a
reaction, and who captured feedback by reacting

Revision ID: rx01
Revises: sk01
Create Date: 2026-12-01 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "rx01"
down_revision: str | None = "sk01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reaction_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("claim", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reactor_id", sa.String(length=32), nullable=False),
        sa.Column("reactor_team_id", sa.String(length=32), nullable=True),
        sa.Column("notify_id", sa.String(length=32), nullable=True),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("shared_channel", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("author_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.String(length=1000), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('fetching', 'captured', 'unavailable', 'undone')",
            name=op.f("ck_reaction_captures_state_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reaction_captures")),
        sa.UniqueConstraint(
            "team_id",
            "channel_id",
            "message_ts",
            "claim",
            name=op.f("uq_reaction_captures_team_id_channel_id_message_ts_claim"),
        ),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("captured_by_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("captured_by_team_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("captured_by_team_id")
        batch_op.drop_column("captured_by_id")
    op.drop_table("reaction_captures")
