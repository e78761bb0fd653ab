"""Real database outages for tests, on both backends.

- PostgreSQL: ``TcpProxy`` sits in front of the server on loopback (one thread, a
  selector); the product connects through it. ``cut()`` drops every connection at once
  and refuses new ones (the listening socket is closed: connecting gets ECONNREFUSED);
  ``restore()`` listens again on the same port and forwards as before.
- SQLite: ``SqliteLock`` is another connection holding ``BEGIN EXCLUSIVE`` with a write
  in it: every writer of the product waits its busy timeout (``IVR_DB_BUSY_TIMEOUT``)
  and fails; readers still read (WAL), as they would from a file on a live disk.

``Outage.url`` is the database URL the product must use (through the proxy on
PostgreSQL); ``Outage.direct`` the URL the test reads through, which never goes down.
"""

from __future__ import annotations

import selectors
import socket
import sqlite3
import struct
import threading
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import make_url

CHUNK = 65536
#: SO_LINGER on, 0 seconds: close() resets the connection.
LINGER_RESET = struct.pack("ii", 1, 0)


class Switch(Protocol):
    def cut(self) -> None: ...

    def restore(self) -> None: ...

    def close(self) -> None: ...


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target``; ``cut()`` / ``restore()``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._lock = threading.Lock()
        self._pairs: dict[socket.socket, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._listen()
        self._thread = threading.Thread(target=self._run, name="outage-proxy", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.setblocking(False)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
            self._selector.register(listener, selectors.EVENT_READ, "accept")

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                self._selector.unregister(listener)
                listener.close()
            for sock in list(self._pairs):
                self._drop(sock)

    def restore(self) -> None:
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self.cut()
        self._stop.set()
        self._thread.join(5)
        self._selector.close()

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._pairs) // 2

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                idle = not self._selector.get_map()
            if idle:
                self._stop.wait(0.05)
                continue
            try:
                ready = self._selector.select(0.05)
            except (OSError, ValueError):
                continue  # a socket closed by cut() meanwhile
            for key, _ in ready:
                with self._lock:
                    if key.data == "accept":
                        self._accept(key.fileobj)  # type: ignore[arg-type]
                    elif key.fileobj in self._pairs:
                        self._pump(key.fileobj)  # type: ignore[arg-type]

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except OSError:
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(True)
            sock.settimeout(5)
        self._pairs[client], self._pairs[server] = server, client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _pump(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(CHUNK)
            if data:
                self._pairs[sock].sendall(data)
                return
        except OSError:
            pass
        self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        other = self._pairs.pop(sock, None)
        for each in (sock, other):
            if each is None:
                continue
            self._pairs.pop(each, None)
            try:
                self._selector.unregister(each)
            except (KeyError, ValueError):
                pass
            try:
                each.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                each.close()  # with linger 0: a reset, as when a server goes away
            except OSError:
                pass


class SqliteLock:
    """Another connection holding the database's write lock while cut."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._holder: sqlite3.Connection | None = None

    def cut(self) -> None:
        if self._holder is not None:
            return
        holder = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE IF NOT EXISTS outage_marker (x INTEGER)")
        self._holder = holder

    def restore(self) -> None:
        holder, self._holder = self._holder, None
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()

    def close(self) -> None:
        self.restore()


@dataclass
class Outage:
    """``url``: for the product; ``direct``: for the test's own reads; ``cut()`` and
    ``restore()`` the database as the product sees it."""

    url: str
    direct: str
    switch: Switch

    def cut(self) -> None:
        self.switch.cut()

    def restore(self) -> None:
        self.switch.restore()

    def close(self) -> None:
        self.switch.close()


def outage_for(url: str) -> Outage:
    """The outage handle for a test database (``sqlite:///...`` or PostgreSQL)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Outage(url, url, SqliteLock(parsed.database or ""))
    proxy = TcpProxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    through = parsed.set(host="127.0.0.1", port=proxy.port)
    return Outage(through.render_as_string(hide_password=False), url, proxy)
