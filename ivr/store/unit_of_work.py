"""The SQL unit of work: one session, one transaction, the repositories bound to it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Engine, Executable
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import await_, in_greenlet

from ivr.services import ports
from ivr.services.insight import InsightQueries
from ivr.services.metrics import database_failed, pool_waits_retried
from ivr.store import statement_alone
from ivr.store.account_repositories import SqlAccounts, SqlVerificationLog
from ivr.store.agents import SqlAgentNotes, SqlAgents
from ivr.store.call_repositories import SqlAuditLog, SqlCallRecords, open_upsert, upsert_values
from ivr.store.callbacks import SqlCallbacks, SqlCodeAttempts
from ivr.store.complaint_repositories import SqlComplaints
from ivr.store.one_statement_moves import SqlOneStatementMoves
from ivr.store.queue_entries import SqlQueueEntries
from ivr.store.request_repositories import SqlRequests
from ivr.store.sms_outbox import SqlSmsOutbox

#: Waits for a pooled connection (each up to the pool's timeout) before a unit of work fails.
POOL_TRIES = 3
POOL_RETRY_PAUSE = 0.05
T = TypeVar("T")


def pause(seconds: float) -> None:
    """Sleep; in a call's greenlet on an event loop (``ivr.phone.asterisk.fastagi_loop``)
    on the loop, so that the other calls go on meanwhile."""
    if in_greenlet():
        await_(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


class WriterBusy(ports.StoreBusy):
    """The SQLite writer lock stayed taken longer than a unit of work may wait for it."""


class PoolBusy(ports.StoreBusy, PoolTimeout):
    """No pooled connection was free within the pool's wait (``pool_timeout``): still
    SQLAlchemy's ``TimeoutError``, and the port's ``StoreBusy`` that a use case may try
    again on (``ivr.services.store_waits``)."""


class ConnectionLost(ports.StoreLost, OperationalError):
    """The connection was lost (or never opened, or the server cut the statement short):
    still SQLAlchemy's ``OperationalError``, and the port's ``StoreLost`` that a use case
    may try again on (``ivr.services.store_waits``)."""

    def __init__(self, error: DBAPIError) -> None:
        OperationalError.__init__(
            self, error.statement, error.params, error.orig or error, hide_parameters=True,
            connection_invalidated=error.connection_invalidated,
        )  # fmt: skip


def lost(error: BaseException | None) -> ConnectionLost | None:
    """``error`` as ``ConnectionLost`` if it says the connection is gone or the server
    broke the statement off (``OperationalError``, or any DBAPI error SQLAlchemy saw
    invalidate the connection); None for anything else."""
    if isinstance(error, ConnectionLost) or not isinstance(error, DBAPIError):
        return None
    if isinstance(error, OperationalError) or error.connection_invalidated:
        return ConnectionLost(error)
    return None


class SqlUnitOfWork(ports.UnitOfWork):
    """``writer_lock``: SQLite has one writer at a time and makes the others sleep and
    poll; threads of one process take turns on this lock instead (units of work are
    short, and nothing slow runs inside one). ``wait``: seconds to wait for the lock
    before giving up with ``WriterBusy`` (the use case's error route), as the pool's
    ``pool_timeout`` does for a connection (None: for ever)."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        writer_lock: threading.Lock | None = None,
        wait: float | None = None,
        waiting: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        """``waiting``: entered around each wait for the writer lock or a pooled
        connection (a FastAGI call steps out of its server's work gate meanwhile)."""
        self.sessions = sessions
        self.writer_lock = writer_lock
        self.wait = wait
        self.waiting = waiting
        self._bind: Engine | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self._take_writer()
        self.session = self.sessions()
        try:
            self._connect(self.session.connection)
        except BaseException as error:
            self.session.close()
            if self.writer_lock is not None:
                self.writer_lock.release()
            gone = lost(error)
            if gone is not None:
                database_failed(error)
                raise gone from error
            raise
        self.accounts = SqlAccounts(self.session)
        self.verifications = SqlVerificationLog(self.session)
        self.requests = SqlRequests(self.session)
        self.audit = SqlAuditLog(self.session)
        self.calls = SqlCallRecords(self.session)
        self.outbox = SqlSmsOutbox(self.session)
        self.agents = SqlAgents(self.session)
        self.queue = SqlQueueEntries(self.session)
        self.callbacks = SqlCallbacks(self.session)
        self.notes = SqlAgentNotes(self.session)
        self.code_attempts = SqlCodeAttempts(self.session)
        self.complaints = SqlComplaints(self.session)
        return self

    @property
    def insight(self) -> InsightQueries:
        """The reports' queries, imported when first asked for: a call's process (the
        per-call AGI script above all) never reads a report and should not load them."""
        from ivr.store.insight_queries import SqlInsightQueries

        return SqlInsightQueries(self.session)

    @insight.setter
    def insight(self, value: InsightQueries) -> None:
        raise AttributeError("a unit of work's insight queries are its session's")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if isinstance(error, SQLAlchemyError):
            database_failed(error)  # ivr_database_errors_total
        try:
            self.rollback()
            self.session.close()
        finally:
            if self.writer_lock is not None:
                self.writer_lock.release()
        if isinstance(error, PoolTimeout) and not isinstance(error, PoolBusy):
            raise PoolBusy(str(error)) from error
        gone = lost(error)
        if gone is not None:
            raise gone from error

    def one_statement(self) -> SqlOneStatementMoves | None:
        """PostgreSQL's one-statement moves, each run alone (``run_alone``); None on
        SQLite (no statement there updates two tables: the unit of work's way)."""
        if self._engine().dialect.name != "postgresql":
            return None
        return SqlOneStatementMoves(self.run_alone)

    def open_record_alone(self, record: ports.CallRecord) -> bool:
        """The open version's upsert run alone (``run_alone``); False when it wrote
        nothing (a row closed, or newer: ``calls.save`` applies the rule)."""
        upsert = open_upsert(self._engine().dialect.name)
        return bool(self.run_alone(upsert, upsert_values(record)))

    def _engine(self) -> Engine:
        """The engine this unit of work's sessions use (a ``sessionmaker``'s own, or
        asked of a session that has not connected yet); kept for this unit of work."""
        if self._bind is None:
            bind = getattr(self.sessions, "kw", {}).get("bind")
            if not isinstance(bind, Engine):
                session = self.sessions()
                try:
                    found = session.get_bind()
                finally:
                    session.close()
                bind = found if isinstance(found, Engine) else found.engine
            self._bind = bind
        return self._bind

    def run_alone(
        self, statement: Executable, values: Mapping[str, Any]
    ) -> list[Mapping[str, Any]]:
        """``statement`` in a transaction of its own (autocommit: one round trip, no
        BEGIN, no COMMIT; ``ivr.store.statement_alone``), on a connection taken as a unit
        of work takes one (its turn at SQLite's writer lock, the pool's waits tried
        again); the rows it returned. A lost connection raises ``ConnectionLost``, a pool
        that stayed busy ``PoolBusy``."""
        engine = self._engine()
        self._take_writer()
        try:
            conn = self._connect(engine.connect)
            try:
                return statement_alone.run(conn, statement, values)
            finally:
                conn.close()
        except SQLAlchemyError as error:
            database_failed(error)
            gone = lost(error)
            if gone is not None:
                raise gone from error
            raise
        finally:
            if self.writer_lock is not None:
                self.writer_lock.release()

    def _take_writer(self) -> None:
        if self.writer_lock is not None:
            wait = -1 if self.wait is None else self.wait
            with self.waiting():
                taken = self.writer_lock.acquire(timeout=wait)
            if not taken:
                busy = WriterBusy(f"the SQLite writer lock stayed taken for {wait:g} s")
                database_failed(busy)
                raise busy

    def _connect(self, take: Callable[[], T]) -> T:
        """Take a pooled connection now (``take``). A wait for one that runs out (every connection
        busy for the pool's timeout: a burst) is tried again, ``POOL_TRIES`` times in all,
        after a short pause; only then does it fail the unit of work (``PoolBusy``: the
        use case's error route, or a longer retry of its own, ``ivr.services.store_waits``).
        No statement has run, so trying again is safe."""
        for attempt in range(1, POOL_TRIES + 1):
            try:
                with self.waiting():
                    return take()
            except PoolTimeout as exc:
                pool_waits_retried()
                if attempt == POOL_TRIES:
                    database_failed(exc)
                    raise PoolBusy(str(exc)) from exc
                pause(POOL_RETRY_PAUSE * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
