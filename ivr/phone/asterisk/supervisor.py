"""Keeps the sandbox's controller (its FastAGI server) running while Asterisk runs.

``Supervisor.start()`` starts the child and returns once it is ready (or raises
``ChildError``). A thread then watches it: when the child exits without having been asked
to (a crash, ``kill -9``), one warning line says so, and after a pause it is started again.
The pause doubles from ``Backoff.first`` up to ``Backoff.longest`` while restarts keep
failing, and is back to ``first`` once a child has run for ``Backoff.calm`` seconds. It
never gives up: meanwhile Asterisk answers calls with the dialplan's safe route.
``stop()`` ends the watching, then the child.

A restarted child is spawned from the watching thread, and the kernel's parent-death signal
(``children.spawn``) follows the thread that spawned a child: so the thread lives until
``stop()``, which ends the child itself anyway.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ivr.phone.asterisk import children

logger = logging.getLogger(__name__)

Launch = Callable[[], "subprocess.Popen[bytes]"]


@dataclass(frozen=True)
class Backoff:
    """Pauses before restarts (seconds)."""

    first: float = 1.0
    longest: float = 30.0
    calm: float = 60.0

    def pause(self, previous: float, ran: float) -> float:
        """The pause before the next start, after a child that ran ``ran`` seconds, the
        pause before it having been ``previous`` (0 for none)."""
        if previous <= 0 or ran >= self.calm:
            return self.first
        return min(previous * 2, self.longest)


class Supervisor:
    """One supervised child: ``launch()`` spawns it, ``ready()`` says it serves."""

    def __init__(
        self,
        what: str,
        launch: Launch,
        ready: Callable[[], bool],
        log: Path,
        backoff: Backoff | None = None,
        startup: float = 20.0,
        poll: float = 0.2,
    ) -> None:
        self.what = what
        self.launch = launch
        self.ready = ready
        self.log = log
        self.backoff = backoff or Backoff()
        self.startup = startup
        self.poll = poll
        #: How many times the child was started again.
        self.restarts = 0
        self._child: subprocess.Popen[bytes] | None = None
        self._since = 0.0
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def running(self) -> bool:
        child = self._child
        return child is not None and child.poll() is None

    @property
    def pid(self) -> int | None:
        """The current child's process id (None before ``start()``)."""
        child = self._child
        return child.pid if child is not None else None

    def start(self) -> None:
        """Start the child and wait until it is ready; then watch it."""
        self._stopping.clear()
        self._started()
        self._watcher = threading.Thread(
            target=self._watch, name=f"supervisor {self.what}", daemon=True
        )
        self._watcher.start()

    def stop(self, timeout: float = 15) -> None:
        """Stop watching, then end the child (SIGTERM, SIGKILL after ``timeout``)."""
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None
        children.end(self._child, timeout)

    def _started(self) -> subprocess.Popen[bytes]:
        """Launch the child (it is ``_child`` at once) and wait until it is ready, or
        ``stop()`` is called; a child that is not ready in time is ended."""
        child = self._child = self.launch()
        self._since = time.monotonic()
        ready = lambda: self._stopping.is_set() or self.ready()  # noqa: E731
        try:
            children.wait_until(ready, child, self.what, self.startup, self.log)
        except BaseException:
            children.end(child, 5)
            raise
        return child

    def _watch(self) -> None:
        pause = 0.0
        while not self._stopping.wait(self.poll):
            child = self._child
            if child is None or child.poll() is None:
                continue
            pause = self.backoff.pause(pause, time.monotonic() - self._since)
            self.restarts += 1
            logger.warning(
                "%s (pid %d) exited with status %s after %.1fs; starting it again in %.1fs "
                "(restart %d)",
                *(self.what, child.pid, child.returncode, time.monotonic() - self._since),
                *(pause, self.restarts),
            )
            if self._stopping.wait(pause):
                return
            try:
                self._started()
            except children.ChildError as exc:  # ended: the next round starts it again
                logger.warning("%s did not start again: %s", self.what, exc)
