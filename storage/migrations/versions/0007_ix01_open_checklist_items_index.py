"""indexes for week-at-a-time reads: open checklist items, escalation and run times

Revision ID: ix01
Revises: sc01
Create Date: 2026-11-22 05:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ix01"
down_revision: str | None = "sc01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ESCALATION_TIMES = ("created_at", "resolved_at", "ack_due_at", "resolve_due_at")
RUN_TIMES = ("started_at", "completed_at", "cancelled_at")


def upgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checklist_items_team_id_done_at_due_at",
            ["team_id", "done_at", "due_at"],
            unique=False,
        )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        for column in ESCALATION_TIMES:
            batch_op.create_index(f"ix_escalations_team_id_{column}", ["team_id", column])
    with op.batch_alter_table("checklist_runs", schema=None) as batch_op:
        for column in RUN_TIMES:
            batch_op.create_index(f"ix_checklist_runs_team_id_{column}", ["team_id", column])


def downgrade() -> None:
    with op.batch_alter_table("checklist_runs", schema=None) as batch_op:
        for column in RUN_TIMES:
            batch_op.drop_index(f"ix_checklist_runs_team_id_{column}")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        for column in ESCALATION_TIMES:
            batch_op.drop_index(f"ix_escalations_team_id_{column}")
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_items_team_id_done_at_due_at")
