"""What a FastAGI call on the event loop (in its greenlet: ``ivr.phone.asterisk.fastagi_loop``)
gets of the process differently from a thread:

- ``CallSessions``: sessions from the loop's asyncio engine, so its round trips wait on the
  loop; every other thread (web, dispatcher, the call record writer, a call thread) gets
  one on the plain engine. Both engines reach the same database, each with its own pool.
- ``OffLoop``: CPU work that lets go of the interpreter lock (a PIN's scrypt) run on a
  worker thread, one per core, while the loop serves other calls; elsewhere in the
  calling thread.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util.concurrency import await_, in_greenlet

T = TypeVar("T")


class CallSessions:
    """``sessionmaker``-like: ``CallSessions(plain, on_loop)()`` is a new session."""

    def __init__(self, plain: sessionmaker[Session], on_loop: sessionmaker[Session]) -> None:
        self.plain = plain
        self.on_loop = on_loop

    def __call__(self) -> Session:
        if in_greenlet():
            return self.on_loop()
        return self.plain()


class OffLoop:
    """``OffLoop()(work)``: ``work()``'s result; from a call's greenlet, worked out on one of
    ``workers`` threads (default: one per core) while the greenlet waits on the loop."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None

    def __call__(self, work: Callable[[], T], /) -> T:
        if not in_greenlet():
            return work()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, "off-loop")
        return await_(asyncio.get_running_loop().run_in_executor(self._pool, work))
