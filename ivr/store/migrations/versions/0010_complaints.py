"""complaints: a caller's complaint with the deadlines of the flow's standard, and the
events of every change (who, what, the note, when)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 23:59:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("recording_id", sa.String(length=255), nullable=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("created_at", when, nullable=False),
        sa.Column("acknowledge_by", when, nullable=False),
        sa.Column("resolve_by", when, nullable=False),
        sa.Column("acknowledged_at", when, nullable=True),
        sa.Column("resolved_at", when, nullable=True),
        sa.ForeignKeyConstraint(["account_number"], ["accounts.number"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_index("ix_complaints_account_state", "complaints", ["account_number", "state"])
    op.create_index("ix_complaints_state_created", "complaints", ["state", "created_at"])
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_complaint_events_complaint_id", "complaint_events", ["complaint_id"])


def downgrade() -> None:
    op.drop_table("complaint_events")
    op.drop_table("complaints")
