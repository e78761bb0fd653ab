"""The FastAGI intake: one thread accepts every connection and reads its environment.

Theory of operation
-------------------
A connection holds no call thread until its environment is complete. The intake thread
keeps every connection still sending one in a selector, reads what arrives in chunks
(``EnvironmentBuffer`` refuses a line or a block over its limits at once) and cuts off a
connection silent for ``read_timeout`` seconds or without its blank line
``environment_deadline`` seconds after it was accepted (so a peer that drips a byte just
often enough is cut too). A complete environment is handed over (``hand_over``), with the
socket back in blocking mode; what happens to it then is the server's business.

Refusing is closing: Asterisk then takes the dialplan's safe route. A connection cut for
a limit gets one log line (the peer, the limit, how much or how long; never its bytes).
Connections refused for a cap (``max_pending`` here, busy call threads in the server) are
logged through ``Refusals`` (``ivr.phone.asterisk.fastagi_refusals``).
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ivr.phone.asterisk.agi_protocol import AgiEnvironment, AgiPeerError
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
from ivr.phone.asterisk.fastagi_lines import CHUNK, EnvironmentBuffer
from ivr.phone.asterisk.fastagi_refusals import Peer, Refusals, peer_text

logger = logging.getLogger(__name__)

#: ``hand_over(connection, peer, environment, bytes that followed the blank line)``.
HandOver = Callable[[socket.socket, Peer, AgiEnvironment, bytes], None]
#: Connections accepted per turn of the loop at most (the rest wait in the backlog).
ACCEPTS_PER_TURN = 256


@dataclass(eq=False)
class _Pending:
    sock: socket.socket
    peer: Peer
    accepted: float
    last_read: float
    buffer: EnvironmentBuffer = field(repr=False)


class Intake:
    """``run(stop)`` in one thread; ``close()`` after it returned."""

    def __init__(
        self,
        listener: socket.socket,
        limits: FastAgiLimits,
        hand_over: HandOver,
        refusals: Refusals,
    ) -> None:
        self.listener = listener
        self.limits = limits
        self.hand_over = hand_over
        self.refusals = refusals
        self._selector = selectors.DefaultSelector()
        self._pending: dict[socket.socket, _Pending] = {}
        listener.setblocking(False)
        self._selector.register(listener, selectors.EVENT_READ)

    @property
    def pending(self) -> int:
        """Connections still sending their environment."""
        return len(self._pending)

    def run(self, stop: threading.Event, poll_interval: float = 0.2) -> None:
        limits = self.limits
        tick = max(
            0.01, min(poll_interval, limits.read_timeout / 5, limits.environment_deadline / 5)
        )
        while not stop.is_set():
            for key, _events in self._selector.select(tick):
                if key.fileobj is self.listener:
                    self._accept()
                else:
                    self._read_guarded(key.data)
            self._expire(time.monotonic())

    def close(self) -> None:
        """Close the listening socket and every connection still waiting."""
        for pending in list(self._pending.values()):
            self._forget(pending)
        self._selector.close()
        self.listener.close()

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            try:
                sock, address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of files: the backlog keeps the rest
                self.refusals.note(None, f"cannot accept ({exc.strerror})")
                time.sleep(0.01)
                return
            peer: Peer = (str(address[0]), int(address[1]))
            if len(self._pending) >= self.limits.max_pending:
                # Logged before the close, so the log says it by the time the peer sees it.
                self.refusals.note(
                    peer,
                    f"{self.limits.max_pending} connections already waiting for their "
                    "environment (IVR_FASTAGI_MAX_PENDING)",
                )
                sock.close()
                continue
            sock.setblocking(False)
            # One short command, one short reply: without this, Nagle's algorithm and the
            # peer's delayed ACK hold each command back by tens of milliseconds.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            now = time.monotonic()
            pending = _Pending(sock, peer, now, now, EnvironmentBuffer(self.limits))
            self._pending[sock] = pending
            self._selector.register(sock, selectors.EVENT_READ, pending)

    def _read_guarded(self, pending: _Pending) -> None:
        """``_read``; a bug there costs one connection, never the intake."""
        try:
            self._read(pending)
        except Exception:
            logger.exception("FastAGI connection from %s failed", peer_text(pending.peer))
            if pending.sock in self._pending:
                self._forget(pending)
            else:
                pending.sock.close()

    def _read(self, pending: _Pending) -> None:
        try:
            data = pending.sock.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._cut(pending, f"the connection failed before its environment ({exc.strerror})")
            return
        if not data:
            self._cut(pending, "closed before its environment", logging.INFO)
            return
        pending.last_read = time.monotonic()
        try:
            environment = pending.buffer.feed(data)
        except AgiPeerError as exc:  # its reason only: the line may be anything at all
            self._cut(pending, exc.reason)
            return
        if environment is not None:
            self._forget(pending, close=False)
            pending.sock.setblocking(True)
            self.hand_over(pending.sock, pending.peer, environment, pending.buffer.rest)

    def _expire(self, now: float) -> None:
        limits = self.limits
        for pending in list(self._pending.values()):
            size = pending.buffer.size
            if now - pending.accepted > limits.environment_deadline:
                self._cut(
                    pending,
                    f"no complete environment {limits.environment_deadline:g} s after "
                    f"connecting ({size} bytes)",
                )
            elif now - pending.last_read > limits.read_timeout:
                self._cut(
                    pending,
                    f"silent for {limits.read_timeout:g} s before its environment ended "
                    f"({size} bytes)",
                )

    def _cut(self, pending: _Pending, why: str, level: int = logging.WARNING) -> None:
        if level != logging.INFO or pending.buffer.size:
            level = logging.WARNING
        logger.log(level, "FastAGI connection from %s closed: %s", peer_text(pending.peer), why)
        self._forget(pending)

    def _forget(self, pending: _Pending, close: bool = True) -> None:
        self._pending.pop(pending.sock, None)
        self._selector.unregister(pending.sock)
        if close:
            pending.sock.close()
