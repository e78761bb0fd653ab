"""SQLAlchemy implementations of the service ports, each bound to one session."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from ivr.center.lifecycle import ACTIVE_ENTRY_STATES, CALL, CB_CONNECTED
from ivr.services import outbox, ports
from ivr.services.caller_numbers import e164
from ivr.store import models as m


class SqlAccounts(ports.Accounts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: str) -> ports.Account | None:
        return _account(self.session.get(m.AccountRow, number))

    def lock(self, number: str) -> ports.Account | None:
        # FOR NO KEY UPDATE: one checker at a time, while rows that merely refer to the
        # account (attempts, incidents) can still be written by others.
        row = self.session.scalar(
            select(m.AccountRow)
            .where(m.AccountRow.number == number)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return _account(row)

    def pin_hash(self, number: str) -> str | None:
        return self.session.scalar(
            select(m.AccountRow.pin_hash).where(m.AccountRow.number == number)
        )

    def replace_pin_hash(self, number: str, old: str, new: str) -> None:
        self.session.execute(
            update(m.AccountRow)
            .where(m.AccountRow.number == number, m.AccountRow.pin_hash == old)
            .values(pin_hash=new)
            .execution_options(synchronize_session=False)
        )

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        row = self.session.scalars(
            select(m.TransactionRow)
            .where(m.TransactionRow.account_number == number, m.TransactionRow.status == "failed")
            .order_by(m.TransactionRow.at.desc(), m.TransactionRow.id.desc())
            .limit(1)
        ).first()
        if row is None or row.failure_reason is None:
            return None
        return ports.FailedPayment(
            row.amount_minor, row.currency, row.merchant, row.at, row.failure_reason
        )

    def set_status(self, number: str, status: str) -> None:
        self.session.execute(
            update(m.AccountRow).where(m.AccountRow.number == number).values(status=status)
        )


class SqlVerificationLog(ports.VerificationLog):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, number: str, ani: str, call_id: str, at: datetime, ok: bool) -> None:
        self.session.add(
            m.VerificationAttemptRow(
                account_number=number,
                ani=ani,
                ani_e164=e164(ani),
                call_id=call_id,
                at=at,
                succeeded=ok,
            )
        )
        self.session.flush()

    def failures_since(self, number: str, since: datetime) -> list[datetime]:
        row = m.VerificationAttemptRow
        return failures_after_success(self.session, row, row.account_number == number, since)

    def accounts_failed_from(self, ani: str, since: datetime) -> set[str]:
        rows = self.session.scalars(
            select(m.VerificationAttemptRow.account_number)
            .distinct()
            .where(
                same_caller(m.VerificationAttemptRow.ani, m.VerificationAttemptRow.ani_e164, ani),
                m.VerificationAttemptRow.succeeded.is_(False),
                m.VerificationAttemptRow.at >= since,
            )
        )
        return set(rows)


class SqlRequests(ports.Requests):
    def __init__(self, session: Session) -> None:
        self.session = session

    def reset_code(self, number: str, code_hash: str, at: datetime, expires: datetime) -> None:
        self.session.add(
            m.PasswordResetRow(
                account_number=number, code_hash=code_hash, created_at=at, expires_at=expires
            )
        )

    def send_sms(self, to: str, body: str, at: datetime) -> None:
        self.session.add(m.SmsOutboxRow(to=to, body=body, created_at=at, status="queued"))

    def _closure(self, number: str, call_id: str) -> m.ClosureRequestRow | None:
        return self.session.scalars(
            select(m.ClosureRequestRow).where(
                m.ClosureRequestRow.account_number == number,
                m.ClosureRequestRow.call_id == call_id,
            )
        ).first()

    def closure_confirmations(self, number: str, call_id: str) -> int:
        row = self._closure(number, call_id)
        return 0 if row is None else row.confirmations

    def confirm_closure(self, number: str, call_id: str, at: datetime) -> int:
        row = self._closure(number, call_id)
        if row is None:
            row = m.ClosureRequestRow(
                account_number=number, call_id=call_id, confirmations=0, created_at=at
            )
            self.session.add(row)
        row.confirmations += 1
        self.session.flush()
        return row.confirmations

    def close(self, number: str, call_id: str, at: datetime) -> str:
        row = self._closure(number, call_id)
        if row is None:
            raise LookupError("no closure request for this call")
        row.reference = _reference(8)
        row.closed_at = at
        self.session.flush()
        return row.reference

    def open_incident(self, number: str, kind: str, call_id: str, at: datetime) -> str:
        reference = _reference(8)
        self.session.add(
            m.SecurityIncidentRow(
                reference=reference,
                account_number=number,
                kind=kind,
                call_id=call_id,
                opened_at=at,
                status="open",
            )
        )
        self.session.flush()
        return reference


def same_caller(
    raw: InstrumentedAttribute[str],
    number: InstrumentedAttribute[str | None],
    caller_id: str,
) -> ColumnElement[bool]:
    """Rows of the same caller as ``caller_id``: the same E.164 number when it has one
    (``+8613800138001`` and ``sip:+8613800138001@carrier`` are one caller); otherwise the
    same raw value among rows without a number (``anonymous``, an extension). Both use an
    index on ``(number, at)``."""
    found = e164(caller_id)
    if found is not None:
        return number == found
    return number.is_(None) & (raw == caller_id)


def failures_after_success(
    session: Session,
    attempt: type[m.VerificationAttemptRow | m.CodeAttemptRow | m.AgentLoginAttemptRow],
    whose: ColumnElement[bool],
    since: datetime,
) -> list[datetime]:
    """When the failed attempts of ``attempt`` rows (a table with ``at`` and
    ``succeeded``) matching ``whose`` were made, since ``since`` and after the latest
    success: what a lockout rule counts (``ivr.services.lockout``)."""
    last_success = (
        select(func.max(attempt.at)).where(whose, attempt.succeeded.is_(True)).scalar_subquery()
    )
    rows = session.scalars(
        select(attempt.at).where(
            whose,
            attempt.succeeded.is_(False),
            attempt.at >= since,
            (attempt.at > last_success) | last_success.is_(None),
        )
    )
    return list(rows)


def _account(row: m.AccountRow | None) -> ports.Account | None:
    if row is None:
        return None
    return ports.Account(
        row.number,
        row.holder_name,
        row.phone,
        row.language,
        row.status,
        row.balance_minor,
        row.currency,
    )


def _reference(digits: int) -> str:
    """A reference a caller can read back or type on a keypad: random digits (a unique
    constraint stands behind it)."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"


class SqlSmsOutbox(ports.SmsOutbox):
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim(self, limit: int, created_after: datetime) -> list[ports.QueuedSms]:
        row = m.SmsOutboxRow
        candidates = self.session.scalars(
            select(row)
            .where(row.status == "queued", row.created_at > created_after)
            .order_by(row.id)
            .limit(limit)
        ).all()
        claimed = []
        for sms in candidates:
            # The conditional UPDATE is the claim: a row another sender took between the
            # SELECT and here (PostgreSQL waits for its commit, then re-checks) is skipped.
            taken = self.session.execute(
                update(row)
                .where(row.id == sms.id, row.status == "queued")
                .values(status="sending")
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(ports.QueuedSms(sms.id, sms.to, sms.body, sms.created_at))
        return claimed

    def finish(self, sms_id: int, status: str, at: datetime) -> None:
        row = m.SmsOutboxRow
        body = self.session.scalar(select(row.body).where(row.id == sms_id))
        if body is None:
            return
        self.session.execute(
            update(row)
            .where(row.id == sms_id, row.status == "sending")
            .values(
                status=status,
                sent_at=at if status == "sent" else None,
                body=outbox.redacted(body),
            )
            .execution_options(synchronize_session=False)
        )

    def expire(self, created_before: datetime) -> list[int]:
        row = m.SmsOutboxRow
        stale = self.session.execute(
            select(row.id, row.status, row.body)
            .where(
                row.status.in_(("queued", "sending")),  # finished rows were redacted then
                row.created_at <= created_before,
                row.body.not_like(outbox.REDACTED + "%"),
            )
            .order_by(row.id)
        ).all()
        expired = []
        for sms_id, status, body in stale:
            values: dict[str, str] = {"body": outbox.redacted(body)}
            if status == "queued":
                values["status"] = "expired"
            done = self.session.execute(
                update(row)
                .where(row.id == sms_id, row.status == status)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if status == "queued" and done.rowcount == 1:  # type: ignore[attr-defined]
                expired.append(sms_id)
        return expired


class SqlAuditLog(ports.AuditLog):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        at: datetime,
        call_id: str,
        account_number: str | None,
        action: str,
        detail: dict[str, Any],
        actor: str = "ivr",
    ) -> None:
        self.session.add(
            m.AuditRow(
                at=at,
                actor=actor,
                call_id=call_id,
                account_number=account_number,
                action=action,
                detail=detail,
            )
        )

    def recorded(self, call_id: str, action: str, actor: str) -> bool:
        found = self.session.scalar(
            select(m.AuditRow.id)
            .where(m.AuditRow.call_id == call_id)
            .where(m.AuditRow.action == action)
            .where(m.AuditRow.actor == actor)
            .limit(1)
        )
        return found is not None


class SqlCallRecords(ports.CallRecords):
    """``save`` is a conditional UPDATE (the merge rule of ``ports.CallRecords``), then an
    INSERT when there is no row yet; two processes inserting one call at once make the
    second fail on the unique call id, and the caller (``CallRecorder``) tries again."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def save(self, record: ports.CallRecord) -> None:
        row = m.CallRecordRow
        values: dict[str, Any] = {
            "channel": record.channel,
            "caller_id": record.caller_id,
            "caller_e164": e164(record.caller_id),
            "language": record.language,
            "reason": record.reason,
            "account_number": record.account_number,
            "path": list(record.path),
            "last_node": record.last_node,
            "outcome": record.outcome,
            "queue": record.queue,
            "started_at": record.started_at,
            "ended_at": record.ended_at,
            "last_seen_at": record.last_seen,
        }
        replaceable = row.outcome.is_(None) | (row.outcome == ports.INTERRUPTED)
        if record.open:
            replaceable = replaceable & (row.last_seen_at <= record.last_seen)
        done = self.session.execute(
            update(row)
            .where(row.call_id == record.call_id, replaceable)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            return
        if self.session.scalar(select(row.id).where(row.call_id == record.call_id)) is None:
            self.session.add(row(call_id=record.call_id, **values))
            self.session.flush()

    def close_interrupted(self, seen_before: datetime, limit: int) -> list[str]:
        row, entry, callback = m.CallRecordRow, m.QueueEntryRow, m.CallbackRow
        alive = (
            select(entry.id)
            .where(
                entry.call_id == row.call_id,
                entry.kind == CALL,
                entry.state.in_(ACTIVE_ENTRY_STATES),
            )
            .exists()
        )
        # A callback call: alive while the customer it reached is held or talking (the
        # entry's lease says when its holder is gone).
        calling_back = (
            select(callback.id)
            .join(entry, entry.id == callback.entry_id)
            .where(
                callback.call_id == row.call_id,
                callback.state == CB_CONNECTED,
                entry.state.in_(ACTIVE_ENTRY_STATES),
            )
            .exists()
        )
        stale = (row.outcome.is_(None), row.last_seen_at < seen_before, ~alive, ~calling_back)
        candidates = self.session.scalars(
            select(row.id).where(*stale).order_by(row.last_seen_at).limit(limit)
        ).all()
        closed = []
        for record_id in candidates:
            # The conditional UPDATE is the compare-and-set: a record another reaper
            # closed, or its call wrote meanwhile, is left alone.
            done = self.session.execute(
                update(row)
                .where(row.id == record_id, *stale)
                .values(outcome=ports.INTERRUPTED, ended_at=row.last_seen_at)
                .returning(row.call_id)
                .execution_options(synchronize_session=False)
            ).scalar()
            if done is not None:
                closed.append(done)
        return closed

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(m.CallRecordRow)) or 0
