"""Lines from a FastAGI peer, never more of them than the limits allow.

``EnvironmentBuffer`` is bytes in, an environment out (no I/O): the intake feeds it what
each non-blocking read brought. ``SocketLines`` is the ``readline()`` a call's ``AgiLine``
reads replies with, over the blocking socket. Both read in chunks and refuse a line, or an
environment, as soon as it is longer than allowed, so they never hold more than a limit
plus one chunk; the error says which limit and how much arrived, never what.
"""

from __future__ import annotations

import socket
import time
from typing import TextIO

from ivr.phone.asterisk.agi_protocol import (
    AgiEnvironment,
    AgiPeerError,
    OverLimit,
    parse_environment,
)
from ivr.phone.asterisk.fastagi_gate import WorkGate
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits

#: Bytes asked of the socket per read.
CHUNK = 4096


class EnvironmentBuffer:
    """Collects one environment block: ``feed`` returns it once its blank line is in."""

    def __init__(self, limits: FastAgiLimits) -> None:
        self.limits = limits
        self.size = 0  #: bytes fed so far
        self.rest = b""  #: what followed the blank line (Asterisk sends nothing there)
        self._partial = bytearray()
        self._lines: list[str] = []

    def feed(self, data: bytes) -> AgiEnvironment | None:
        """The environment if ``data`` completed it, else None. Raises ``OverLimit``
        or ``AgiPeerError`` (not an environment)."""
        limits = self.limits
        self.size += len(data)
        self._partial += data
        while (end := self._partial.find(b"\n")) >= 0:
            raw = bytes(self._partial[: end + 1])
            del self._partial[: end + 1]
            if len(raw) > limits.max_line:
                raise OverLimit(
                    f"an environment line of {len(raw)} bytes (at most {limits.max_line})"
                )
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise AgiPeerError("an environment line that is not UTF-8", "") from None
            if line.strip() == "":
                self.rest = bytes(self._partial)
                self._partial.clear()
                return parse_environment(self._lines)
            if len(self._lines) >= limits.max_environment_lines:
                raise OverLimit(f"an environment of more than {limits.max_environment_lines} lines")
            self._lines.append(line)
        if len(self._partial) > limits.max_line:
            raise OverLimit(
                f"an environment line of over {limits.max_line} bytes "
                f"({len(self._partial)} bytes and no newline yet)"
            )
        if self.size > limits.max_environment:
            raise OverLimit(
                f"an environment of over {limits.max_environment} bytes "
                f"({self.size} bytes and no blank line yet)"
            )
        return None


class SocketLines:
    """``readline()`` over a blocking socket, for ``AgiLine``: ``""`` at end of input,
    ``OSError`` (``TimeoutError`` after ``idle`` seconds of silence) when the line is gone,
    ``OverLimit`` for a line too long or too slow to arrive."""

    def __init__(
        self,
        sock: socket.socket,
        limits: FastAgiLimits,
        idle: float | None,
        pending: bytes = b"",
        peer: str = "?",
        gate: WorkGate | None = None,
    ) -> None:
        """``pending``: bytes already read; ``peer``: named in errors; ``gate``: left while
        waiting for the peer, entered again once data is in (``WorkGate``)."""
        self.sock = sock
        self.gate = gate
        self.peer = peer
        self.limits = limits
        #: Seconds of silence before the peer counts as gone (None: wait for ever).
        self.idle = idle
        self._buffer = bytearray(pending)

    def readline(self) -> str:
        limits = self.limits
        started = time.monotonic()
        while (end := self._buffer.find(b"\n")) < 0:
            if len(self._buffer) > limits.max_line:
                raise OverLimit(
                    f"a line of over {limits.max_line} bytes from {self.peer} "
                    f"({len(self._buffer)} bytes and no newline yet)"
                )
            timeout, by_deadline = self.idle, False
            if self._buffer:  # a line has begun: it must end soon, whatever ``idle`` says
                left = limits.line_deadline - (time.monotonic() - started)
                if left <= 0:
                    raise OverLimit(
                        f"a line from {self.peer} still without its newline after "
                        f"{limits.line_deadline:g} s "
                        f"({len(self._buffer)} bytes)"
                    )
                if timeout is None or left <= timeout:
                    timeout, by_deadline = left, True
            else:
                started = time.monotonic()
            try:
                chunk = self._recv(timeout)
            except TimeoutError:
                if by_deadline:
                    continue  # the line's deadline, not the peer's silence: said above
                raise
            if not chunk:
                rest = bytes(self._buffer)
                self._buffer.clear()
                return rest.decode("utf-8")
            self._buffer += chunk
        line = bytes(self._buffer[: end + 1])
        del self._buffer[: end + 1]
        return line.decode("utf-8")

    def _recv(self, timeout: float | None) -> bytes:
        """One chunk (``b""`` at end of input), ``TimeoutError`` after ``timeout`` s."""
        self.sock.settimeout(timeout)
        if self.gate is None:
            return self.sock.recv(CHUNK)
        with self.gate.outside():
            return self.sock.recv(CHUNK)


class GatedWriter:
    """The call's writer (a socket's text file), sent with the gate left: a peer that does
    not read makes ``flush`` wait, and a waiting call must not hold a slot."""

    def __init__(self, writer: TextIO, gate: WorkGate) -> None:
        self.writer = writer
        self.gate = gate

    def write(self, text: str, /) -> int:
        return self.writer.write(text)

    def flush(self) -> None:
        with self.gate.outside():
            self.writer.flush()

    def close(self) -> None:
        self.writer.close()
