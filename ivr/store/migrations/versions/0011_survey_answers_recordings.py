"""survey answers and recordings: the post-call survey's scores (per queue and agent) and
the recordings of callers' voices kept beside the database (issue 13 item 5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 23:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CALL_ID = 255


def upgrade() -> None:
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_id", sa.String(CALL_ID), nullable=False),
        sa.Column("queue", sa.String(40), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment_recording", sa.String(160), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_survey_answers_call_id", "survey_answers", ["call_id"])
    op.create_index("ix_survey_answers_at", "survey_answers", ["at"])
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(160), primary_key=True),
        sa.Column("call_id", sa.String(CALL_ID), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_recordings_call_id", "recordings", ["call_id"])
    op.create_index("ix_recordings_created_at", "recordings", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_recordings_created_at", table_name="recordings")
    op.drop_index("ix_recordings_call_id", table_name="recordings")
    op.drop_table("recordings")
    op.drop_index("ix_survey_answers_at", table_name="survey_answers")
    op.drop_index("ix_survey_answers_call_id", table_name="survey_answers")
    op.drop_table("survey_answers")
