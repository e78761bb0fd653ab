"""The SQL one hotline call sends on PostgreSQL (``bench/fastagi_floor.py``'s second part),
and two ways to send it: raw psycopg, and SQLAlchemy's ``AsyncEngine``.

The statements are the ones ``ivr fastagi`` sends for ``bench/pin_burst.py``'s call
(English, payment failure, account, PIN, the failed payment looked up, goodbye), copied
from what SQLAlchemy rendered for them (``bench/fastagi_profile.py --sql``; the code is in
``ivr/store/call_repositories.py``, ``account_repositories.py``, ``lockout_queries.py``,
``node_visits.py``), in the same five transactions:

1. the call record opened (an upsert);
2. the PIN check's reads: the caller's throttle, the account's lockout, its PIN hash
   (ended with a rollback, as a read-only unit of work is);
3. the verification: the account locked, its lockout read again, the attempt inserted;
4. the failed payment: the account, its last failed transaction, an audit row;
5. the call record closed (an upsert) and its funnel rows (one ``executemany`` of the
   nodes the call passed).

Twelve statements; their results are read as the hotline reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Json
from sqlalchemy.ext.asyncio import AsyncEngine

_RECORD_COLUMNS = (
    "call_id channel caller_id caller_e164 language reason account_number path last_node "
    "outcome queue started_at ended_at last_seen_at timeouts invalid verification "
    "handoff_node handoff"
).split()
_RECORD_TYPES = dict.fromkeys(_RECORD_COLUMNS, "VARCHAR") | {
    "path": "JSON", "timeouts": "JSON", "invalid": "JSON", "started_at": "TIMESTAMP WITH TIME ZONE",
    "ended_at": "TIMESTAMP WITH TIME ZONE", "last_seen_at": "TIMESTAMP WITH TIME ZONE",
}  # fmt: skip


def _record_upsert(guard: str) -> str:
    names = ", ".join(_RECORD_COLUMNS)
    values = ", ".join(f"%(v_{c})s::{_RECORD_TYPES[c]}" for c in _RECORD_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _RECORD_COLUMNS[1:])
    return (
        f"INSERT INTO call_records ({names}) VALUES ({values}) ON CONFLICT (call_id) DO UPDATE "
        f"SET {updates} WHERE {guard} RETURNING call_records.id"
    )


OPEN_RECORD = _record_upsert(
    "call_records.outcome IS NULL AND call_records.last_seen_at <= excluded.last_seen_at"
)
CLOSE_RECORD = _record_upsert("call_records.outcome IS NULL")
THROTTLE = (
    "SELECT DISTINCT verification_attempts.account_number FROM verification_attempts "
    "WHERE verification_attempts.ani_e164 = %(ani_e164_1)s::VARCHAR AND "
    "verification_attempts.succeeded IS false AND verification_attempts.at >= "
    "%(at_1)s::TIMESTAMP WITH TIME ZONE"
)
_LAST_SUCCESS = (
    "(SELECT max(verification_attempts.at) AS max_1 FROM verification_attempts WHERE "
    "verification_attempts.account_number = %(account_number_1)s::VARCHAR AND "
    "verification_attempts.succeeded IS true)"
)
LOCKOUT = (
    "SELECT verification_attempts.at FROM verification_attempts WHERE "
    "verification_attempts.account_number = %(account_number_1)s::VARCHAR AND "
    "verification_attempts.succeeded IS false AND verification_attempts.at >= "
    f"%(at_1)s::TIMESTAMP WITH TIME ZONE AND (verification_attempts.at > {_LAST_SUCCESS} "
    f"OR {_LAST_SUCCESS} IS NULL)"
)
PIN_HASH = "SELECT accounts.pin_hash FROM accounts WHERE accounts.number = %(number)s::VARCHAR"
_ACCOUNT = (
    "SELECT accounts.number, accounts.holder_name, accounts.phone, accounts.language, "
    "accounts.status, accounts.balance_minor, accounts.currency FROM accounts "
    "WHERE accounts.number = %(number)s::VARCHAR"
)
LOCK_ACCOUNT = f"{_ACCOUNT} FOR NO KEY UPDATE"
ACCOUNT = _ACCOUNT
ATTEMPT = (
    "INSERT INTO verification_attempts (account_number, ani, ani_e164, call_id, at, succeeded) "
    "VALUES (%(account_number)s::VARCHAR, %(ani)s::VARCHAR, %(ani_e164)s::VARCHAR, "
    "%(call_id)s::VARCHAR, %(at)s::TIMESTAMP WITH TIME ZONE, %(succeeded)s) "
    "RETURNING verification_attempts.id"
)
FAILED_PAYMENT = (
    "SELECT transactions.amount_minor, transactions.currency, transactions.merchant, "
    "transactions.at, transactions.failure_reason FROM transactions WHERE "
    "transactions.account_number = %(number)s::VARCHAR AND transactions.status = "
    "%(status_1)s::VARCHAR ORDER BY transactions.at DESC, transactions.id DESC "
    "LIMIT %(param_1)s::INTEGER"
)
AUDIT = (
    "INSERT INTO audit_log (at, actor, call_id, account_number, action, detail) VALUES "
    "(%(at)s::TIMESTAMP WITH TIME ZONE, %(actor)s::VARCHAR, %(call_id)s::VARCHAR, "
    "%(account_number)s::VARCHAR, %(action)s::VARCHAR, %(detail)s::JSON) RETURNING audit_log.id"
)
NODE_VISITS = (
    "INSERT INTO call_node_visits (call_id, started_at, node, entered, timeouts, invalid, "
    "hung_up, to_person) VALUES (%(call_id)s::VARCHAR, %(started_at)s::TIMESTAMP WITH TIME "
    "ZONE, %(node)s::VARCHAR, %(entered)s::INTEGER, %(timeouts)s::INTEGER, "
    "%(invalid)s::INTEGER, %(hung_up)s::INTEGER, %(to_person)s::INTEGER)"
)
#: The nodes the call passes, in order (its path and its funnel rows).
NODES = (
    "choose_language welcome main_menu payment_intro identify ask_account ask_pin "
    "check_identity account_status_check after_verify payment_lookup no_failed_payment "
    "payment_none_menu survey_self_service goodbye"
).split()
THROTTLE_WINDOW = timedelta(hours=1)  # ivr.services.verification
LOCKOUT_WINDOW = timedelta(minutes=45)  # LOCK_WINDOW + LOCK_DURATION


@dataclass(frozen=True)
class Statement:
    sql: str
    params: dict[str, Any] | list[dict[str, Any]]  # a list: one executemany


@dataclass(frozen=True)
class Transaction:
    statements: Sequence[Statement]
    commit: bool  # else rolled back (a read-only unit of work)


def call(call_id: str, account: str, caller: str) -> list[Transaction]:
    """One call's five transactions, with its own ids and the time now."""
    now = datetime.now(UTC)
    record: dict[str, Any] = dict.fromkeys(f"v_{c}" for c in _RECORD_COLUMNS)
    record |= {"v_call_id": call_id, "v_channel": "fastagi", "v_caller_id": caller}
    record |= {"v_caller_e164": caller, "v_language": "en", "v_started_at": now}
    record |= {"v_timeouts": Json({}), "v_invalid": Json({})}
    opened = record | {"v_path": Json(NODES[:1]), "v_last_node": NODES[0], "v_last_seen_at": now}
    closed = record | {"v_reason": "payment_failure", "v_account_number": account}
    closed |= {"v_path": Json(NODES), "v_last_node": NODES[-1], "v_outcome": "solved"}
    closed |= {"v_ended_at": now, "v_last_seen_at": now, "v_verification": "success"}
    lockout = {"account_number_1": account, "at_1": now - LOCKOUT_WINDOW}
    attempt: dict[str, Any] = {"account_number": account, "ani": caller, "ani_e164": caller}
    attempt |= {"call_id": call_id, "at": now, "succeeded": True}
    audit: dict[str, Any] = {"at": now, "actor": "ivr", "call_id": call_id}
    audit |= {"account_number": account, "action": "failed_payment_looked_up", "detail": Json({})}
    visit: dict[str, Any] = {"call_id": call_id, "started_at": now, "entered": 1, "timeouts": 0}
    visit |= {"invalid": 0, "hung_up": 0, "to_person": 0}
    return [
        Transaction([Statement(OPEN_RECORD, opened)], commit=True),
        Transaction(
            [
                Statement(THROTTLE, {"ani_e164_1": caller, "at_1": now - THROTTLE_WINDOW}),
                Statement(LOCKOUT, lockout),
                Statement(PIN_HASH, {"number": account}),
            ],
            commit=False,
        ),  # fmt: skip
        Transaction(
            [
                Statement(LOCK_ACCOUNT, {"number": account}),
                Statement(LOCKOUT, lockout),
                Statement(ATTEMPT, attempt),
            ],
            commit=True,
        ),  # fmt: skip
        Transaction(
            [
                Statement(ACCOUNT, {"number": account}),
                Statement(FAILED_PAYMENT, {"number": account, "status_1": "failed", "param_1": 1}),
                Statement(AUDIT, audit),
            ],
            commit=True,
        ),  # fmt: skip
        Transaction(
            [
                Statement(CLOSE_RECORD, closed),
                Statement(NODE_VISITS, [visit | {"node": node} for node in NODES]),
            ],
            commit=True,
        ),  # fmt: skip
    ]


async def by_psycopg(conn: AsyncConnection[Any], transactions: list[Transaction]) -> None:
    """The call on one raw psycopg connection (autocommit off, statements prepared)."""
    for transaction in transactions:
        async with conn.cursor() as cursor:
            for s in transaction.statements:
                if isinstance(s.params, list):
                    await cursor.executemany(s.sql, s.params)
                    continue
                await cursor.execute(s.sql, s.params, prepare=True)
                if cursor.description is not None:
                    await cursor.fetchall()
        await (conn.commit() if transaction.commit else conn.rollback())


async def by_sqlalchemy(engine: AsyncEngine, transactions: list[Transaction]) -> None:
    """The call through SQLAlchemy Core's ``AsyncEngine``: a pooled connection per
    transaction, as the hotline's units of work take one (``exec_driver_sql``: the same
    SQL text, so SQLAlchemy's statement compilation, cached in the hotline, is not in it)."""
    for transaction in transactions:
        async with engine.connect() as conn:
            for s in transaction.statements:
                result = await conn.exec_driver_sql(s.sql, s.params)
                if result.returns_rows:
                    result.all()
            await (conn.commit() if transaction.commit else conn.rollback())


async def by_psycopg_pipelined(conn: AsyncConnection[Any], transactions: list[Transaction]) -> None:
    """``by_psycopg`` with each transaction sent in psycopg's pipeline mode, results read
    after (a call's exchanges with the server, each ended by a ReadyForQuery, go from 33
    to 16: psycopg still syncs after each ``BEGIN`` and ``COMMIT``). What fewer round
    trips would save; not the hotline's order (it decides between some statements)."""
    for transaction in transactions:
        cursors = []
        async with conn.pipeline():
            for s in transaction.statements:
                cursor = conn.cursor()
                cursors.append(cursor)
                if isinstance(s.params, list):
                    await cursor.executemany(s.sql, s.params)
                else:
                    await cursor.execute(s.sql, s.params, prepare=True)
            await (conn.commit() if transaction.commit else conn.rollback())
        for cursor in cursors:
            if cursor.description is not None:
                await cursor.fetchall()
            await cursor.close()
