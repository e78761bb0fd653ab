"""The FastAGI server: the hotline over TCP, one call per connection, no process per call.

Threads, not asyncio: a call spends its life waiting on its socket or on the database (a
synchronous SQLAlchemy session), and a thread per call keeps the driver the same as the
per-call AGI script. A connection gets its thread only once its environment is in: until
then it waits in the intake (``ivr.phone.asterisk.fastagi_intake``), one thread for all of them.
Calls and waiting connections are capped (``FastAgiLimits``); beyond a cap, a connection
is closed, and Asterisk takes the dialplan's safe route. Routing is on
``agi_network_script`` (``agi://host:4573/hotline``, arguments after ``?`` allowed),
through the route table ``ivr.phone.asterisk.routes.ROUTES``. At most ``WORK_SLOTS`` call
threads run at once; a call waiting for Asterisk or the database holds no slot
(``ivr.phone.asterisk.fastagi_gate``).
Stopping (``shutdown()``, then ``server_close()``: the process runner, ``ivr.app.runner``,
on SIGTERM or Ctrl-C) stops accepting new calls, closes the connections still sending
their environment and waits for the calls in progress to finish.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.asterisk.agi_protocol import AgiEnvironment, shown
from ivr.phone.asterisk.fastagi_gate import GATE
from ivr.phone.asterisk.fastagi_intake import Intake
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits, fit_open_files
from ivr.phone.asterisk.fastagi_lines import CHUNK, GatedWriter, SocketLines
from ivr.phone.asterisk.fastagi_loop import CallLoop, LoopLines, LoopWriter, connect
from ivr.phone.asterisk.fastagi_refusals import Peer, Refusals, peer_text
from ivr.phone.asterisk.routes import ROUTES, BadRequest

if TYPE_CHECKING:
    from ivr.phone.channel import Parts

logger = logging.getLogger(__name__)

#: A peer silent for this long is gone (the longest prompt plus a gather is far shorter;
#: while Dial rings and bridges an agent the line is quiet, and has no timeout).
IDLE_TIMEOUT = 300.0
BACKLOG = 1024


class FastAgiServer:
    """Listens on ``address``; ``serve_forever()`` runs the intake in the calling thread,
    ``shutdown()`` (from another) stops it, ``server_close()`` then closes the socket and
    waits for the calls in progress. ``parts``: what the calls use of the process.
    ``limits``: its caps (the composition root's, from the process's settings)."""

    def __init__(
        self,
        address: tuple[str, int],
        parts: Parts,
        limits: FastAgiLimits,
        on_loop: bool = False,
    ) -> None:
        """``on_loop``: every call on one event loop, in a greenlet of its own
        (``ivr.phone.asterisk.fastagi_loop``), not a thread per call."""
        self.parts = parts
        self.limits = fit_open_files(limits)
        self.calls = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        # A burst of calls opens many connections at once: a long backlog, or the rest
        # wait for a SYN retransmission (1 s, then 3 s...).
        listener = socket.create_server(address, backlog=BACKLOG)
        self.refusals = Refusals()
        self.intake = Intake(listener, self.limits, self._hand_over, self.refusals)
        #: Call threads running at once (the rest wait for their peer, the database, or
        #: their turn): the process's one gate.
        self.gate = GATE
        self._threads: ThreadPoolExecutor | None = None
        self._loop: CallLoop | None = None
        if on_loop:
            self._loop = CallLoop()
        else:
            self._threads = ThreadPoolExecutor(self.limits.max_calls, "fastagi-call")

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.intake.listener.getsockname()[:2]
        return str(host), int(port)

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        """Accept connections and read their environments until ``shutdown()``."""
        self._idle.clear()
        try:
            self.intake.run(self._stop, poll_interval)
        finally:
            self._idle.set()

    def shutdown(self) -> None:
        """No new calls; callers on hold go to the dialplan's safe route within a hold
        segment (``ivr.phone.holding``), calls with an agent or in the menus finish."""
        self.parts.stopping.set()
        self._stop.set()
        self._idle.wait()

    def server_close(self) -> None:
        """Close the listening socket and the connections still sending their environment,
        then wait for the calls in progress."""
        self.intake.close()
        if self._threads is not None:
            self._threads.shutdown(wait=True)
        if self._loop is not None:
            self._loop.close(self.parts.call_loop_ended)

    def _hand_over(
        self, connection: socket.socket, peer: Peer, env: AgiEnvironment, rest: bytes
    ) -> None:
        with self._lock:
            busy = self.calls >= self.limits.max_calls
            if not busy:
                self.calls += 1
        if busy:
            self.refusals.note(  # before the close: logged by the time the peer sees it
                peer, f"all {self.limits.max_calls} calls busy (IVR_FASTAGI_MAX_CALLS)"
            )
            connection.close()
            return
        try:
            if self._loop is not None:
                self._loop.submit(self._call_on_loop, connection, peer, env, rest)
            else:
                assert self._threads is not None
                self._threads.submit(self._call, connection, peer, env, rest)
        except RuntimeError:  # stopping
            self._call_ended()
            connection.close()

    def _call_ended(self) -> None:
        with self._lock:
            self.calls -= 1

    def _call(
        self, connection: socket.socket, peer: Peer, env: AgiEnvironment, rest: bytes
    ) -> None:
        where = peer_text(peer)
        reader = SocketLines(connection, self.limits, IDLE_TIMEOUT, rest, where, self.gate)
        writer = GatedWriter(connection.makefile("w", encoding="utf-8", newline="\n"), self.gate)
        self.gate.enter()
        try:
            self._serve(where, env, reader, writer, (writer.close, connection.close))
        finally:
            self.gate.leave()

    def _call_on_loop(
        self,
        loop: asyncio.AbstractEventLoop,
        connection: socket.socket,
        peer: Peer,
        env: AgiEnvironment,
        rest: bytes,
    ) -> None:
        """A call in its greenlet on the call loop: no thread, no work gate; its peer's
        lines wake it a few a pass of the loop (``CallLoop.ration``)."""
        where = peer_text(peer)
        try:
            assert self._loop is not None
            protocol = connect(loop, connection, self.limits.max_line + CHUNK, self._loop.ration)
        except OSError as exc:  # gone between the intake and here
            logger.info("FastAGI call from %s gone before it began: %s", where, exc)
            self._call_ended()
            connection.close()
            return
        reader = LoopLines(connection, self.limits, IDLE_TIMEOUT, rest, where)
        reader.protocol = protocol
        writer = LoopWriter(protocol)
        self._serve(where, env, reader, writer, (writer.close,))

    def _serve(
        self,
        where: str,
        env: AgiEnvironment,
        reader: SocketLines,
        writer: GatedWriter | LoopWriter,
        closers: tuple[Callable[[], None], ...],
    ) -> None:
        try:
            line = AgiLine(reader, writer, env)

            def quiet(quiet: bool) -> None:
                reader.idle = None if quiet else IDLE_TIMEOUT

            line.quiet = quiet
            script = line.env.script
            if script not in ROUTES or not ROUTES.run(line, self.parts, "fastagi"):
                # No IVR_OUTCOME is set: the dialplan sends the caller to its safe route.
                logger.error("FastAGI request for unknown script %s from %s", shown(script), where)
        except BadRequest as exc:  # the dialplan's arguments: no outcome, the safe route
            logger.error("FastAGI request from %s refused: %s", where, exc)
        except Exception:
            logger.exception("FastAGI call from %s failed", where)
        finally:
            self._call_ended()
            for closing in closers:
                try:
                    closing()
                except OSError:
                    pass
