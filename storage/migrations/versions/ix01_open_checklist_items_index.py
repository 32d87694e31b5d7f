"""index open checklist items by due time

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


def upgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checklist_items_team_id_done_at_due_at",
            ["team_id", "done_at", "due_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_items_team_id_done_at_due_at")
