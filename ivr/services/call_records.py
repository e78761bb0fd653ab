"""Keeping call records whatever the database does.

``CallRecorder.keep`` writes a version of a call's record (opened, moved on, closed) in
its own unit of work. If the database cannot take it, the version goes to the spool
(``ports.RecordSpool``), which a dispatcher round replays (``replay``) once the database
is back; if even the spool fails, the record is lost, and that is counted and logged as
one line naming the call. Nothing here raises: a caller never notices a record.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ivr.services import ports

logger = logging.getLogger(__name__)

#: Records replayed from the spool in one round at most.
REPLAY_BATCH = 200


class CallRecorder:
    def __init__(
        self,
        unit_of_work: Callable[[], ports.UnitOfWork],
        spool: ports.RecordSpool | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.spool = spool
        #: Versions that went to the spool, and records lost, since the process started.
        self.spooled = 0
        self.lost = 0
        self._lock = threading.Lock()

    def keep(self, record: ports.CallRecord) -> bool:
        """Write ``record`` (else spool it); False only if it is lost."""
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
        """One unit of work; once more if another process inserted the same call first."""
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
