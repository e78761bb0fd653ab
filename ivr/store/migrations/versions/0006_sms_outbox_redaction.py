"""sms outbox redaction: the bodies of messages already sent or failed lose their codes;
an index for the sender's per-second look at queued and stale rows

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: ``ivr.services.outbox.redacted``, in SQL (the same words on SQLite and PostgreSQL).
REDACT = (
    "UPDATE sms_outbox SET body = '[redacted] password-reset SMS, ' || length(body) "
    "|| ' characters' WHERE status <> 'queued' AND body NOT LIKE '[redacted]%'"
)


def upgrade() -> None:
    op.create_index("ix_sms_outbox_status_created", "sms_outbox", ["status", "created_at"])
    op.execute(sa.text(REDACT))


def downgrade() -> None:
    op.drop_index("ix_sms_outbox_status_created", table_name="sms_outbox")
