"""The per-call AGI script's fast path: the call relayed to the controller's FastAGI server.

Theory of operation
-------------------
``agi_scripts/hotline.agi`` is a process Asterisk starts for each call. Building the engine
in it (SQLAlchemy, the flow, the store) costs hundreds of milliseconds of silence on the
line, while the controller (``ivr fastagi``, ``ivr serve``) holds all that already. So the
script first connects to the controller's FastAGI port (``IVR_FASTAGI_HOST`` and
``IVR_FASTAGI_PORT``; unset, 127.0.0.1 and 4573, the servers' default ``--listen``;
``IVR_FASTAGI_PORT=off``: never). Connected, it reads Asterisk's environment from stdin and
sends it on as FastAGI would (``agi_network: yes`` first, ``agi_network_script`` naming
the script of ``ivr.phone.asterisk.routes`` that the arguments name), then copies bytes
both ways until either side closes. Refused, or no answer within ``CONNECT_TIMEOUT``:
``relay`` returns None before reading anything, and the script runs the call in-process.

Asterisk's side is read in lines: the relay holds at most one environment
(``MAX_ENVIRONMENT_BYTES``, ``MAX_ENVIRONMENT_LINES``) and then one unfinished line
(``MAX_LINE_BYTES``), the FastAGI server's limits; what the controller sends is written
to stdout as it arrives. A SIGHUP (Asterisk: the caller hung up) becomes a ``HANGUP``
line between two lines, as Asterisk tells a FastAGI server. The controller closing the
connection, even mid-call, ends the script at once (status 0; a controller that died
left no ``IVR_OUTCOME``, so the dialplan takes its safe route); Asterisk closing stdin
ends it too (the controller sees its connection close: the caller left).

Only what a bare interpreter loads in a millisecond or two is imported here, never the rest
of ``ivr``: the limits and exit statuses repeat ``agi_environment``'s and ``agi_stdio``'s (a
test keeps them equal); ``_socket`` and ``_signal``, not ``socket`` and ``signal``, whose
enums (``enum``, ``functools``, ``collections``) and ``selectors`` cost as much CPU as the
interpreter's own start (``python -S -X importtime``).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # typeshed has no stub for it
import _socket
import os
import select
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 4573
#: Seconds to wait for the controller's port before running the call in-process.
CONNECT_TIMEOUT = 0.2
MAX_LINE_BYTES = 8192
MAX_ENVIRONMENT_BYTES = 65536
MAX_ENVIRONMENT_LINES = 512
HANDLED, BAD_INPUT, FAILED = 0, 2, 1
CHUNK = 65536
#: Characters of a script name or argument sent as they are (the rest: ``%XX``).
_PLAIN = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class Refused(Exception):
    """What Asterisk sent cannot be relayed (the message says why, never what)."""


def controller(env: Mapping[str, str]) -> tuple[str, int] | None:
    """The controller's FastAGI address, or None when the relay is off."""
    host = env.get("IVR_FASTAGI_HOST", "").strip() or DEFAULT_HOST
    text = env.get("IVR_FASTAGI_PORT", "").strip()
    if text.lower() == "off":
        return None
    if not text:
        return host, DEFAULT_PORT
    if text.isdigit() and 0 < int(text) < 65536:
        return host, int(text)
    _say(f"IVR_FASTAGI_PORT must be a port number or off, not {text[:20]!r}")
    return None


def connect(address: tuple[str, int], timeout: float = CONNECT_TIMEOUT) -> _socket.socket | None:
    """A connection to the controller, or None if it is not there."""
    host, port = address
    try:  # the host as bytes: a str goes through the "idna" codec (re, stringprep)
        found = _socket.getaddrinfo(host.encode(), port, 0, _socket.SOCK_STREAM)
    except OSError:  # no such host
        return None
    for family, kind, proto, _, where in found:
        sock = _socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(where)
        except OSError:  # refused, timed out, unreachable
            sock.close()
            continue
        sock.settimeout(None)
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)  # short lines, at once
        return sock
    return None


def relay(
    env: Mapping[str, str], hangups: list[int], stdin: int = 0, stdout: int = 1
) -> int | None:
    """The call run by the controller: the exit status; None when the controller is not
    there (nothing was read: the caller runs the call itself). ``hangups``: the SIGHUPs
    received (the script's handler appends to it)."""
    address = controller(env)
    if address is None:
        return None
    sock = connect(address)
    if sock is None:
        return None
    try:
        lines, rest = read_environment(stdin)
        sock.sendall(fastagi_environment(lines))
        return _Shuttle(sock, stdin, stdout, hangups).run(rest)
    except Refused as exc:
        _say(str(exc))
        return BAD_INPUT
    except ConnectionError:  # reset, broken pipe: it closed the call with bytes unread
        return HANDLED
    except OSError as exc:
        _say(f"the controller at {address[0]}:{address[1]} failed mid-call: {exc}")
        return FAILED
    finally:
        sock.close()


def read_environment(fd: int) -> tuple[list[bytes], bytes]:
    """Asterisk's environment lines, read within the limits, and the bytes that followed
    the blank line."""
    lines: list[bytes] = []
    buffer, size = b"", 0
    while True:
        end = buffer.find(b"\n")
        if end < 0:
            if len(buffer) > MAX_LINE_BYTES:
                raise Refused(f"stdin line {len(lines) + 1}: a line of over {MAX_LINE_BYTES} bytes")
            chunk = os.read(fd, CHUNK)
            if not chunk:
                raise Refused(
                    f"stdin line {len(lines) + 1}: the AGI environment ended before its blank line"
                )
            buffer += chunk
            continue
        line, buffer = buffer[: end + 1], buffer[end + 1 :]
        if not line.strip():
            return lines, buffer
        size += len(line)
        if len(line) > MAX_LINE_BYTES:
            raise Refused(f"stdin line {len(lines) + 1}: a line of over {MAX_LINE_BYTES} bytes")
        if size > MAX_ENVIRONMENT_BYTES:
            raise Refused(
                f"stdin line {len(lines) + 1}: an AGI environment of over "
                f"{MAX_ENVIRONMENT_BYTES} bytes"
            )
        if len(lines) >= MAX_ENVIRONMENT_LINES:
            raise Refused(f"stdin line {len(lines) + 1}: the AGI environment does not end")
        key, colon, _ = line.partition(b":")
        if not colon or not key.replace(b"_", b"a").isalnum() or key[:1].isdigit():
            raise Refused(f"stdin line {len(lines) + 1}: not an AGI environment line")
        lines.append(line)


def fastagi_environment(lines: list[bytes]) -> bytes:
    """What a FastAGI server expects: ``agi_network: yes``, the script's name and
    arguments (those of the per-call script's ``agi_arg_N``), Asterisk's lines, a blank."""
    args: list[tuple[int, str]] = []
    kept = []
    for line in lines:
        key, _, value = line.partition(b":")
        number = key.removeprefix(b"agi_arg_")
        if number != key and number.isdigit():
            text = value.rstrip(b"\r\n").removeprefix(b" ")
            args.append((int(number), text.decode("utf-8", "replace")))
        if not key.startswith(b"agi_network"):
            kept.append(line)
    script = network_script([value for _, value in sorted(args)])
    head = b"agi_network: yes\nagi_network_script: " + script.encode() + b"\n"
    return head + b"".join(kept) + b"\n"


def network_script(args: list[str]) -> str:
    """``agi_network_script`` for the per-call script's arguments, read as
    ``ivr.phone.asterisk.routes.request`` reads them: none is the hotline, the first names
    the script, the next ``key=value`` ones are its arguments."""
    if not args:
        return "hotline"
    pairs = [arg.split("=", 1) for arg in args[1:] if "=" in arg]
    query = "&".join(f"{_quoted(key)}={_quoted(value)}" for key, value in pairs)
    return _quoted(args[0]) + (f"?{query}" if query else "")


def _quoted(text: str) -> str:
    return "".join(chr(b) if b in _PLAIN else f"%{b:02X}" for b in text.encode("utf-8"))


class _Shuttle:
    """Bytes both ways until one side closes."""

    def __init__(self, sock: _socket.socket, stdin: int, stdout: int, hangups: list[int]) -> None:
        self.sock, self.stdin, self.stdout = sock, stdin, stdout
        self.hangups = hangups
        self.partial = bytearray()  # Asterisk's unfinished line
        self.hangup_sent = False

    def run(self, rest: bytes) -> int:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        previous = _signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
        try:
            self._from_asterisk(rest)
            return self._loop(wake_read)
        finally:
            _signal.set_wakeup_fd(previous)
            os.close(wake_read)
            os.close(wake_write)

    def _loop(self, wake: int) -> int:
        sock, fd = self.sock, self.sock.fileno()
        while True:
            ready = select.select([fd, self.stdin, wake], [], [])[0]
            if fd in ready:
                data = sock.recv(CHUNK)
                if not data:
                    return HANDLED  # the call is over, or the controller dropped it
                if not self._to_asterisk(data):
                    return HANDLED  # Asterisk closed our stdout: the call is gone
            if self.stdin in ready:
                data = os.read(self.stdin, CHUNK)
                if not data:
                    return HANDLED  # Asterisk ended the AGI (the caller left)
                self._from_asterisk(data)
            if wake in ready:
                os.read(wake, 512)
            self._hangup()

    def _from_asterisk(self, data: bytes) -> None:
        partial = self.partial
        partial += data
        end = partial.rfind(b"\n") + 1
        if end:
            self.sock.sendall(partial[:end])
            del partial[:end]
        if len(partial) > MAX_LINE_BYTES:
            raise Refused(f"stdin: a line of over {MAX_LINE_BYTES} bytes")
        self._hangup()

    def _hangup(self) -> None:
        """Tell the controller of a SIGHUP once, between two of Asterisk's lines."""
        if self.hangups and not self.hangup_sent and not self.partial:
            self.sock.sendall(b"HANGUP\n")
            self.hangup_sent = True

    def _to_asterisk(self, data: bytes) -> bool:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.stdout, view) :]
        except BrokenPipeError:
            return False
        return True


def _say(message: str) -> None:
    sys.stderr.write(f"hotline.agi ERROR: {message}\n")
    sys.stderr.flush()
