"""Closing the records of calls whose process died, and replaying the spool.

A call's process writes its record when the call starts, as it moves (``last_seen_at``)
and when it ends. A record still open whose call has not been seen for ``lease`` and
has no active queue entry (a caller on hold or talking is alive: the entry's own lease
says when they are not) belonged to a process that died: ``close_interrupted`` closes
it as ``interrupted``, at the last node it reached, ended when it was last seen. Should
the call turn out to be alive after all, its own close replaces that.

``RecordUpkeep.run`` is what each dispatcher round does for records: replay the spool,
and every ``every`` seconds close the interrupted ones. Every process may run it: each
close is a compare-and-set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from ivr.services import ports
from ivr.services.call_records import CallRecorder
from ivr.services.metrics import reaped

logger = logging.getLogger(__name__)

#: How long an open record may go unwritten before its call counts as interrupted.
DEFAULT_LEASE_SECONDS = 60
#: Records closed in one unit of work at most.
BATCH = 100


def close_interrupted(
    unit_of_work: Callable[[], ports.UnitOfWork],
    now: datetime,
    lease: timedelta = timedelta(seconds=DEFAULT_LEASE_SECONDS),
) -> list[str]:
    """Close the records of calls not seen since ``now - lease`` (see the module);
    returns their call ids."""
    with unit_of_work() as uow:
        closed = uow.calls.close_interrupted(now - lease, BATCH)
        uow.commit()
    reaped("record_interrupted", len(closed))
    if closed:
        logger.warning(
            "%d call records closed as interrupted (not seen for %ds): %s",
            *(len(closed), lease.total_seconds(), ", ".join(closed)),
        )
    return closed


class RecordUpkeep:
    """One dispatcher round's work on call records (``run``)."""

    def __init__(
        self,
        recorder: CallRecorder,
        clock: ports.Clock,
        lease: timedelta = timedelta(seconds=DEFAULT_LEASE_SECONDS),
        every: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder
        self.clock = clock
        self.lease = lease
        self.every = every
        self.monotonic = monotonic
        self._next = 0.0

    def run(self) -> list[str]:
        """Replay the spool; close interrupted records when due. The call ids closed."""
        try:
            self.recorder.replay()
        except Exception:
            logger.exception("call-record spool: the replay failed; trying again")
        if self.monotonic() < self._next:
            return []
        self._next = self.monotonic() + self.every
        return close_interrupted(self.recorder.unit_of_work, self.clock.now(), self.lease)
