"""Refused FastAGI connections, logged without flooding: one line at most every
``interval`` seconds, with a count of those refused unlogged since."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)

Peer = tuple[str, int]


def peer_text(peer: Peer) -> str:
    return f"{peer[0]}:{peer[1]}"


class Refusals:
    """One log line per ``interval`` seconds at most for refused connections."""

    def __init__(self, interval: float = 10.0) -> None:
        self.interval = interval
        self._last = -float("inf")
        self._quiet = 0
        self._lock = threading.Lock()

    def note(self, peer: Peer | None, why: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                self._quiet += 1
                return
            quiet, self._quiet, self._last = self._quiet, 0, now
        logger.warning(
            "FastAGI: refused a connection from %s: %s (%d more refused unlogged before it)",
            *(peer_text(peer) if peer else "?", why, quiet),
        )
