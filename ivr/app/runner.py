"""The one process runner of ``ivr serve`` and ``ivr fastagi``: the phone systems' servers
(Asterisk's FastAGI server), the web console and JSON API under waitress when asked (a
pure-Python production WSGI server, a thread pool behind one event loop), the flow
reloader, and the dispatcher thread that hands waiting callers to free agents and dials
due callbacks.

The main thread runs waitress's loop (or, without web, just waits) and checks a flag
between turns, so SIGTERM or SIGINT only sets the flag (from the start to the end of
``run``: one while starting or stopping does not cut a call short); so does a server that
stops serving (a test's ``shutdown()``, a crash). Stopping then, in this order:

1. ``Parts.stopping`` is set (callers on hold, on every phone system, go to their safe
   route: the dialplan's on Asterisk), and every phone server takes no new calls; calls
   with an agent or in the menus go on;
2. the web server takes no new requests; those in progress end (up to ``REQUEST_GRACE``);
3. the dispatcher, then the reloader, stop (the reverse of their start);
4. the phone servers close, waiting for the calls in progress to finish;
5. the call records' versions still deferred are written (``CallRecorder.flush``).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.server import TcpWSGIServer, create_server

from ivr.app.bootstrap import Components, load_hotline
from ivr.app.channels import dispatcher_for
from ivr.app.config import WEB_THREADS
from ivr.app.dispatcher import Dispatcher
from ivr.app.logs import OncePer
from ivr.app.reloader import FlowReloader
from ivr.app.web_lanes import Lanes
from ivr.phone.channel import Channel, Server

logger = logging.getLogger(__name__)

# WEB_THREADS (ivr.app.config): password checks are bounded apart (ivr.web.guard), so most
# threads stay free for the other requests while clients guess passwords. The database
# pool counts them (ivr.app.bootstrap).
REQUEST_GRACE = 10
LOOP_TURN = 0.25  # seconds between looks at the stop flag
SERVER_POLL = 0.2  # seconds between a server's looks at its own stop flag
QUEUE_WARNING_EVERY = 60.0  # seconds: waitress's "Task queue depth" warning at most this often


@dataclass(frozen=True)
class Running:
    """Where the process listens (the ports asked for may have been 0): the web server,
    if any, and each channel's servers, by channel name."""

    web: tuple[str, int] | None
    servers: Mapping[str, Sequence[Server]]


class Stopped(threading.Event):
    """Set by SIGTERM/SIGINT (or a test) to stop ``run``."""


def run(
    hotline: Components,
    channels: Sequence[Channel],
    web: tuple[str, int] | None = None,
    dispatcher: bool = True,
    ready: Callable[[Running], None] | None = None,
    stop: Stopped | None = None,
    reload_interval: float = 1.0,
) -> None:
    """Serve ``channels`` (and the web console on ``web``, when given) until SIGTERM or
    SIGINT, ``stop`` or a server's end; then stop gracefully (the module's docstring)."""
    stop = stop or Stopped()
    previous = _on_signals(stop)  # from the start: a signal while starting stops gracefully
    try:
        _run(hotline, channels, web, dispatcher, ready, stop, reload_interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(
    hotline: Components,
    channels: Sequence[Channel],
    web: tuple[str, int] | None,
    dispatcher: bool,
    ready: Callable[[Running], None] | None,
    stop: Stopped,
    reload_interval: float,
) -> None:
    hotline.use_cases  # noqa: B018 - connect and check the schema before anything listens
    # Picks the dialer before anything listens: IVR_CALLBACKS_VIA may be refused.
    rounds = dispatcher_for(hotline, channels) if dispatcher else None
    sockets: dict[int, Any] = {}
    http = _web_server(hotline, channels, web, sockets) if web is not None else None
    threads = _Threads(stop)
    try:
        servers = {channel.name: threads.serve(channel) for channel in channels}
        threads.reloader(hotline, reload_interval)
        if rounds is not None:
            threads.dispatcher(rounds)
        running = Running(_address(http), servers)
        if running.web is not None:
            logger.info("web console on http://%s:%d/", *running.web)
        if ready:
            ready(running)
        while not stop.is_set():
            if http is None:
                stop.wait(LOOP_TURN)
            else:
                wasyncore.loop(timeout=LOOP_TURN, map=sockets, use_poll=True, count=1)
        logger.warning("stopping: no new requests or calls")
    finally:
        hotline.stopping.set()  # callers on hold go to their safe route, on every channel
        threads.no_new_calls()
        if http is not None:
            http.task_dispatcher.shutdown(cancel_pending=False, timeout=REQUEST_GRACE)
            wasyncore.close_all(sockets)
        threads.close()
        if "recorder" in hotline.__dict__:  # built: the calls' deferred record versions
            hotline.recorder.flush()
        logger.warning("stopped")


def _web_server(
    hotline: Components,
    channels: Sequence[Channel],
    address: tuple[str, int],
    sockets: dict[int, Any],
) -> TcpWSGIServer:
    """The web app, with each channel's routes, listening on ``address`` from now on."""
    from ivr.web import create_app  # only a process with a web server needs Flask
    from ivr.web.phone_app import webhook_prefixes

    blueprints = [bp for bp in (c.blueprint() for c in channels) if bp is not None]
    # Busy, waitress warns of its queue at every request it queues: once a minute is news
    queue_log = logging.getLogger("waitress.queue")
    if not any(isinstance(f, OncePer) for f in queue_log.filters):
        queue_log.addFilter(OncePer(QUEUE_WARNING_EVERY))
    app = create_app(hotline, blueprints=blueprints)
    # the webhooks on a lane of their own (ivr.app.web_lanes); waitress's one way in
    lanes = Lanes(webhook_prefixes(blueprints))
    lanes.set_thread_count(WEB_THREADS)
    http = create_server(
        app, map=sockets, host=address[0], port=address[1], threads=WEB_THREADS, _dispatcher=lanes
    )
    assert isinstance(http, TcpWSGIServer)  # one host and port: one listening socket
    return http


def _address(http: TcpWSGIServer | None) -> tuple[str, int] | None:
    if http is None:
        return None
    host, port = http.getsockname()  # numeric, so a port asked as 0 is known
    return host, int(port)


class _Threads:
    """The servers and threads started so far, stopped in reverse order."""

    def __init__(self, stop: Stopped) -> None:
        self.stop = stop
        self.servers: list[tuple[Server, threading.Thread]] = []
        self.closers: list[Callable[[], None]] = []

    def serve(self, channel: Channel) -> Sequence[Server]:
        """Run each of the channel's servers in a thread of its own."""
        servers = channel.servers()
        for server in servers:
            thread = threading.Thread(
                target=self._serve, args=(server,), name=f"{channel.name}-server"
            )
            thread.start()
            self.servers.append((server, thread))
        return servers

    def _serve(self, server: Server) -> None:
        try:
            server.serve_forever(poll_interval=SERVER_POLL)
        except Exception:
            logger.exception("a server failed; stopping")
        finally:
            self.stop.set()  # a server that ends stops the process

    def reloader(self, hotline: Components, interval: float) -> None:
        reloader = FlowReloader(hotline.flow, load_hotline, hotline.install_flow, interval)
        reloader.start()
        self.closers.append(reloader.stop)

    def dispatcher(self, dispatcher: Dispatcher) -> None:
        dispatcher.start()
        self.closers.append(dispatcher.stop)

    def no_new_calls(self) -> None:
        """Each server takes no new work (from this thread; each returns quickly)."""
        for server, _thread in reversed(self.servers):
            _quietly(server.shutdown)

    def close(self) -> None:
        """The threads in reverse order, then the servers: each waits for its work."""
        while self.closers:
            _quietly(self.closers.pop())
        while self.servers:
            server, thread = self.servers.pop()
            thread.join()
            _quietly(server.server_close)


def _quietly(step: Callable[[], None]) -> None:
    try:
        step()
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
