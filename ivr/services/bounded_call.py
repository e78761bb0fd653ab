"""A probe with a deadline: ``BoundedCall`` runs a function in a thread of its own and
waits for it at most so long, so a database that does not answer costs a scrape or a
readiness check that much time and no more. One probe at a time: while the last one
still runs (a connection hanging), the next gives up at once instead of piling threads up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class StillRunning(TimeoutError):
    """The previous probe has not returned yet."""


class BoundedCall(Generic[T]):
    def __init__(self, function: Callable[[], T], timeout: float, name: str = "probe") -> None:
        self.function = function
        self.timeout = timeout
        self.name = name
        self._last: Future[T] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        """The function's result, or its exception; ``TimeoutError`` after ``timeout``
        seconds (``StillRunning`` at once while the last call has not returned)."""
        with self._lock:
            if self._last is not None and not self._last.done():
                raise StillRunning(f"the last {self.name} has not returned yet")
            future: Future[T] = Future()
            self._last = future
        thread = threading.Thread(target=self._run, args=(future,), name=self.name, daemon=True)
        thread.start()
        return future.result(timeout=self.timeout)

    def _run(self, future: Future[T]) -> None:
        try:
            future.set_result(self.function())
        except BaseException as exc:  # handed to the waiting caller, who judges it
            future.set_exception(exc)
