"""call insight: what the reports need from each call (issue 13)

``call_records`` gains the keys not pressed in time and the wrong keys per node, how the
verification went, and the node the call left for a person and how; ``call_node_visits``
holds one row per node of each ended call's path (the funnel). Indexes for a period:
records by start, node rows by start and node (covering the counts on PostgreSQL, for an
index-only scan), queue entries by enqueue time, callbacks by creation time. Records
already stored get no node rows (their counts are unknown).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("call_records") as table:
        table.add_column(sa.Column("timeouts", sa.JSON(), nullable=True))
        table.add_column(sa.Column("invalid", sa.JSON(), nullable=True))
        table.add_column(sa.Column("verification", sa.String(12), nullable=True))
        table.add_column(sa.Column("handoff_node", sa.String(80), nullable=True))
        table.add_column(sa.Column("handoff", sa.String(16), nullable=True))
    op.create_index("ix_call_records_started_at", "call_records", ["started_at"])
    op.create_table(
        "call_node_visits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("node", sa.String(80), nullable=False),
        sa.Column("entered", sa.Integer(), nullable=False),
        sa.Column("timeouts", sa.Integer(), nullable=False),
        sa.Column("invalid", sa.Integer(), nullable=False),
        sa.Column("hung_up", sa.Integer(), nullable=False),
        sa.Column("to_person", sa.Integer(), nullable=False),
    )
    op.create_index("ix_call_node_visits_call_id", "call_node_visits", ["call_id"])
    op.create_index(
        "ix_call_node_visits_started_node",
        "call_node_visits",
        ["started_at", "node"],
        postgresql_include=["entered", "timeouts", "invalid", "hung_up", "to_person"],
    )
    op.create_index("ix_queue_entries_enqueued_at", "queue_entries", ["enqueued_at"])
    op.create_index("ix_callbacks_created_at", "callbacks", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_created_at", table_name="callbacks")
    op.drop_index("ix_queue_entries_enqueued_at", table_name="queue_entries")
    op.drop_table("call_node_visits")
    op.drop_index("ix_call_records_started_at", table_name="call_records")
    with op.batch_alter_table("call_records") as table:
        for column in ("handoff", "handoff_node", "verification", "invalid", "timeouts"):
            table.drop_column(column)
