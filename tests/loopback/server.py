"""``LoopbackServer``: the loopback phone's listener, one call per connection, a thread each.

The first line says what the call is (``tests.loopback.protocol``): a caller to the
hotline (``ivr.phone.call_loop.run_call``), a customer answering a callback
(``ivr.phone.callback_call.serve_callback``), or the phone reporting that a callback did
not reach the customer (``ContactCenter.callback_failed``: retried later, or given up).
``shutdown()`` takes no new calls and sets ``Parts.stopping``, so callers on hold are
handed back at once (``ivr.phone.holding``); ``server_close()`` waits for the calls in
progress.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING

from ivr.flow.state import CallStart
from ivr.phone.call_loop import run_call
from ivr.phone.callback_call import serve_callback
from loopback import protocol as wire
from loopback.line import LoopbackLine

if TYPE_CHECKING:
    from ivr.phone.channel import Parts

logger = logging.getLogger(__name__)

#: A phone silent this long is gone (the tests' calls answer at once).
IDLE_TIMEOUT = 30.0


class LoopbackServer:
    """Listens on ``address`` (port 0: any free port) for the calls of ``parts``;
    ``channel`` is the name their records carry."""

    def __init__(self, address: tuple[str, int], parts: Parts, channel: str) -> None:
        self.parts = parts
        self.channel = channel
        self.listener = socket.create_server(address)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._calls: list[threading.Thread] = []

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.listener.getsockname()[:2]
        return str(host), int(port)

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self.listener.settimeout(poll_interval)
        while not self._stop.is_set():
            try:
                connection, _peer = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return  # closed while stopping
                raise
            thread = threading.Thread(target=self._call, args=(connection,), name="loopback-call")
            with self._lock:
                self._calls = [t for t in self._calls if t.is_alive()] + [thread]
            thread.start()

    def shutdown(self) -> None:
        """No new calls; callers on hold leave the hold (``Parts.stopping``)."""
        self.parts.stopping.set()
        self._stop.set()

    def server_close(self) -> None:
        self.listener.close()
        with self._lock:
            calls = list(self._calls)
        for thread in calls:
            thread.join()

    def _call(self, connection: socket.socket) -> None:
        connection.settimeout(IDLE_TIMEOUT)
        reader = connection.makefile("r", encoding="utf-8", newline="\n")
        writer = connection.makefile("w", encoding="utf-8", newline="\n")
        try:
            self._serve(reader.readline(), LoopbackLine(reader, writer, "?"))
        except wire.BadLine as exc:
            logger.error("loopback call refused: %s", exc)
        except Exception:
            logger.exception("loopback call failed")
        finally:
            for closing in (writer.close, reader.close, connection.close):
                try:
                    closing()
                except OSError:
                    pass

    def _serve(self, first: str, line: LoopbackLine) -> None:
        start = wire.start(first)
        line.call_id = start.call_id or f"missed-{start.callback_id}"
        line.answered = self.parts.contact_center.connected
        if start.callback_id is None:
            now = self.parts.clock.now().timestamp()
            call = CallStart(start.call_id, start.caller_id, start.dialled, started_at=now)
            run_call(line, self.parts, call, self.channel)
            return
        center = self.parts.contact_center
        if start.kind == wire.MISSED:
            kept = center.callback_failed(start.callback_id, f"loopback: {start.reason}")
            logger.warning("callback %d: not answered; now %s", start.callback_id, kept.state)
            return
        found = center.callback(start.callback_id)
        if found is None:
            logger.error("loopback: no callback %d", start.callback_id)
            line.hang_up()
            return
        serve_callback(line, self.parts, found, start.call_id, self.channel)
