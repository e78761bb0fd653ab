"""Keeping call records whatever the database does.

``CallRecorder.keep`` writes a version of a call's record (opened, moved on, closed) in
its own unit of work. If the database cannot take it, the version goes to the spool
(``ports.RecordSpool``), which a dispatcher round replays (``replay``) once the database
is back; if even the spool fails, the record is lost, and that is counted and logged as
one line naming the call. Nothing here raises: a caller never notices a record.

A process that serves many calls at once (FastAGI, ``ivr serve``) also *defers* the
versions written while a call moves through the menus (``keep_later``): each waits
``defer`` seconds, and a newer version of the same call replaces it meanwhile, so a call
that moves five times in a second is written once, not five times. A background thread
writes the due versions, all of them in one unit of work. The version that opens a record
and the one that closes it are never deferred (``keep``): a record exists from the call's
first second and its outcome is in the database before the call's thread lets go. What a
killed process loses is at most the last ``defer`` seconds of a call's path (the reaper
closes the record at the node written before), never the record. ``flush`` writes what
waits (when the process stops).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ivr.services import ports

logger = logging.getLogger(__name__)

#: Records replayed from the spool in one round at most.
REPLAY_BATCH = 200


class CallRecorder:
    """``defer``: seconds a ``keep_later`` version waits (None: written at once, as a
    process with one call does); ``ticker``: the monotonic clock of that wait (not the
    hotline's clock: it times a write, not a call)."""

    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        spool: ports.RecordSpool | None = None,
        defer: float | None = None,
        ticker: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.spool = spool
        self.defer = defer
        self.ticker = ticker
        #: Versions that went to the spool, and records lost, since the process started.
        self.spooled = 0
        self.lost = 0
        #: Deferred versions written, and those a newer version replaced unwritten.
        self.deferred_written = 0
        self.superseded = 0
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[ports.CallRecord, float]] = {}
        self._wake = threading.Condition(self._lock)
        self._writer: threading.Thread | None = None

    def keep_later(self, record: ports.CallRecord) -> bool:
        """Write an open ``record`` within ``defer`` seconds unless a newer version of
        the call comes first; at once when this recorder does not defer."""
        if self.defer is None or not record.open:
            return self.keep(record)
        with self._lock:
            if self._pending.pop(record.call_id, None) is not None:
                self.superseded += 1
            self._pending[record.call_id] = (record, self.ticker() + self.defer)
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write_due, name="call-record-writer", daemon=True
                )
                self._writer.start()
        return True

    def flush(self) -> int:
        """Write every deferred version now; how many were."""
        with self._lock:
            due = [record for record, _ in self._pending.values()]
            self._pending.clear()
        return self._write_batch(due)

    def keep(self, record: ports.CallRecord) -> bool:
        """Write ``record`` (else spool it); False only if it is lost. A deferred, older
        version of the same call is dropped: this one supersedes it."""
        if self._pending:
            with self._lock:
                if self._pending.pop(record.call_id, None) is not None:
                    self.superseded += 1
        try:
            self._save(record)
            return True
        except Exception as exc:  # a database that went away, a pool timeout, a bug
            failure = _short(exc)
        if self.spool is not None:
            try:
                self.spool.keep(record)
            except Exception as exc:
                failure = f"{failure}; spool: {_short(exc)}"
            else:
                with self._lock:
                    self.spooled += 1
                    first = self.spooled == 1
                level = logging.WARNING if first or not record.open else logging.INFO
                logger.log(
                    level, "call %s: record kept in the spool (database: %s)", record.call_id,
                    failure,
                )  # fmt: skip
                return True
        with self._lock:
            self.lost += 1
            lost = self.lost
        logger.error(
            "could not record call %s (%s): record LOST, %d lost by this process so far",
            *(record.call_id, failure, lost),
        )
        return False

    def _write_due(self) -> None:
        assert self.defer is not None
        while True:
            with self._lock:
                if not self._pending:  # nothing waits: the next keep_later starts another
                    self._writer = None
                    return
                now = self.ticker()
                due = [r for r, at in self._pending.values() if at <= now]
                for record in due:
                    del self._pending[record.call_id]
                if not due:
                    self._wake.wait(self.defer / 2)
                    continue
            self._write_batch(due)

    def _write_batch(self, records: list[ports.CallRecord]) -> int:
        """One unit of work for them all; if it fails, each on its own (``keep``: the
        database, else the spool)."""
        if not records:
            return 0
        try:
            with self.unit_of_work() as uow:
                for record in records:
                    uow.calls.save(record)
                uow.commit()
        except Exception:
            for record in records:
                self.keep(record)
        with self._lock:
            self.deferred_written += len(records)
        return len(records)

    def replay(self, limit: int = REPLAY_BATCH) -> int:
        """Write spooled records to the database; how many were written. Stops at the
        first failure (the database is still away): the rest wait for the next round."""
        if self.spool is None:
            return 0
        written = 0
        claimed = self.spool.claim(limit)
        for index, (token, record) in enumerate(claimed):
            try:
                self._save(record)
            except Exception as exc:
                for left, _ in claimed[index:]:
                    self.spool.release(left)
                logger.warning(
                    "call-record spool: replay stopped, %d of %d written (%s)",
                    *(written, len(claimed), _short(exc)),
                )
                return written
            self.spool.forget(token)
            written += 1
        if written:
            logger.warning("call-record spool: %d records written to the database", written)
        return written

    def _save(self, record: ports.CallRecord) -> None:
        """An open version alone where the store can (one statement); else one unit of
        work, once more if another process inserted the same call first."""
        if record.open and self.unit_of_work().open_record_alone(record):
            return
        for attempt in (1, 2):
            try:
                with self.unit_of_work() as uow:
                    uow.calls.save(record)
                    uow.commit()
                return
            except Exception as exc:
                if attempt == 2 or not _is_duplicate(exc):
                    raise


def _is_duplicate(exc: Exception) -> bool:
    return type(exc).__name__ == "IntegrityError"


def _short(exc: BaseException) -> str:
    """The error's type and first line (a driver's message can run to many lines)."""
    reason = getattr(exc, "orig", None) or exc
    lines = str(reason).strip().splitlines()
    text = lines[0][:200] if lines else ""
    return f"{type(reason).__name__}: {text}" if text else type(reason).__name__
