"""agents, the queue, callbacks, agent notes, callback code attempts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIVE_CALLBACK_SQL = "state IN ('waiting', 'dialing', 'connected')"


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("endpoint", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("state_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wrap_up_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_agents_state_since", "agents", ["state", "state_since"])

    op.create_table(
        "queue_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("path", sa.JSON(), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("callback_id", sa.Integer(), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Integer(), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_queue_entries_call_id", "queue_entries", ["call_id"])
    op.create_index("ix_queue_entries_account_number", "queue_entries", ["account_number"])
    op.create_index("ix_queue_entries_agent_id", "queue_entries", ["agent_id"])
    op.create_index(
        "ix_queue_entries_dispatch",
        "queue_entries",
        ["state", sa.text("priority DESC"), "enqueued_at", "id"],
    )
    op.create_index("ix_queue_entries_queue_ended", "queue_entries", ["queue", "ended_at"])

    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=True),
        sa.Column("queue", sa.String(length=40), nullable=False),
        sa.Column("code_salt", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["queue_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callbacks_entry_id", "callbacks", ["entry_id"])
    op.create_index("ix_callbacks_account_number", "callbacks", ["account_number"])
    op.create_index("ix_callbacks_code_hash", "callbacks", ["code_hash"])
    op.create_index("ix_callbacks_state", "callbacks", ["state"])
    op.create_index(
        "ux_callbacks_active_code",
        "callbacks",
        ["code_hash"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_CALLBACK_SQL),
        postgresql_where=sa.text(ACTIVE_CALLBACK_SQL),
    )

    op.create_table(
        "agent_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=True),
        sa.Column("disposition", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["entry_id"], ["queue_entries.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id"),
    )
    op.create_index("ix_agent_notes_agent_id", "agent_notes", ["agent_id"])
    op.create_index("ix_agent_notes_call_id", "agent_notes", ["call_id"])
    op.create_index("ix_agent_notes_caller_id", "agent_notes", ["caller_id"])
    op.create_index("ix_agent_notes_account_number", "agent_notes", ["account_number"])

    op.create_table(
        "callback_code_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_callback_code_attempts_ani_at", "callback_code_attempts", ["caller_id", "at"]
    )


def downgrade() -> None:
    op.drop_table("callback_code_attempts")
    op.drop_table("agent_notes")
    op.drop_table("callbacks")
    op.drop_table("queue_entries")
    op.drop_table("agents")
