"""call record lifecycle: a record is opened when the call starts (``outcome`` and
``ended_at`` NULL while it is in progress) and kept fresh (``last_seen_at``), so a call
whose process died can be closed as ``interrupted`` by the reaper

Records already stored were all closed: their ``last_seen_at`` is their ``ended_at``.
On SQLite ``batch_alter_table`` rebuilds the table (the columns become nullable).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("call_records", sa.Column("last_seen_at", WHEN, nullable=True))
    op.execute(sa.text("UPDATE call_records SET last_seen_at = ended_at"))
    with op.batch_alter_table("call_records") as batch:
        batch.alter_column("last_seen_at", existing_type=WHEN, nullable=False)
        batch.alter_column("outcome", existing_type=sa.String(length=20), nullable=True)
        batch.alter_column("ended_at", existing_type=WHEN, nullable=True)
    op.create_index("ix_call_records_open", "call_records", ["outcome", "last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_call_records_open", table_name="call_records")
    op.execute(
        sa.text(
            "UPDATE call_records SET outcome = 'interrupted', ended_at = last_seen_at "
            "WHERE outcome IS NULL"
        )
    )
    with op.batch_alter_table("call_records") as batch:
        batch.alter_column("outcome", existing_type=sa.String(length=20), nullable=False)
        batch.alter_column("ended_at", existing_type=WHEN, nullable=False)
        batch.drop_column("last_seen_at")
