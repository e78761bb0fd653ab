"""`ivr seed --demo`: the demo wallet accounts, created once (idempotent), or put back to
their documented state with ``reset``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from ivr.services import pins
from ivr.services.demo import DEMO_ACCOUNTS, DemoAccount
from ivr.store import models as m


@dataclass(frozen=True)
class SeedReport:
    created: int
    reset: int
    unchanged: int


def seed_demo(sessions: sessionmaker[Session], reset: bool = False) -> SeedReport:
    created = restored = unchanged = 0
    with sessions.begin() as session:
        for demo in DEMO_ACCOUNTS:
            row = session.get(m.AccountRow, demo.number)
            if row is None:
                session.add(_account(demo))
                session.flush()
                session.add_all(_transactions(demo))
                created += 1
            elif reset:
                _restore(session, row, demo)
                restored += 1
            else:
                unchanged += 1
    return SeedReport(created, restored, unchanged)


def _account(demo: DemoAccount) -> m.AccountRow:
    return m.AccountRow(
        number=demo.number,
        holder_name=demo.holder_name,
        phone=demo.phone,
        language=demo.language,
        pin_hash=pins.hash_pin(demo.pin),
        status=demo.status,
        balance_minor=demo.balance_minor,
        currency=demo.currency,
    )


def _transactions(demo: DemoAccount) -> list[m.TransactionRow]:
    """The failed payment of the story, after two ordinary completed ones."""
    if demo.failed_payment is None:
        return []
    amount, merchant, at, reason = demo.failed_payment
    rows = [
        m.TransactionRow(
            account_number=demo.number,
            amount_minor=amount // (i + 2),
            currency=demo.currency,
            merchant=merchant,
            at=at - timedelta(days=3 * (i + 1)),
            status="completed",
            failure_reason=None,
        )
        for i in range(2)
    ]
    rows.append(
        m.TransactionRow(
            account_number=demo.number,
            amount_minor=amount,
            currency=demo.currency,
            merchant=merchant,
            at=at,
            status="failed",
            failure_reason=reason,
        )
    )
    return rows


def _restore(session: Session, row: m.AccountRow, demo: DemoAccount) -> None:
    fresh = _account(demo)
    for column in ("holder_name", "phone", "language", "pin_hash", "status", "balance_minor"):
        setattr(row, column, getattr(fresh, column))
    row.currency = demo.currency
    session.execute(
        delete(m.VerificationAttemptRow).where(
            m.VerificationAttemptRow.account_number == demo.number
        )
    )
