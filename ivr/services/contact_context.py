"""What every use case of the contact center shares: the unit of work to reach storage
through, the clock, the few settings it needs, the ring timeouts and who this process
is (``CenterContext``). The desks (``queue_desk``, ``agent_desk``, ``callback_desk``,
``callback_dialler``, ``contact_views``, ``reaper``) are functions over it.
"""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ivr.services import ports

#: How long an agent's phone rings for a queue that does not say (seconds).
DEFAULT_RING_TIMEOUT = 20
#: While an offer rings, the holder's lease covers the ring plus this much (seconds) on
#: top of the lease: past the reaper's own ring timeout (``reaper.GRACE``).
RING_MARGIN = 15


@dataclass(frozen=True)
class CenterSettings:
    """The settings the contact center reads (the composition root builds them from its
    configuration). ``secret``: reads (or creates) the server's secret key; called on
    first need only (a callback code)."""

    secret: Callable[[], bytes] = field(repr=False)
    wrap_up_seconds: int = 30
    queue_lease_seconds: int = 30


class _ReadOnce:
    """The secret key, read on first need and kept."""

    def __init__(self, read: Callable[[], bytes]) -> None:
        self._read = read
        self._value: bytes | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            if self._value is None:
                self._value = self._read()
            return self._value


def default_holder() -> str:
    """Who holds the callers this process enqueues: ``host:pid``."""
    return f"{platform.node()}:{os.getpid()}"


@dataclass(frozen=True)
class CenterContext:
    """``ring_timeouts``: seconds an offer rings, per queue (others: 20); ``holder``:
    who holds the callers this process enqueues (shown to supervisors; at most 80
    characters); ``pause``: how a retry sleeps (tests pass one that records)."""

    unit_of_work: Callable[[], ports.UnitOfWork]
    clock: ports.Clock
    settings: CenterSettings
    ring_timeouts: Mapping[str, int] = field(default_factory=dict)
    holder: str = field(default_factory=default_holder)
    #: Sleeps between two tries of a unit of work that found the store busy.
    pause: Callable[[float], None] = time.sleep
    _key: _ReadOnce = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holder", self.holder[:80])
        object.__setattr__(self, "_key", _ReadOnce(self.settings.secret))

    def ring_timeout(self, queue: str) -> int:
        """Seconds an agent's phone rings for an offer from ``queue``."""
        return int(self.ring_timeouts.get(queue, DEFAULT_RING_TIMEOUT))

    def lease(self) -> timedelta:
        """How long an entry lives after its holder last renewed it."""
        return timedelta(seconds=self.settings.queue_lease_seconds)

    def wrap_up(self) -> timedelta:
        """How long an agent stays in wrap-up after a talk."""
        return timedelta(seconds=self.settings.wrap_up_seconds)

    def key(self) -> bytes:
        """The secret key, read (or created) on first need only."""
        return self._key()
