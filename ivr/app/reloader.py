"""Reload ``callflows.yaml`` when it (or its prompt catalog) changes.

The new file is loaded and checked first: a broken one is refused (every problem logged
as FILE:LINE:COL) and the old flow keeps serving. Calls in progress keep the engine they
started with; new calls get the new one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ivr.errors import FlowErrors
from ivr.flow.engine import Engine
from ivr.flow.model import Flow

logger = logging.getLogger(__name__)


class FlowReloader:
    """Watches the flow file and the catalog the current flow was loaded from."""

    def __init__(
        self,
        flow: Flow,
        load: Callable[[Path], Flow],
        install: Callable[[Flow, Engine], None],
        interval: float = 1.0,
    ) -> None:
        self.path = Path(flow.source)
        self.catalog = Path(flow.catalog_source) if flow.catalog_source else None
        self.load = load
        self.install = install
        self.interval = interval
        self._seen = self._stamp()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _files(self) -> list[Path]:
        return [self.path] + ([self.catalog] if self.catalog else [])

    def _stamp(self) -> tuple[int, ...]:
        stamps = []
        for file in self._files():
            try:
                stamps.append(file.stat().st_mtime_ns)
            except OSError:
                stamps.append(-1)
        return tuple(stamps)

    def check(self) -> bool:
        """Reload if the files changed since the last look; True if a new flow went live."""
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        try:
            flow = self.load(self.path)
        except FlowErrors as exc:
            problems = [str(p) for p in exc.problems]
            logger.error(
                "%s changed but was refused; the previous flow keeps serving:%s%s",
                self.path,
                " " if len(problems) == 1 else "\n",  # one problem, one line
                "\n".join(problems),
            )
            return False
        self.catalog = Path(flow.catalog_source) if flow.catalog_source else None
        self._seen = self._stamp()
        self.install(flow, Engine(flow))
        logger.warning("%s reloaded: %d nodes", self.path, len(flow.nodes))
        return True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="flow-reloader", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a watcher that dies silently would freeze the flow
                logger.exception("flow reload check failed")
