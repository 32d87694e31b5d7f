"""SOP reviews recorded from Slack, and the playbook as last imported (the merge base)

Revision ID: rv01
Revises: sk01
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "rv01"
down_revision: str | None = "rx01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "process_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("process_key", sa.String(length=64), nullable=False),
        sa.Column("reviewed_by", sa.String(length=32), nullable=False),
        sa.Column("reviewed_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_reviews")),
    )
    op.create_index(
        op.f("ix_process_reviews_team_id"), "process_reviews", ["team_id"], unique=False
    )
    op.create_table(
        "playbook_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("imported_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playbook_imports")),
    )
    op.create_index(
        op.f("ix_playbook_imports_team_id"), "playbook_imports", ["team_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_playbook_imports_team_id"), table_name="playbook_imports")
    op.drop_table("playbook_imports")
    op.drop_index(op.f("ix_process_reviews_team_id"), table_name="process_reviews")
    op.drop_table("process_reviews")
