"""escalations remember the modal submission they came from, so a replay stores nothing

Revision ID: sk01
Revises: ob01
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sk01"
down_revision: str | None = "ob01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=128), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_escalations_team_id_submission_key"), ["team_id", "submission_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_escalations_team_id_submission_key"), type_="unique"
        )
        batch_op.drop_column("submission_key")
