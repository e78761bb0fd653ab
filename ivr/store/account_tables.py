"""The bank side: accounts and their transactions, PIN checks, password resets, closure
requests, security incidents, and the SMS outbox. Money is in minor units (cents, fen);
PINs and codes are stored only as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.store.base import E164, Base, CallId


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
