"""Calls answered over Twilio webhooks, keyed by CallSid: the SQL adapter of the port
``ivr.phone.twilio.call_state.CallStates`` (structurally: the store imports no phone).

Any controller process may answer any webhook of a call, so each webhook *claims* its step
with a conditional update (``step = N - 1 -> N``, reply cleared) that also returns the
call's state: one process wins and works out the reply, which it then saves; the others
(and replays of the same webhook) read that reply back. The claim is its own short
transaction, so the use cases the winner runs meanwhile (their own units of work) never
wait on it.

Every webhook runs these statements, so they are built once (SQLAlchemy Core, no ORM
session: its bookkeeping cost more than the statement), and each write is one statement:
its own transaction. On PostgreSQL it runs on a connection of the pool in a transaction.
On SQLite a write takes the process's writer lock (``ivr.store.unit_of_work``) like every
unit of work, so threads take turns in the process instead of sleeping on the database's
busy timeout; and since only the lock's holder writes, the writes share one connection
kept in autocommit (the statement commits as it completes), not one from the pool with
BEGIN and COMMIT around it. Under load each call into SQLite hands the interpreter lock
to another thread: this made a gather's two writes cost three times what they cost
alone. A write that fails closes that connection (the next write opens another), so a
database that went away and came back is used again. The claim and the save, the two
writes of every gather (and the call's creation), go to that connection's ``sqlite3``
connection directly (``statement_alone.sqlite_rows``): compiled once, their values made
before the writer lock is taken, without SQLAlchemy's execution path, which cost more than
the statement (unless something listens to the engine's statements: then they take that
path, as every other does).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Executable, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from ivr.services.metrics import database_failed
from ivr.store import statement_alone, statement_hooks
from ivr.store.models import TwilioCallRow
from ivr.store.unit_of_work import WriterBusy

_CALLS = cast(Table, TwilioCallRow.__table__)
_C = _CALLS.c
_GET = select(_C.call_sid, _C.step, _C.memo, _C.reply, _C.updated_at).where(
    _C.call_sid == bindparam("sid")
)
_CREATE = insert(_CALLS).values(
    call_sid=bindparam("call_sid"),
    step=bindparam("step"),
    memo=bindparam("memo"),
    updated_at=bindparam("updated_at"),
)
_CLAIM = (
    update(_CALLS)
    .where(_C.call_sid == bindparam("sid"), _C.step == bindparam("before"))
    .values(step=bindparam("claimed"), reply=None, updated_at=bindparam("now"))
    .returning(_C.memo)
)
_SAVE = (
    update(_CALLS)
    .where(_C.call_sid == bindparam("sid"), _C.step == bindparam("at"))
    .values(memo=bindparam("new_memo"), reply=bindparam("new_reply"), updated_at=bindparam("now"))
)
_SIDS = select(_C.call_sid)


@dataclass(frozen=True)
class TwilioCall:
    call_sid: str
    step: int
    memo: dict[str, Any]
    reply: str | None
    updated_at: datetime


class TwilioCalls:
    """The ``twilio_calls`` table on ``database``; every method is one transaction.
    ``writer_lock`` (SQLite): taken by each writing transaction, waited for up to
    ``wait`` seconds (None: for ever), then ``WriterBusy``."""

    def __init__(
        self,
        database: Engine,
        writer_lock: threading.Lock | None = None,
        wait: float | None = None,
    ) -> None:
        self.database = database
        self.writer_lock = writer_lock
        self.wait = wait
        #: SQLite: the connection the writer lock's holder writes on (None: not open).
        self._writer: Connection | None = None

    def get(self, call_sid: str) -> TwilioCall | None:
        with self.database.connect() as connection:
            row = connection.execute(_GET, {"sid": call_sid}).first()
        if row is None:
            return None
        return TwilioCall(row.call_sid, row.step, dict(row.memo), row.reply, row.updated_at)

    def create(self, call_sid: str, memo: dict[str, Any], now: datetime) -> bool:
        """Add the call at step 0 (claimed: no reply yet); False if it exists already."""
        values = {"call_sid": call_sid, "step": 0, "memo": memo, "updated_at": now}
        try:
            self._write(_CREATE, values)
        except IntegrityError:  # the call is there already (a replay, or another process)
            if self.get(call_sid) is None:
                raise
            return False
        return True

    def claim(self, call_sid: str, step: int, now: datetime) -> dict[str, Any] | None:
        """Move the call from ``step - 1`` to ``step`` and return its state; None if the
        call is not at ``step - 1`` (unknown, or another process claimed it)."""
        params = {"sid": call_sid, "before": step - 1, "claimed": step, "now": now}
        row = self._write(_CLAIM, params)
        return None if row is None else dict(row["memo"])

    def save(
        self, call_sid: str, step: int, memo: dict[str, Any], reply: str, now: datetime
    ) -> None:
        """The claimed step's reply and the call's new state."""
        params = {"sid": call_sid, "at": step, "new_memo": memo, "new_reply": reply, "now": now}
        self._write(_SAVE, params)

    def sids(self) -> list[str]:
        with self.database.connect() as connection:
            return list(connection.scalars(_SIDS))

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """One writing transaction (committed at the end), under the writer lock; on
        SQLite one autocommitted statement on the writers' connection."""
        lock = self.writer_lock
        if lock is not None and not lock.acquire(timeout=-1 if self.wait is None else self.wait):
            busy = WriterBusy(f"the SQLite writer lock stayed taken for {self.wait:g} s")
            database_failed(busy)
            raise busy
        try:
            if lock is None:
                with self.database.begin() as connection:
                    yield connection
                return
            connection = self._writer or self._open_writer()
            try:
                yield connection
                connection.commit()  # ends SQLAlchemy's own transaction: nothing to send
            except BaseException:
                self._writer = None
                connection.invalidate()  # the next write opens a fresh one
                connection.close()
                raise
        finally:
            if lock is not None:
                lock.release()

    def _write(self, statement: Executable, values: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """``statement`` as one writing transaction (``_writing``); its first row (None:
        none). On SQLite straight to ``sqlite3``, its values made ready (the memo as JSON)
        before the writer lock is taken, unless the engine's statements are listened to."""
        waits = statement_hooks.direct(self.database)
        if self.writer_lock is None or waits is None:
            with self._writing() as connection:
                result = connection.execute(statement, dict(values))
                row = result.first() if result.returns_rows else None
            return None if row is None else dict(row._mapping)
        sql = statement_alone.compiled(statement, statement_alone.SQLITE)
        parameters = sql.parameters(values)
        with self._writing() as connection:
            rows = statement_alone.sqlite_rows(connection, sql, parameters, waits)
        return rows[0] if rows else None

    def _open_writer(self) -> Connection:
        """SQLite, under the writer lock: a connection of the pool kept for the writes,
        in autocommit."""
        connection = self.database.connect()
        try:
            connection.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            connection.close()
            raise
        self._writer = connection
        return connection
