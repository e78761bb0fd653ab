"""SQL adapter for what a caller asks of the bank: password reset codes, SMS, account
closures (confirmed twice), security incidents, each with a reference to read back."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.services import ports
from ivr.store.account_tables import (
    ClosureRequestRow,
    PasswordResetRow,
    SecurityIncidentRow,
    SmsOutboxRow,
)


class SqlRequests(ports.Requests):
    def __init__(self, session: Session) -> None:
        self.session = session

    def reset_code(self, number: str, code_hash: str, at: datetime, expires: datetime) -> None:
        self.session.add(
            PasswordResetRow(
                account_number=number, code_hash=code_hash, created_at=at, expires_at=expires
            )
        )

    def send_sms(self, to: str, body: str, at: datetime) -> None:
        self.session.add(SmsOutboxRow(to=to, body=body, created_at=at, status="queued"))

    def _closure(self, number: str, call_id: str) -> ClosureRequestRow | None:
        return self.session.scalars(
            select(ClosureRequestRow).where(
                ClosureRequestRow.account_number == number,
                ClosureRequestRow.call_id == call_id,
            )
        ).first()

    def closure_confirmations(self, number: str, call_id: str) -> int:
        row = self._closure(number, call_id)
        return 0 if row is None else row.confirmations

    def confirm_closure(self, number: str, call_id: str, at: datetime) -> int:
        row = self._closure(number, call_id)
        if row is None:
            row = ClosureRequestRow(
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
            SecurityIncidentRow(
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


def _reference(digits: int) -> str:
    """A reference a caller can read back or type on a keypad: random digits (a unique
    constraint stands behind it)."""
    return f"{secrets.randbelow(10**digits):0{digits}d}"
