"""Complaints and their events: every change a supervisor makes (and the opening by the
hotline) is an event row with who, what, the note and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.base import Base, CallId


class ComplaintRow(Base):
    __tablename__ = "complaints"
    __table_args__ = (
        Index("ix_complaints_account_state", "account_number", "state"),
        Index("ix_complaints_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    account_number: Mapped[str] = mapped_column(ForeignKey("accounts.number"))
    caller: Mapped[str] = mapped_column(String(64))  # the caller number as the network sent it
    category: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # open | acknowledged | resolved
    call_id: Mapped[str] = mapped_column(CallId)
    recording_id: Mapped[str | None] = mapped_column(String(255))
    assigned_to: Mapped[str | None] = mapped_column(String(64))  # an agent's username
    created_at: Mapped[datetime]
    acknowledge_by: Mapped[datetime]
    resolve_by: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class ComplaintEventRow(Base):
    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(80))  # ivr | agent:<username>
    action: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
