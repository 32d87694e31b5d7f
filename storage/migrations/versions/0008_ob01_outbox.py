"""the outbox: every Slack side effect stored with its change; the send ledger folded in

Revision ID: ob01
Revises: ix01
Create Date: 2026-12-01 11:30:00

Posts the send ledger recorded as sent are copied as sent outbox rows under the same key
(`kind:period:target`), so an upgrade never posts a digest or a nudge a second time.
Failed or abandoned ledger rows are dropped: the scheduler enqueues what is still due.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "ob01"
down_revision: str | None = "ix01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The kinds the send ledger held (digests, nudges, process-owner reports).
SCHEDULED_KINDS = ("digest", "nudge", "nudge_escalation")


def upgrade() -> None:
    outbox = op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("parent_key", sa.String(length=200), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("notify_user", sa.String(length=32), nullable=True),
        sa.Column("fallback_dm", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("claimed_revision", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("unsure", sa.Boolean(), nullable=False),
        sa.Column("next_attempt_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("posted_channel", sa.String(length=32), nullable=True),
        sa.Column("posted_ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("team_id", "key", name=op.f("uq_outbox_team_id_key")),
    )
    op.create_index(
        "ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"], unique=False
    )
    sends = sa.table(
        "sends",
        sa.column("team_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("period", sa.String),
        sa.column("target", sa.String),
        sa.column("state", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("claimed_at", storage.types.UTCDateTime()),
        sa.column("sent_at", storage.types.UTCDateTime()),
        sa.column("channel", sa.String),
        sa.column("ts", sa.String),
    )
    connection = op.get_bind()
    sent = connection.execute(sa.select(sends).where(sends.c.state == "sent")).mappings().all()
    if sent:
        op.bulk_insert(
            outbox,
            [
                {
                    "team_id": row["team_id"],
                    "key": f"{row['kind']}:{row['period']}:{row['target']}",
                    "method": "chat.postMessage",
                    "channel": row["channel"] or row["target"],
                    "payload": "{}",
                    "fallback_dm": False,
                    "state": "sent",
                    "revision": 1,
                    "attempts": row["attempts"],
                    "unsure": False,
                    "posted_channel": row["channel"],
                    "posted_ts": row["ts"],
                    "created_at": row["claimed_at"],
                    "sent_at": row["sent_at"],
                }
                for row in sent
            ],
        )
    op.drop_table("sends")
    with op.batch_alter_table("checklist_runs", schema=None) as batch_op:
        batch_op.alter_column("message_ts", existing_type=sa.String(length=32), nullable=True)


def downgrade() -> None:
    # A run whose message was never delivered has no ts; the older schema requires one.
    op.execute("UPDATE checklist_runs SET message_ts = '' WHERE message_ts IS NULL")
    with op.batch_alter_table("checklist_runs", schema=None) as batch_op:
        batch_op.alter_column("message_ts", existing_type=sa.String(length=32), nullable=False)
    sends = op.create_table(
        "sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sends")),
        sa.UniqueConstraint(
            "team_id", "kind", "period", "target", name=op.f("uq_sends_team_id_kind_period_target")
        ),
    )
    # Scheduled posts already delivered go back to the send ledger, so the older version
    # does not post this week's digest or today's nudges again.
    outbox = sa.table(
        "outbox",
        sa.column("team_id", sa.String),
        sa.column("key", sa.String),
        sa.column("state", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("created_at", storage.types.UTCDateTime()),
        sa.column("sent_at", storage.types.UTCDateTime()),
        sa.column("posted_channel", sa.String),
        sa.column("posted_ts", sa.String),
    )
    connection = op.get_bind()
    sent = connection.execute(sa.select(outbox).where(outbox.c.state == "sent")).mappings().all()
    ledger = []
    for row in sent:
        parts = str(row["key"]).split(":")
        if len(parts) != 3 or parts[0] not in SCHEDULED_KINDS:
            continue
        ledger.append(
            {
                "team_id": row["team_id"],
                "kind": parts[0],
                "period": parts[1],
                "target": parts[2],
                "state": "sent",
                "attempts": max(int(row["attempts"] or 1), 1),
                "claimed_at": row["created_at"],
                "sent_at": row["sent_at"],
                "channel": row["posted_channel"],
                "ts": row["posted_ts"],
            }
        )
    if ledger:
        op.bulk_insert(sends, ledger)
    op.drop_index("ix_outbox_state_next_attempt_at", table_name="outbox")
    op.drop_table("outbox")
