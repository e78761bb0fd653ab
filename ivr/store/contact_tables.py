"""The contact center: agents, the queue, callbacks, agents' notes, and the callback
reference codes typed (for the lockout)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.base import E164, Base, CallId


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
    #: Why a ``paused`` agent is paused (``PAUSE_REASONS``); None in any other state.
    pause_reason: Mapped[str | None] = mapped_column(String(40))
    #: When the agent was disabled (cannot sign in, offered nothing); None: enabled.
    disabled_at: Mapped[datetime | None]


class QueueEntryRow(Base):
    """One caller (or callback request) waiting for a person; see ivr.services.contact_entries."""

    __tablename__ = "queue_entries"
    __table_args__ = (Index("ix_queue_entries_enqueued_at", "enqueued_at"),)

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


class CallbackRow(Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_created_at", "created_at"),)
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
