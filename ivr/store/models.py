"""The tables. Money is in minor units (cents, fen); times are UTC; PINs and codes are
stored only as hashes. A caller id is kept as the network sent it (``Text``, never
indexed) beside the E.164 number extracted from it (``*_e164``, NULL when there is none),
which is what lookups by caller match on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ivr.services.call_ids import MAX_CALL_ID

#: A call id (CallSid, AGI uniqueid, console id); ``ivr.services.call_ids`` bounds it.
CallId = String(MAX_CALL_ID)
#: An E.164 number (``+`` and up to 15 digits) from ``ivr.services.caller_numbers``.
E164 = String(16)


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, stored as UTC and read back as UTC on every backend (SQLite keeps
    no offset; a PostgreSQL session may be in another time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a time without a time zone cannot be stored: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON}


class AccountRow(Base):
    __tablename__ = "accounts"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    holder_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164
    language: Mapped[str] = mapped_column(String(8))
    pin_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # active | frozen | closed
    balance_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))


class TransactionRow(Base):
    __tablename__ = "transactions"
    __table_args__ = (Index("ix_transactions_account_at", "account_number", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(ForeignKey("accounts.number"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    merchant: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))  # completed | failed
    failure_reason: Mapped[str | None] = mapped_column(String(32))


class VerificationAttemptRow(Base):
    __tablename__ = "verification_attempts"
    __table_args__ = (
        Index("ix_verification_account_at", "account_number", "at"),
        Index("ix_verification_ani_e164_at", "ani_e164", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(String(20))  # as typed; may match nobody
    ani: Mapped[str] = mapped_column(Text)  # raw caller id
    ani_e164: Mapped[str | None] = mapped_column(E164)
    call_id: Mapped[str] = mapped_column(CallId)
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class PasswordResetRow(Base):
    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(ForeignKey("accounts.number"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ClosureRequestRow(Base):
    __tablename__ = "closure_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_number: Mapped[str] = mapped_column(ForeignKey("accounts.number"), index=True)
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    confirmations: Mapped[int]
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class SecurityIncidentRow(Base):
    __tablename__ = "security_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_number: Mapped[str] = mapped_column(ForeignKey("accounts.number"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # fraud_report | verification_lockout
    call_id: Mapped[str] = mapped_column(CallId)
    opened_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))  # open | closed


class SmsOutboxRow(Base):
    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    #: queued | sending | sent | failed | expired; finished or expired: the body is redacted
    status: Mapped[str] = mapped_column(String(12))


class CallRecordRow(Base):
    """A call's record, open (``outcome`` NULL) from its first second until it ends;
    ``last_seen_at`` is when its process last wrote it (``ivr.services.call_records``)."""

    __tablename__ = "call_records"
    __table_args__ = (Index("ix_call_records_open", "outcome", "last_seen_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(CallId, unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # console | agi | fastagi | twilio
    caller_id: Mapped[str] = mapped_column(Text)  # raw
    caller_e164: Mapped[str | None] = mapped_column(E164)
    language: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(40))
    account_number: Mapped[str | None] = mapped_column(String(20))  # verified only
    path: Mapped[list[str]] = mapped_column(JSON)
    last_node: Mapped[str] = mapped_column(String(80))
    #: NULL while the call is in progress; ``interrupted``: closed by the reaper
    outcome: Mapped[str | None] = mapped_column(String(20), index=True)
    queue: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime]


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(40))  # ivr | agent:<name> | admin
    call_id: Mapped[str] = mapped_column(CallId)
    account_number: Mapped[str | None] = mapped_column(String(20), index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


# -- the contact center: agents, the queue, callbacks, notes -----------------------------------


class AgentRow(Base):
    """A person answering calls. Skills and languages are short JSON lists: the claim
    reads the (locked) agent row and filters entries with ``IN`` on them, so they are
    never searched in SQL."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_state_since", "state", "state_since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(200))  # werkzeug (scrypt)
    role: Mapped[str] = mapped_column(String(12))  # agent | supervisor
    skills: Mapped[list[str]] = mapped_column(JSON)
    languages: Mapped[list[str]] = mapped_column(JSON)
    endpoint: Mapped[str] = mapped_column(String(40))  # PJSIP endpoint
    state: Mapped[str] = mapped_column(String(12))  # offline | available | ringing | ...
    state_since: Mapped[datetime]
    wrap_up_until: Mapped[datetime | None]
    #: The entry last offered to the agent (the desk follows it); not a foreign key, so
    #: agents and queue entries do not point at each other in the schema.
    entry_id: Mapped[int | None]


class QueueEntryRow(Base):
    """One caller (or callback request) waiting for a person; see ivr.services.contact_entries."""

    __tablename__ = "queue_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # call | callback
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    queue: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int]
    skill: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    caller_id: Mapped[str] = mapped_column(Text)  # raw
    caller_e164: Mapped[str | None] = mapped_column(E164)
    account_number: Mapped[str | None] = mapped_column(String(20), index=True)  # verified
    reason: Mapped[str | None] = mapped_column(String(40))
    path: Mapped[list[str]] = mapped_column(JSON)
    enqueued_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    callback_id: Mapped[int | None]  # callbacks.entry_id points back here
    not_before: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wait_seconds: Mapped[int | None]
    talk_seconds: Mapped[int | None]
    #: Renewed by the process holding the caller; past it, the reaper abandons the entry.
    lease_until: Mapped[datetime | None]
    held_by: Mapped[str | None] = mapped_column(String(80))  # e.g. "fastagi host:pid"
    offered_at: Mapped[datetime | None]  # the current offer's start (ring timeout)


#: The dispatch order within a state: priority desc, enqueued_at asc, id asc.
Index(
    "ix_queue_entries_dispatch",
    QueueEntryRow.state,
    QueueEntryRow.priority.desc(),
    QueueEntryRow.enqueued_at,
    QueueEntryRow.id,
)
Index("ix_queue_entries_queue_ended", QueueEntryRow.queue, QueueEntryRow.ended_at)
Index("ix_queue_entries_state_lease", QueueEntryRow.state, QueueEntryRow.lease_until)


class CallbackRow(Base):
    __tablename__ = "callbacks"
    # The codes of active callbacks (waiting, dialing, connected) are unique: the partial
    # index ux_callbacks_active_code is made by migration 0002 only. Declared here, its
    # postgresql_where would import SQLAlchemy's PostgreSQL dialect into every AGI
    # process (~30 ms of start-up) just to check the keyword.

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    account_number: Mapped[str | None] = mapped_column(String(20), index=True)
    queue: Mapped[str] = mapped_column(String(40))
    code_salt: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64), index=True)  # HMAC; never the code
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int]
    max_attempts: Mapped[int]
    state: Mapped[str] = mapped_column(String(12), index=True)
    last_attempt_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    #: The call that reached the customer (set when they answer; its record's call id).
    call_id: Mapped[str | None] = mapped_column(CallId, index=True)


class AgentNoteRow(Base):
    """An agent's note and disposition on one call (one per queue entry)."""

    __tablename__ = "agent_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id"), unique=True)
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    caller_id: Mapped[str] = mapped_column(Text)  # raw
    caller_e164: Mapped[str | None] = mapped_column(E164, index=True)
    account_number: Mapped[str | None] = mapped_column(String(20), index=True)
    disposition: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class CodeAttemptRow(Base):
    """A callback reference code typed, for the lockout per caller number (no code)."""

    __tablename__ = "callback_code_attempts"
    __table_args__ = (Index("ix_callback_code_attempts_e164_at", "caller_e164", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    caller_id: Mapped[str] = mapped_column(Text)  # raw
    caller_e164: Mapped[str | None] = mapped_column(E164)
    call_id: Mapped[str] = mapped_column(CallId)
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class TwilioCallRow(Base):
    """A call answered over Twilio webhooks: where it is (``memo``: the engine's state and
    the driver's, never a PIN), the webhook ``step`` it is at, and the reply given to that
    step (None while a process is working on it), so a replayed webhook gets it again."""

    __tablename__ = "twilio_calls"

    call_sid: Mapped[str] = mapped_column(CallId, primary_key=True)
    step: Mapped[int] = mapped_column(Integer)
    memo: Mapped[dict[str, Any]] = mapped_column(JSON)
    reply: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class AgentLoginAttemptRow(Base):
    """A web sign-in (form or HTTP Basic) with a password checked: by the username typed
    (which may match nobody), never the password. Failures since the latest success lock
    the username (``ivr.web.guard``)."""

    __tablename__ = "agent_login_attempts"
    __table_args__ = (Index("ix_agent_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class WebSessionRow(Base):
    """A signed-in console session. The cookie carries a random id; only its SHA-256 is
    kept here, so the table alone opens no session. Signing out sets ``ended_at``."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
