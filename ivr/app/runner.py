"""``ivr serve``: the whole controller in one process. The web console and JSON API under
waitress (a pure-Python production WSGI server, a thread pool behind one event loop), the
FastAGI server for Asterisk, the flow reloader, and the dispatcher thread that hands
waiting callers to free agents and dials due callbacks.

The main thread runs waitress's loop and checks a flag between turns, so SIGTERM or SIGINT
only sets the flag. Stopping then takes no new calls or requests, lets the calls in
progress finish (FastAGI) and the requests in progress end (up to ``REQUEST_GRACE``)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.server import TcpWSGIServer, create_server

from ivr.app.bootstrap import Hotline, load_hotline
from ivr.app.config import WEB_THREADS
from ivr.app.reloader import FlowReloader
from ivr.phone.twilio.settings import TwilioSettings
from ivr.phone.twilio.webhooks import make_blueprint
from ivr.store.twilio_calls import TwilioCalls
from ivr.web import create_app

logger = logging.getLogger(__name__)

# WEB_THREADS (ivr.app.config): password checks are bounded apart (ivr.web.guard), so most
# threads stay free for the other requests while clients guess passwords. The database
# pool counts them (ivr.app.bootstrap).
REQUEST_GRACE = 10
LOOP_TURN = 0.25  # seconds between looks at the stop flag


@dataclass(frozen=True)
class Running:
    """Where the servers listen (the ports asked for may have been 0)."""

    web: tuple[str, int]
    fastagi: tuple[str, int] | None


class Stopped(threading.Event):
    """Set by SIGTERM/SIGINT (or a test) to stop ``serve``."""


def serve(
    hotline: Hotline,
    web: tuple[str, int],
    fastagi: tuple[str, int] | None,
    dispatcher: bool = True,
    ready: Callable[[Running], None] | None = None,
    stop: Stopped | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT (or ``stop`` is set), then stop gracefully."""
    hotline.use_cases  # noqa: B018 - connect and check the schema before anything listens
    stop = stop or Stopped()
    sockets: dict[int, Any] = {}
    twilio = TwilioSettings.of(hotline.settings)
    webhooks = make_blueprint(hotline, twilio, TwilioCalls(hotline.sessions))
    app = create_app(hotline, blueprints=(webhooks,))
    http = create_server(app, map=sockets, host=web[0], port=web[1], threads=WEB_THREADS)
    assert isinstance(http, TcpWSGIServer)  # one host and port: one listening socket
    stack = _Stack()
    try:
        agi_address = stack.fastagi(hotline, fastagi) if fastagi else None
        stack.reloader(hotline)
        if dispatcher:
            stack.dispatcher(hotline)
        previous = _on_signals(stop)
        try:
            host, port = http.getsockname()  # numeric, so a port asked as 0 is known
            running = Running((host, int(port)), agi_address)
            logger.info("web console on http://%s:%d/", *running.web)
            if ready:
                ready(running)
            while not stop.is_set():
                wasyncore.loop(timeout=LOOP_TURN, map=sockets, use_poll=True, count=1)
            logger.warning("stopping: no new requests or calls")
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        http.task_dispatcher.shutdown(cancel_pending=False, timeout=REQUEST_GRACE)
        wasyncore.close_all(sockets)
        stack.close()
        logger.warning("stopped")


class _Stack:
    """The servers and threads started so far, stopped in reverse order."""

    def __init__(self) -> None:
        self.closers: list[Callable[[], None]] = []

    def fastagi(self, hotline: Hotline, address: tuple[str, int]) -> tuple[str, int]:
        from ivr.phone.asterisk.fastagi import FastAgiServer

        server = FastAgiServer(address, hotline)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="fastagi"
        )
        thread.start()

        def close() -> None:
            logger.warning("FastAGI: no new calls; waiting for %d in progress", server.calls)
            server.shutdown()
            thread.join()
            server.server_close()  # waits for the calls in progress

        self.closers.append(close)
        return server.address

    def reloader(self, hotline: Hotline) -> None:
        reloader = FlowReloader(hotline.flow, load_hotline, hotline.install_flow, 1.0)
        reloader.start()
        self.closers.append(reloader.stop)

    def dispatcher(self, hotline: Hotline) -> None:
        from ivr.app.dispatcher import Dispatcher

        dispatcher = Dispatcher.for_hotline(hotline)
        dispatcher.start()
        self.closers.append(dispatcher.stop)

    def close(self) -> None:
        while self.closers:
            closer = self.closers.pop()
            try:
                closer()
            except Exception:
                logger.exception("while stopping")


def _on_signals(stop: Stopped) -> dict[signal.Signals, Any]:
    """SIGTERM and SIGINT set ``stop`` (only the main thread can take signals)."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def handle(signum: int, _frame: FrameType | None) -> None:
        logger.warning("signal %d: stopping", signum)
        stop.set()

    return {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
