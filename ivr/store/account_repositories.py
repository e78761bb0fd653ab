"""SQL adapters for the accounts port and the log of PIN checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ivr.services import ports
from ivr.services.caller_numbers import e164
from ivr.store.account_tables import AccountRow, TransactionRow, VerificationAttemptRow
from ivr.store.lockout_queries import failures_after_success, same_caller


class SqlAccounts(ports.Accounts):
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, number: str) -> ports.Account | None:
        return _account(self.session.get(AccountRow, number))

    def lock(self, number: str) -> ports.Account | None:
        # FOR NO KEY UPDATE: one checker at a time, while rows that merely refer to the
        # account (attempts, incidents) can still be written by others.
        row = self.session.scalar(
            select(AccountRow)
            .where(AccountRow.number == number)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return _account(row)

    def pin_hash(self, number: str) -> str | None:
        return self.session.scalar(select(AccountRow.pin_hash).where(AccountRow.number == number))

    def replace_pin_hash(self, number: str, old: str, new: str) -> None:
        self.session.execute(
            update(AccountRow)
            .where(AccountRow.number == number, AccountRow.pin_hash == old)
            .values(pin_hash=new)
            .execution_options(synchronize_session=False)
        )

    def latest_failed_payment(self, number: str) -> ports.FailedPayment | None:
        row = self.session.scalars(
            select(TransactionRow)
            .where(TransactionRow.account_number == number, TransactionRow.status == "failed")
            .order_by(TransactionRow.at.desc(), TransactionRow.id.desc())
            .limit(1)
        ).first()
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
        self.session.add(
            VerificationAttemptRow(
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
        row = VerificationAttemptRow
        return failures_after_success(self.session, row, row.account_number == number, since)

    def accounts_failed_from(self, ani: str, since: datetime) -> set[str]:
        rows = self.session.scalars(
            select(VerificationAttemptRow.account_number)
            .distinct()
            .where(
                same_caller(VerificationAttemptRow.ani, VerificationAttemptRow.ani_e164, ani),
                VerificationAttemptRow.succeeded.is_(False),
                VerificationAttemptRow.at >= since,
            )
        )
        return set(rows)


def _account(row: AccountRow | None) -> ports.Account | None:
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
