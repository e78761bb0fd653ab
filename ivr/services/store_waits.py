"""Waiting for the store again instead of failing: a unit of work that found no pooled
connection free within the pool's wait (``ports.StoreBusy``: on SQLite, no turn at the
writer lock) did nothing, so it is tried again after a pause that doubles each time
(with some jitter, so the waiting threads do not all come back at once). An agent's
"next caller" uses it: fifty agents on a smaller pool wait their turn, and none of their
threads ends on a busy pool.

A lost connection (``ports.StoreLost``: the server restarted, the backend was ended, a
deadlock broken) is tried again the same way, a bounded number of times: the pool opens a
fresh connection, and the agent's thread goes on once the server is back. Only for work
that commits last as compare-and-sets (nothing runs after its commit that could fail and
run the committed part twice; a commit whose answer was lost, tried again, finds its rows
moved already and changes nothing)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TypeVar

from ivr.services import metrics
from ivr.services.ports import StoreBusy, StoreLost

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Tries in all, each after the unit of work's own waits ran out (``SqlUnitOfWork``: three
#: of ``IVR_DB_POOL_TIMEOUT`` for a pooled connection, one for SQLite's writer lock): about
#: 9 s of pauses besides those waits before the last ``StoreBusy`` is let through.
ATTEMPTS = 10
#: The first pause, and the longest (seconds).
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 2.0


def retrying(
    work: Callable[[], T],
    pause: Callable[[float], None],
    attempts: int = ATTEMPTS,
    first: float = FIRST_PAUSE,
    longest: float = LONGEST_PAUSE,
) -> T:
    """``work()``, tried again after ``pause(seconds)`` while the store is busy or its
    connection lost; the last try's ``StoreBusy`` (or ``StoreLost``) is raised (the store
    has been unreachable for a long while)."""
    wait = first
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except StoreBusy as busy:
            if attempt == attempts:
                raise
            metrics.STORE_WAITS_RETRIED.inc()
            logger.info("store busy (%s); trying again in %.2f s", busy, wait)
        except StoreLost as gone:
            if attempt == attempts:
                raise
            metrics.STORE_LOST_RETRIED.inc()
            logger.warning("store connection lost (%s); trying again in %.2f s",
                           type(gone.__cause__ or gone).__name__, wait)  # fmt: skip
        pause(wait * random.uniform(0.5, 1.0))
        wait = min(wait * 2, longest)
    raise AssertionError("unreachable")  # pragma: no cover
