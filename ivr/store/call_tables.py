"""What is kept of calls: each call's record, the audit log, and the state of a call
answered over Twilio webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.base import E164, Base, CallId


class CallRecordRow(Base):
    """A call's record, open (``outcome`` NULL) from its first second until it ends;
    ``last_seen_at`` is when its process last wrote it (``ivr.services.call_records``)."""

    __tablename__ = "call_records"
    __table_args__ = (
        Index("ix_call_records_open", "outcome", "last_seen_at"),
        Index("ix_call_records_started_at", "started_at"),
    )

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
    #: What the reports need (``ivr.services.insight``); see ``CallRecord``.
    timeouts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    invalid: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    verification: Mapped[str | None] = mapped_column(String(12))
    handoff_node: Mapped[str | None] = mapped_column(String(80))
    handoff: Mapped[str | None] = mapped_column(String(16))


#: The counts of a node row the funnel sums.
FUNNEL_COUNTS = ("entered", "timeouts", "invalid", "hung_up", "to_person")


class CallNodeVisitRow(Base):
    """One node of one ended call's path, for the funnel (``ivr.store.insight_queries``):
    how often the call entered it, its timeouts and wrong keys there, whether the caller
    hung up there (the call ended abandoned or interrupted at it) and whether the call
    left it for a person. Written whole (deleted and inserted) whenever a closed version
    of the record wins the merge; ``started_at`` is the call's, for the period."""

    __tablename__ = "call_node_visits"
    #: The funnel reads a period from this index alone on PostgreSQL (INCLUDE: an
    #: index-only scan); SQLite has no INCLUDE and reads the rows.
    __table_args__ = (
        Index(
            "ix_call_node_visits_started_node",
            "started_at",
            "node",
            postgresql_include=list(FUNNEL_COUNTS),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    started_at: Mapped[datetime]
    node: Mapped[str] = mapped_column(String(80))
    entered: Mapped[int] = mapped_column(Integer)
    timeouts: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    hung_up: Mapped[int] = mapped_column(Integer)
    to_person: Mapped[int] = mapped_column(Integer)


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(40))  # ivr | agent:<name> | admin
    call_id: Mapped[str] = mapped_column(CallId, index=True)
    account_number: Mapped[str | None] = mapped_column(String(20), index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


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
