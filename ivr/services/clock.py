"""The clocks, and the only module of ``ivr`` that reads the wall clock.

``SystemClock`` is the real time. ``RunningClock`` starts at a chosen instant and moves on
with the real elapsed time (``time.monotonic``): ``IVR_CLOCK_START`` (tests, demos) and
``ivr call --at`` give every piece of a process one clock that says that date.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ivr.services.ports import Clock


class SystemClock(Clock):
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class RunningClock(Clock):
    """Reads ``start`` when it is made, then moves on as real (monotonic) time passes."""

    def __init__(self, start: datetime, elapsed: Callable[[], float] = time.monotonic) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs a timezone-aware start")
        self.start = start.astimezone(UTC)
        self._elapsed = elapsed
        self._origin = elapsed()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self._elapsed() - self._origin)


def clock_from(start: datetime | None) -> Clock:
    """A clock running from ``start``, or the system clock when there is none."""
    return SystemClock() if start is None else RunningClock(start)
