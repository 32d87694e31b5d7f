"""outbox: the index behind the senders' shared per-channel pace

Revision ID: oc01
Revises: ch01
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "oc01"
down_revision: str | None = "ch01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


INDEX = "ix_outbox_team_id_channel_sent_at"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The outbox keeps every row: built without locking out the ack path's inserts
        # while replicas keep serving during a rolling deploy.
        with op.get_context().autocommit_block():
            op.create_index(
                INDEX, "outbox", ["team_id", "channel", "sent_at"], postgresql_concurrently=True
            )
        return
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["team_id", "channel", "sent_at"], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(INDEX, table_name="outbox", postgresql_concurrently=True)
        return
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
