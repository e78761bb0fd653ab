"""The SQL unit of work: one session, one transaction, the repositories bound to it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import await_, in_greenlet

from ivr.services import ports
from ivr.services.insight import InsightQueries
from ivr.services.metrics import database_failed, pool_waits_retried
from ivr.store.account_repositories import SqlAccounts, SqlVerificationLog
from ivr.store.agents import SqlAgentNotes, SqlAgents
from ivr.store.call_repositories import SqlAuditLog, SqlCallRecords
from ivr.store.callbacks import SqlCallbacks, SqlCodeAttempts
from ivr.store.complaint_repositories import SqlComplaints
from ivr.store.queue_entries import SqlQueueEntries
from ivr.store.request_repositories import SqlRequests
from ivr.store.sms_outbox import SqlSmsOutbox

#: Waits for a pooled connection (each up to the pool's timeout) before a unit of work fails.
POOL_TRIES = 3
POOL_RETRY_PAUSE = 0.05


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

    def __enter__(self) -> SqlUnitOfWork:
        if self.writer_lock is not None:
            wait = -1 if self.wait is None else self.wait
            with self.waiting():
                taken = self.writer_lock.acquire(timeout=wait)
            if not taken:
                busy = WriterBusy(f"the SQLite writer lock stayed taken for {wait:g} s")
                database_failed(busy)
                raise busy
        self.session = self.sessions()
        try:
            self._connect()
        except BaseException:
            self.session.close()
            if self.writer_lock is not None:
                self.writer_lock.release()
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

    def _connect(self) -> None:
        """Take a pooled connection now. A wait for one that runs out (every connection
        busy for the pool's timeout: a burst) is tried again, ``POOL_TRIES`` times in all,
        after a short pause; only then does it fail the unit of work (``PoolBusy``: the
        use case's error route, or a longer retry of its own, ``ivr.services.store_waits``).
        No statement has run, so trying again is safe."""
        for attempt in range(1, POOL_TRIES + 1):
            try:
                with self.waiting():
                    self.session.connection()
                return
            except PoolTimeout as exc:
                pool_waits_retried()
                if attempt == POOL_TRIES:
                    database_failed(exc)
                    raise PoolBusy(str(exc)) from exc
                pause(POOL_RETRY_PAUSE * attempt)

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
