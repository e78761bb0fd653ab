"""`ivr seed --demo`: the demo wallet accounts, created once (idempotent), or put back to
their documented state with ``reset``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.center import lifecycle as lc
from ivr.services import pins
from ivr.services.agents_demo import DEMO_AGENTS, DemoAgent
from ivr.services.demo import DEMO_ACCOUNTS, DemoAccount
from ivr.store import models as m


@dataclass(frozen=True)
class SeedReport:
    created: int
    reset: int
    unchanged: int
    #: The demo agents (alice, bob, chen, sam): created, reset, already there.
    agents_created: int = 0
    agents_reset: int = 0
    agents_unchanged: int = 0


def seed_demo(
    sessions: sessionmaker[Session], now: datetime, *, pepper: bytes, reset: bool = False
) -> SeedReport:
    """The demo accounts (PINs hashed with ``pepper``, ``Settings.pepper``) and agents;
    ``now`` (the caller's clock) stamps the agents' state."""
    created = restored = unchanged = 0
    with sessions.begin() as session:
        for demo in DEMO_ACCOUNTS:
            row = session.get(m.AccountRow, demo.number)
            if row is None:
                session.add(_account(demo, pepper))
                session.flush()
                session.add_all(_transactions(demo))
                created += 1
            elif reset:
                _restore(session, row, demo, pepper)
                restored += 1
            else:
                unchanged += 1
        agents = _seed_agents(session, now, reset)
    return SeedReport(created, restored, unchanged, *agents)


def _seed_agents(session: Session, now: datetime, reset: bool) -> tuple[int, int, int]:
    """The demo agents, offline; ``reset`` puts back their password, skills and state."""
    created = restored = unchanged = 0
    for demo in DEMO_AGENTS:
        row = session.scalars(
            select(m.AgentRow).where(m.AgentRow.username == demo.username)
        ).first()
        if row is None:
            session.add(m.AgentRow(**_agent_columns(demo), state_since=now))
            created += 1
        elif reset:
            for column, value in _agent_columns(demo).items():
                setattr(row, column, value)
            row.state_since, row.wrap_up_until = now, None
            restored += 1
        else:
            unchanged += 1
    return created, restored, unchanged


def _agent_columns(demo: DemoAgent) -> dict[str, object]:
    return {
        "username": demo.username,
        "name": demo.name,
        "password_hash": _password_hash(demo.password),
        "role": demo.role,
        "skills": sorted(demo.skills),
        "languages": sorted(demo.languages),
        "endpoint": demo.endpoint,
        "state": lc.OFFLINE,
    }


@cache
def _password_hash(password: str) -> str:
    """werkzeug's scrypt hash (about 0.1 s each), made once per process: seeding many
    databases (the tests do) reuses it. Demo passwords only."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


def _account(demo: DemoAccount, pepper: bytes) -> m.AccountRow:
    return m.AccountRow(
        number=demo.number,
        holder_name=demo.holder_name,
        phone=demo.phone,
        language=demo.language,
        pin_hash=pins.hash_pin(demo.pin, pepper),
        status=demo.status,
        balance_minor=demo.balance_minor,
        currency=demo.currency,
    )


def _transactions(demo: DemoAccount) -> list[m.TransactionRow]:
    """The failed payment of the story, after two ordinary completed ones; and the
    account's other transactions."""
    rows = [
        m.TransactionRow(
            account_number=demo.number,
            amount_minor=amount,
            currency=demo.currency,
            merchant=merchant,
            at=at,
            status=status,
            failure_reason=None,
        )
        for amount, merchant, at, status in demo.more_transactions
    ]
    if demo.failed_payment is None:
        return rows
    amount, merchant, at, reason = demo.failed_payment
    rows += [
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


def _restore(session: Session, row: m.AccountRow, demo: DemoAccount, pepper: bytes) -> None:
    fresh = _account(demo, pepper)
    for column in ("holder_name", "phone", "language", "pin_hash", "status", "balance_minor"):
        setattr(row, column, getattr(fresh, column))
    row.currency = demo.currency
    session.execute(
        delete(m.VerificationAttemptRow).where(
            m.VerificationAttemptRow.account_number == demo.number
        )
    )
