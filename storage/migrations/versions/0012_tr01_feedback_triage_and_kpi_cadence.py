"""feedback triage (status history, assignee, escalation link, soft delete); KPI cadence
and bounds

Revision ID: tr01
Revises: sk01
Create Date: 2026-12-01 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "tr01"
down_revision: str | None = "rv01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feedback_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'triaged', 'closed')",
            name=op.f("ck_feedback_status_changes_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_status_changes_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_status_changes")),
    )
    with op.batch_alter_table("feedback_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_status_changes_feedback_id_at", ["feedback_id", "at"], unique=False
        )
    # Nullable columns: plain ADD COLUMN on both databases, no table rebuild.
    op.add_column("feedback", sa.Column("assignee_id", sa.String(length=32), nullable=True))
    op.add_column("feedback", sa.Column("escalation_id", sa.Integer(), nullable=True))
    op.add_column("feedback", sa.Column("deleted_at", storage.types.UTCDateTime(), nullable=True))
    op.add_column("feedback", sa.Column("deleted_by", sa.String(length=32), nullable=True))
    op.create_index(op.f("ix_feedback_escalation_id"), "feedback", ["escalation_id"])
    op.add_column(
        "kpis",
        sa.Column("cadence", sa.String(length=8), server_default="weekly", nullable=False),
    )
    op.add_column("kpis", sa.Column("min_value", sa.Float(), nullable=True))
    op.add_column("kpis", sa.Column("max_value", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kpis", schema=None) as batch_op:
        batch_op.drop_column("max_value")
        batch_op.drop_column("min_value")
        batch_op.drop_column("cadence")
    op.drop_index(op.f("ix_feedback_escalation_id"), table_name="feedback")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("deleted_by")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("escalation_id")
        batch_op.drop_column("assignee_id")
    op.drop_table("feedback_status_changes")
