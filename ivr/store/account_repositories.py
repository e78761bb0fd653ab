"""SQL adapters for the accounts port and the log of PIN checks.

The statements a call runs (the account, its PIN hash, its lock, the attempts, the failed
payment) go through the session's connection as Core statements on the tables: a call
needs values, not ORM objects, and the ORM's object loading and flush cost more CPU than
the database's whole answer (docs/performance.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ivr.services import ports
from ivr.services.caller_numbers import e164
from ivr.store.account_tables import AccountRow, TransactionRow, VerificationAttemptRow
from ivr.store.lockout_queries import failures_after_success, same_caller

_ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
_TRANSACTIONS: Table = TransactionRow.__table__  # type: ignore[assignment]
_ATTEMPTS: Table = VerificationAttemptRow.__table__  # type: ignore[assignment]
_ACCOUNT = select(
    _ACCOUNTS.c.number, _ACCOUNTS.c.holder_name, _ACCOUNTS.c.phone, _ACCOUNTS.c.language,
    _ACCOUNTS.c.status, _ACCOUNTS.c.balance_minor, _ACCOUNTS.c.currency,
).where(_ACCOUNTS.c.number == bindparam("number"))  # fmt: skip
# FOR NO KEY UPDATE: one checker at a time, while rows that merely refer to the account
# (attempts, incidents) can still be written by others.
_LOCKED_ACCOUNT = _ACCOUNT.with_for_update(key_share=True)
_PIN_HASH = select(_ACCOUNTS.c.pin_hash).where(_ACCOUNTS.c.number == bindparam("number"))
_LATEST_FAILED = (
    select(
        _TRANSACTIONS.c.amount_minor,
        _TRANSACTIONS.c.currency,
        _TRANSACTIONS.c.merchant,
        _TRANSACTIONS.c.at,
        _TRANSACTIONS.c.failure_reason,
    )  # fmt: skip
    .where(
        _TRANSACTIONS.c.account_number == bindparam("number"),
        _TRANSACTIONS.c.status == "failed",
    )
    .order_by(_TRANSACTIONS.c.at.desc(), _TRANSACTIONS.c.id.desc())
    .limit(1)
)
_NEW_ATTEMPT = insert(_ATTEMPTS)


class SqlAccounts(ports.Accounts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _one(self, statement: Any, **values: Any) -> Row[Any] | None:
        return self.session.connection().execute(statement, values).first()

    def get(self, number: str) -> ports.Account | None:
        return _account(self._one(_ACCOUNT, number=number))

    def lock(self, number: str) -> ports.Account | None:
        return _account(self._one(_LOCKED_ACCOUNT, number=number))

    def pin_hash(self, number: str) -> str | None:
        row = self._one(_PIN_HASH, number=number)
        return None if row is None else str(row[0])

    def replace_pin_hash(self, number: str, old: str, new: str) -> None:
        self.session.execute(
            update(AccountRow)
            .where(AccountRow.number == number, AccountRow.pin_hash == old)
            .values(pin_hash=new)
            .execution_options(synchronize_session=False)
        )

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        row = self._one(_LATEST_FAILED, number=number)
        if row is None or row.failure_reason is None:
            return None
        return ports.FailedPayment(
            row.amount_minor, row.currency, row.merchant, row.at, row.failure_reason
        )

    def recent_transactions(self, number: str, limit: int) -> list[ports.Transaction]:
        rows = self.session.scalars(
            select(TransactionRow)
            .where(TransactionRow.account_number == number)
            .order_by(TransactionRow.at.desc(), TransactionRow.id.desc())
            .limit(max(0, limit))
        )
        return [
            ports.Transaction(row.amount_minor, row.currency, row.merchant, row.at, row.status)
            for row in rows
        ]

    def set_status(self, number: str, status: str) -> None:
        self.session.execute(
            update(AccountRow).where(AccountRow.number == number).values(status=status)
        )


class SqlVerificationLog(ports.VerificationLog):
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, number: str, ani: str, call_id: str, at: datetime, ok: bool) -> None:
        self.session.connection().execute(
            _NEW_ATTEMPT,
            {
                "account_number": number,
                "ani": ani,
                "ani_e164": e164(ani),
                "call_id": call_id,
                "at": at,
                "succeeded": ok,
            },
        )

    def failures_since(self, number: str, since: datetime) -> list[datetime]:
        row = VerificationAttemptRow
        return failures_after_success(self.session, row, row.account_number == number, since)

    def accounts_failed_from(self, ani: str, since: datetime) -> set[str]:
        rows = self.session.connection().execute(
            select(VerificationAttemptRow.account_number)
            .distinct()
            .where(
                same_caller(VerificationAttemptRow.ani, VerificationAttemptRow.ani_e164, ani),
                VerificationAttemptRow.succeeded.is_(False),
                VerificationAttemptRow.at >= since,
            )
        )
        return set(rows.scalars())


def _account(row: Row[Any] | None) -> ports.Account | None:
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
