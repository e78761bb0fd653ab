"""caller ids and call ids of any length: raw caller ids as Text beside their E.164
number, call ids up to 255 characters

Every caller id column becomes ``Text`` (what the network sent, never indexed) and gets a
``*_e164`` companion (``ivr.services.caller_numbers.e164``), filled here from the rows
already stored; the lookups by caller move their indexes to it. Every call id column
(and ``twilio_calls.call_sid``) becomes ``VARCHAR(255)``.

On SQLite (which never enforced the old lengths) ``batch_alter_table`` rebuilds the
tables (``env.py`` turns the foreign key checks off meanwhile); the ``priority DESC``
index of ``queue_entries``, which a rebuild may not copy, is dropped and made again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.services.caller_numbers import e164

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_CALL_ID, NEW_CALL_ID = sa.String(length=64), sa.String(length=255)
OLD_CALLER_ID = sa.String(length=32)
E164 = sa.String(length=16)

#: table -> (raw caller id column, its new E.164 column) for the tables that have one.
CALLERS = {
    "verification_attempts": ("ani", "ani_e164"),
    "call_records": ("caller_id", "caller_e164"),
    "queue_entries": ("caller_id", "caller_e164"),
    "agent_notes": ("caller_id", "caller_e164"),
    "callback_code_attempts": ("caller_id", "caller_e164"),
}
CALL_IDS = (
    "verification_attempts",
    "closure_requests",
    "security_incidents",
    "call_records",
    "audit_log",
    "queue_entries",
    "agent_notes",
    "callback_code_attempts",
)
#: Indexes on a raw caller id that move to the E.164 column: table -> (old, new).
MOVED_INDEXES = {
    "verification_attempts": (("ix_verification_ani_at", ["ani", "at"]),
                              ("ix_verification_ani_e164_at", ["ani_e164", "at"])),
    "agent_notes": (("ix_agent_notes_caller_id", ["caller_id"]),
                    ("ix_agent_notes_caller_e164", ["caller_e164"])),
    "callback_code_attempts": (("ix_callback_code_attempts_ani_at", ["caller_id", "at"]),
                               ("ix_callback_code_attempts_e164_at", ["caller_e164", "at"])),
}  # fmt: skip
DISPATCH = "ix_queue_entries_dispatch"
DISPATCH_ON: list[str | sa.TextClause] = ["state", sa.text("priority DESC"), "enqueued_at", "id"]


def _prepare() -> None:
    op.drop_index(DISPATCH, table_name="queue_entries")


def upgrade() -> None:
    _prepare()
    for table in sorted(set(CALL_IDS) | set(CALLERS)):
        with op.batch_alter_table(table) as batch:
            if table in MOVED_INDEXES:
                batch.drop_index(MOVED_INDEXES[table][0][0])
            if table in CALL_IDS:
                batch.alter_column("call_id", type_=NEW_CALL_ID, existing_type=OLD_CALL_ID,
                                   existing_nullable=False)  # fmt: skip
            if table in CALLERS:
                raw, number = CALLERS[table]
                batch.alter_column(raw, type_=sa.Text(), existing_type=OLD_CALLER_ID,
                                   existing_nullable=False)  # fmt: skip
                batch.add_column(sa.Column(number, E164, nullable=True))
            if table in MOVED_INDEXES:
                name, columns = MOVED_INDEXES[table][1]
                batch.create_index(name, columns)
    with op.batch_alter_table("twilio_calls") as batch:
        batch.alter_column("call_sid", type_=NEW_CALL_ID, existing_type=OLD_CALL_ID,
                           existing_nullable=False)  # fmt: skip
    op.create_index(DISPATCH, "queue_entries", DISPATCH_ON)
    for table, (raw, number) in CALLERS.items():
        _fill_numbers(table, raw, number)


def _fill_numbers(table: str, raw: str, number: str) -> None:
    """Each distinct caller id's E.164 number, into the new column."""
    conn = op.get_bind()
    t = sa.table(table, sa.column(raw, sa.Text()), sa.column(number, E164))
    values = conn.execute(sa.select(t.c[raw]).distinct()).scalars().all()
    for value in values:
        found = e164(value)
        if found is not None:
            conn.execute(sa.update(t).where(t.c[raw] == value).values({number: found}))


def downgrade() -> None:
    """Back to the old lengths: fails (value too long) on PostgreSQL if a longer caller id
    or call id was stored meanwhile; nothing is cut silently."""
    _prepare()
    for table in sorted(set(CALL_IDS) | set(CALLERS)):
        with op.batch_alter_table(table) as batch:
            if table in MOVED_INDEXES:
                batch.drop_index(MOVED_INDEXES[table][1][0])
            if table in CALLERS:
                raw, number = CALLERS[table]
                batch.drop_column(number)
                batch.alter_column(raw, type_=OLD_CALLER_ID, existing_type=sa.Text(),
                                   existing_nullable=False)  # fmt: skip
            if table in CALL_IDS:
                batch.alter_column("call_id", type_=OLD_CALL_ID, existing_type=NEW_CALL_ID,
                                   existing_nullable=False)  # fmt: skip
            if table in MOVED_INDEXES:
                name, columns = MOVED_INDEXES[table][0]
                batch.create_index(name, columns)
    with op.batch_alter_table("twilio_calls") as batch:
        batch.alter_column("call_sid", type_=OLD_CALL_ID, existing_type=NEW_CALL_ID,
                           existing_nullable=False)  # fmt: skip
    op.create_index(DISPATCH, "queue_entries", DISPATCH_ON)
