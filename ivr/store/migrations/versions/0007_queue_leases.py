"""queue leases: the holder of a queue entry renews ``lease_until`` (``held_by`` names
it); ``offered_at`` times the ring; an agent's ``entry_id`` is the entry they were last
offered (the desk follows it); agents may be ``missed`` (a string: no schema change)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("queue_entries") as table:
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("held_by", sa.String(80), nullable=True))
        table.add_column(sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_queue_entries_state_lease", "queue_entries", ["state", "lease_until"])
    with op.batch_alter_table("agents") as table:
        table.add_column(sa.Column("entry_id", sa.Integer(), nullable=True))
    # Callers held before leases: their holders cannot renew (the old code did not), so
    # their leases ran out when they joined; the first reaper round ends the ghosts.
    op.execute(
        sa.text(
            "UPDATE queue_entries SET lease_until = enqueued_at "
            "WHERE kind = 'call' AND state IN ('waiting', 'offered', 'resumed')"
        )
    )
    # The desk followed the agent's newest entry: start each agent there.
    op.execute(
        sa.text(
            "UPDATE agents SET entry_id = (SELECT max(q.id) FROM queue_entries q "
            "WHERE q.agent_id = agents.id)"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.drop_column("entry_id")
    op.drop_index("ix_queue_entries_state_lease", table_name="queue_entries")
    with op.batch_alter_table("queue_entries") as table:
        table.drop_column("offered_at")
        table.drop_column("held_by")
        table.drop_column("lease_until")
