"""the audit log by call: the agent's screen pop reads what the IVR did on a call
(``AuditLog.actions``) and the desk asks whether it was viewed (``recorded``) at every
refresh; both look rows up by ``call_id``, which had no index (a scan of the whole log)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_call_id", "audit_log", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_call_id", table_name="audit_log")
