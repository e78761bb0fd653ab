"""agents' pauses and administration: the reason an agent is paused (issue 14), and when an
agent was disabled (a disabled agent cannot sign in and is offered no calls; the row stays,
so their notes and the audit still name them)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 02:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.add_column(sa.Column("pause_reason", sa.String(40), nullable=True))
        table.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.drop_column("disabled_at")
        table.drop_column("pause_reason")
