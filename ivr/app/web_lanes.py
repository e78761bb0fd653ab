"""Two lanes for the web server's requests: the phone systems' webhooks on a thread of
their own, everything else (the console, the API, event streams) on waitress's pool.

Waitress hands every request to a pool of threads (``WEB_THREADS``). A webhook is a
millisecond of Python and two short SQLite writes, and under load the pool ran a dozen of
them at once: every write let go of the interpreter lock and another thread took it, so
each webhook paid for a dozen thread switches and cold caches, and the server spent more
CPU handing the lock around than serving (1.5 ms a webhook, 0.6 ms of it the app's own).
One thread taking the webhooks in turn, back to back while they queue, serves more of
them on less CPU, and a busy console (a report, a page of calls) no longer holds callers
up, nor the reverse.

A lane that stops (a webhook waiting on a database gone away, a writer lock held long)
must not hold every call up behind it: a webhook that has run ``stall`` seconds marks the
lane stalled, and from then until it ends, new webhooks and those queued behind it go to
the pool, as every request did before. The console's requests never use the lane.

Waitress takes its task dispatcher as ``create_server(_dispatcher=...)``: ``Lanes`` is
one, which hands each task (a connection with a request to serve) to its lane.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from waitress.task import ThreadedTaskDispatcher

logger = logging.getLogger(__name__)

#: A webhook running this long marks the phone lane stalled (seconds).
STALL = 0.25


class PhoneLane:
    """One thread serving its tasks in turn; ``stalled()`` when its current task has run
    ``stall`` seconds (``clock``: monotonic seconds)."""

    def __init__(self, stall: float = STALL, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall, self.clock = stall, clock
        self._tasks: deque[Any] = deque()
        self._ready = threading.Condition()
        self._busy_since: float | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="phone-lane", daemon=True)
            self._thread.start()

    def stalled(self) -> bool:
        since = self._busy_since
        return since is not None and self.clock() - since >= self.stall

    def add(self, task: Any) -> None:
        with self._ready:
            self._tasks.append(task)
            self._ready.notify()

    def take_queued(self) -> list[Any]:
        """The tasks waiting behind the current one, taken off the lane."""
        with self._ready:
            taken = list(self._tasks)
            self._tasks.clear()
            return taken

    def stop(self, timeout: float) -> list[Any]:
        """No new task; wait up to ``timeout`` for the current one; the queued ones back."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        return self.take_queued()

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._tasks and not self._stopping:
                    self._ready.wait()
                if self._stopping:
                    return
                task = self._tasks.popleft()
                self._busy_since = self.clock()
            try:
                task.service()
            except BaseException:
                logger.exception("the phone lane could not serve %r", task)
            finally:
                self._busy_since = None


class Lanes(ThreadedTaskDispatcher):
    """Waitress's task dispatcher (its pool: ``set_thread_count``), but that tasks whose
    request path starts with one of ``prefixes`` go to the phone lane while it is not
    stalled. A watch moves the tasks queued behind a stalled webhook to the pool even
    when no new one comes."""

    def __init__(self, prefixes: Iterable[str], lane: PhoneLane | None = None) -> None:
        super().__init__()
        self.prefixes = tuple(p.rstrip("/") + "/" for p in prefixes)
        self.lane = lane or PhoneLane()
        self._stopped = threading.Event()
        if self.prefixes:
            self.lane.start()
            watch = threading.Thread(target=self._watch, name="phone-lane-watch", daemon=True)
            watch.start()

    def add_task(self, task: Any) -> None:
        if (
            not self.prefixes
            or not _path(task).startswith(self.prefixes)
            or self._stopped.is_set()  # stopping: the lane takes nothing new
            or self._spilled()
        ):
            super().add_task(task)
        else:
            self.lane.add(task)

    def shutdown(self, cancel_pending: bool = True, timeout: float = 5) -> bool:
        """The lane's current webhook is waited for, then the pool's, ``timeout`` in all;
        webhooks still queued on the lane go to the pool first."""
        self._stopped.set()
        deadline = time.monotonic() + timeout
        for queued in self.lane.stop(timeout):
            super().add_task(queued)
        left = max(0.0, deadline - time.monotonic())
        return bool(super().shutdown(cancel_pending=cancel_pending, timeout=math.ceil(left)))

    def _spilled(self) -> bool:
        """Whether the lane is stalled; if so, what queues behind it goes to the pool."""
        if not self.lane.stalled():
            return False
        queued = self.lane.take_queued()
        if queued:
            logger.warning("the phone lane is stalled: %d webhooks moved to the pool", len(queued))
        for task in queued:
            super().add_task(task)
        return True

    def _watch(self) -> None:
        while not self._stopped.wait(self.lane.stall / 2):
            self._spilled()


def _path(task: Any) -> str:
    """The path of the request a task (waitress's ``HTTPChannel``) is to serve."""
    requests = getattr(task, "requests", None)
    if not requests:
        return ""
    return str(getattr(requests[0], "path", "") or "")
