"""The FastAGI server: the hotline over TCP, one call per connection, no process per call.

Threads, not asyncio: a call spends its life waiting on its socket or on the database (a
synchronous SQLAlchemy session), and a thread per call keeps the driver the same as the
per-call AGI script. Routing is on ``agi_network_script`` (``agi://host:4573/hotline``,
arguments after ``?`` allowed). Stopping (SIGTERM, Ctrl-C) stops accepting new calls and
waits for the calls in progress to finish. ``callflows.yaml`` is reloaded when it changes.
"""

from __future__ import annotations

import logging
import signal
import socket
import socketserver
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from ivr.bootstrap import Hotline, load_hotline
from ivr.channels.agi import AgiLine
from ivr.channels.agi_protocol import AgiPeerError
from ivr.channels.dispatcher import Dispatcher
from ivr.channels.reload import FlowReloader
from ivr.channels.scripts import SCRIPTS, run_script

logger = logging.getLogger(__name__)

#: A peer silent for this long is gone (the longest prompt plus a gather is far shorter;
#: while Dial rings and bridges an agent the line is quiet, and has no timeout).
IDLE_TIMEOUT = 300.0


class FastAgiServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = False
    block_on_close = True  # server_close() waits for calls in progress
    allow_reuse_address = True
    # A burst of calls opens many connections at once; socketserver's default backlog of 5
    # makes the rest wait for a SYN retransmission (1 s, then 3 s...).
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], hotline: Hotline) -> None:
        self.hotline = hotline
        self.calls = 0
        self._lock = threading.Lock()
        super().__init__(address, _CallHandler)

    def shutdown(self) -> None:
        """No new calls; callers on hold go to the dialplan's safe route within a hold
        segment (``ivr.channels.waiting``), calls with an agent or in the menus finish."""
        self.hotline.stopping.set()
        super().shutdown()

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.server_address[:2]
        return str(host), int(port)

    def call_started(self) -> None:
        with self._lock:
            self.calls += 1

    def call_ended(self) -> None:
        with self._lock:
            self.calls -= 1


class _CallHandler(socketserver.BaseRequestHandler):
    server: FastAgiServer

    def handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(IDLE_TIMEOUT)
        # One short command, one short reply: without this, Nagle's algorithm and the
        # peer's delayed ACK hold each command back by tens of milliseconds.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = connection.makefile("r", encoding="utf-8", newline="\n")
        writer = connection.makefile("w", encoding="utf-8", newline="\n")
        self.server.call_started()
        try:
            try:
                line = AgiLine(reader, writer)
            except AgiPeerError as exc:  # a health check, a port scan, a peer that left
                logger.warning("FastAGI connection from %s: %s", self.client_address, exc)
                return
            line.quiet = lambda quiet: connection.settimeout(None if quiet else IDLE_TIMEOUT)
            script = line.env.script
            if script not in SCRIPTS or not run_script(line, self.server.hotline, "fastagi"):
                # No IVR_OUTCOME is set: the dialplan sends the caller to its safe route.
                logger.error(
                    "FastAGI request for unknown script %r from %s", script, self.client_address
                )
                return
        except Exception:
            logger.exception("FastAGI call from %s failed", self.client_address)
        finally:
            self.server.call_ended()
            for stream in (writer, reader):
                try:
                    stream.close()
                except OSError:
                    pass


def serve(
    hotline: Hotline,
    host: str,
    port: int,
    ready: Callable[[FastAgiServer], None] | None = None,
    reload_interval: float = 1.0,
) -> None:
    """Serve until SIGTERM or SIGINT, then let calls in progress finish."""
    hotline.use_cases  # noqa: B018 - connect and check the schema before the first call
    server = FastAgiServer((host, port), hotline)
    reloader = FlowReloader(hotline.flow, load_hotline, hotline.install_flow, reload_interval)
    reloader.start()
    dispatcher = Dispatcher.for_hotline(hotline)
    dispatcher.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        logger.warning("signal %d: no new calls; waiting for %d in progress", signum, server.calls)
        threading.Thread(target=server.shutdown, name="fastagi-stop").start()

    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, stop)
    logger.warning("FastAGI listening on %s:%d", *server.address)
    if ready:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        dispatcher.stop()
        reloader.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        logger.warning("FastAGI stopped")
