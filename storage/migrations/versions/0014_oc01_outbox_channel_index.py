"""outbox: the index behind the senders' shared per-channel pace

Revision ID: oc01
Revises: ch01
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "oc01"
down_revision: str | None = "ch01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEX = "ix_outbox_team_id_channel_sent_at"
COLUMNS = ["team_id", "channel", "sent_at"]


def _outbox_has_rows() -> bool:
    return op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM outbox)")).scalar() is True


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        if _outbox_has_rows():
            # The outbox keeps every row: built without locking out the ack path's inserts
            # while replicas keep serving during a rolling deploy. (CONCURRENTLY also waits
            # for every transaction in the database to end, whatever its schema.)
            with op.get_context().autocommit_block():
                op.create_index(INDEX, "outbox", COLUMNS, postgresql_concurrently=True)
            return
        # An empty outbox (a new install): nothing to lock out, and nothing to wait for.
        op.create_index(INDEX, "outbox", COLUMNS)
        return
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(INDEX, COLUMNS, unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        if _outbox_has_rows():
            with op.get_context().autocommit_block():
                op.drop_index(INDEX, table_name="outbox", postgresql_concurrently=True)
            return
        op.drop_index(INDEX, table_name="outbox")
        return
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
