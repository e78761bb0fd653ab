"""callback call ids: a callback remembers the call that reached the customer
(``callbacks.call_id``, set when they answer), so that call's record stays alive while
the customer is held or talking, as a live caller's does through their queue entry

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("callbacks") as table:
        table.add_column(sa.Column("call_id", sa.String(255), nullable=True))
    op.create_index("ix_callbacks_call_id", "callbacks", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_callbacks_call_id", table_name="callbacks")
    with op.batch_alter_table("callbacks") as table:
        table.drop_column("call_id")
