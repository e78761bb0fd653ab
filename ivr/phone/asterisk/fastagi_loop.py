"""FastAGI calls on one event loop, each call's blocking code in a greenlet of its own.

A call is the same blocking code as everywhere (``ivr.phone.call_loop`` over an
``AgiLine``), but where a call thread would block (the peer's next reply, a send the peer
does not read, the database's round trips, commits and pool) its greenlet waits on the
loop instead, and the loop runs another call meanwhile. One thread runs every call: no
thread switch, no contention for the interpreter lock, a few kilobytes a call.

The bridge is SQLAlchemy's (``greenlet_spawn`` and ``await_``): the same one its
asyncio drivers wait through, so a call's statements on an asyncio engine (the composition
root gives calls in a greenlet one, ``ivr.app.bootstrap``) wait on this loop too. What a
call must never do is block the thread outside the bridge for long: every wait of the
call path goes through it (``LoopLines``, ``LoopWriter``, the database), and what is left
is CPU (a PIN check's scrypt, about 2 ms), as a call thread's was. Calls woken by their
peer's line are woken a few a pass of the loop (``ivr.phone.asterisk.loop_gate``), so that
a call back from the database goes before the calls that hold no connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.util.concurrency import await_, greenlet_spawn

from ivr.phone.asterisk.fastagi_lines import SocketLines
from ivr.phone.asterisk.loop_gate import CALL, CallMark, LineRation

logger = logging.getLogger(__name__)

#: A call: its socket, and what the server needs to run it.
CallWork = Callable[..., None]


class LineProtocol(asyncio.Protocol):
    """A call's connection on the loop: bytes in as they arrive, and a reader that waits
    for them (``LoopLines``). It holds at most ``limit`` bytes not yet read: beyond that
    it stops reading the socket until the call has taken them. ``ration``: where the
    reader is woken for what arrived (None: at once); ``mark``: its call's."""

    def __init__(
        self, limit: int, ration: LineRation | None = None, mark: CallMark | None = None
    ) -> None:
        self.limit = limit
        self.ration = ration
        self.mark = mark
        self.transport: asyncio.Transport | None = None
        self.ended = False
        self._data = bytearray()
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._data += data
        if len(self._data) > self.limit and self.transport is not None:
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def _wake(self) -> None:
        if self._waiter is None or self._waiter.done():
            return
        if self.ration is None:
            self._waiter.set_result(None)
        else:
            self.ration.wake(self._woken, self.mark)

    def _woken(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def chunk(self, timeout: float | None) -> bytes:
        """What arrived (``b""``: the peer closed), after waiting up to ``timeout`` s for
        something (``TimeoutError``)."""
        if not self._data and not self.ended:
            try:
                async with asyncio.timeout(timeout):
                    while not self._data and not self.ended:  # a late wake-up: wait on
                        self._waiter = asyncio.get_running_loop().create_future()
                        await self._waiter
            finally:
                self._waiter = None
        return self._taken()

    def arrived(self) -> bytes | None:
        """What ``chunk`` would return at once, without waiting; None if it would wait."""
        if not self._data and not self.ended:
            return None
        return self._taken()

    def _taken(self) -> bytes:
        data = bytes(self._data)
        self._data.clear()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()
        return data

    @property
    def paused(self) -> bool:
        """Whether the transport's buffer is above its high-water mark (``writable``)."""
        return self._writable is not None

    async def writable(self) -> None:
        """Once the transport's buffer is below its high-water mark again."""
        if self._writable is not None:
            await self._writable


class LoopLines(SocketLines):
    """``SocketLines`` whose reads wait on the loop: a call's greenlet gives the thread
    up until its peer's bytes are in (``LineProtocol``)."""

    protocol: LineProtocol

    def _recv(self, timeout: float | None) -> bytes:
        data = self.protocol.arrived()  # already in: no wait
        return await_(self.protocol.chunk(timeout)) if data is None else data


class LoopWriter:
    """A call's writer: text kept until ``flush``, then handed to the transport, waiting
    on the loop while the peer does not read (its buffer above the high-water mark)."""

    def __init__(self, protocol: LineProtocol) -> None:
        self.protocol = protocol
        self._parts: list[str] = []

    def write(self, text: str, /) -> int:
        self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        transport = self.protocol.transport
        if not self._parts or transport is None:
            return
        if transport.is_closing():
            self._parts.clear()
            raise BrokenPipeError("the FastAGI peer closed the connection")
        transport.write("".join(self._parts).encode("utf-8"))
        self._parts.clear()
        if self.protocol.paused:  # else no wait, not even a pass of the loop
            await_(self.protocol.writable())

    def close(self) -> None:
        """Close the connection once what was written is sent."""
        self._parts.clear()
        if self.protocol.transport is not None:
            self.protocol.transport.close()


def connect(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    limit: int,
    ration: LineRation | None = None,
) -> LineProtocol:
    """The call's socket as a transport on ``loop`` (from the call's greenlet), its reader
    woken through ``ration`` (``CallLoop.ration``; None: at once)."""
    mark = CALL.get()
    _, protocol = await_(
        loop.connect_accepted_socket(lambda: LineProtocol(limit, ration, mark), sock)
    )
    return protocol


class CallLoop:
    """The loop's thread: ``submit(work, *args)`` runs ``work(loop, *args)`` in a
    greenlet of its own on the loop (its ``CallMark`` in ``CALL``); ``ration`` wakes the
    calls for their peers' lines; ``close()`` waits for every call to end, then stops the
    loop. A call's failure is ``work``'s to log; what escapes it is logged here."""

    def __init__(self, name: str = "fastagi-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self.ration = LineRation(self.loop)
        self._calls: set[asyncio.Task[None]] = set()
        self._closing = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, work: CallWork, *args: Any) -> None:
        """Start a call (from any thread). ``RuntimeError`` once closed."""
        if self.loop.is_closed():
            raise RuntimeError("the call loop is closed")
        self.loop.call_soon_threadsafe(self._start, work, args)

    def _start(self, work: CallWork, args: tuple[Any, ...]) -> None:
        task = self.loop.create_task(self._call(work, args))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _call(self, work: CallWork, args: tuple[Any, ...]) -> None:
        try:
            CALL.set(CallMark())  # in this call's task's own context, which its greenlet shares
            await greenlet_spawn(work, self.loop, *args)
        except Exception:
            logger.exception("FastAGI call failed on the loop")

    async def _drain(self, last: Callable[[], None] | None) -> None:
        while self._calls:
            await asyncio.gather(*list(self._calls), return_exceptions=True)
        if last is not None:
            try:
                await greenlet_spawn(last)
            except Exception:
                logger.exception("FastAGI: closing the call loop's resources failed")

    def close(self, last: Callable[[], None] | None = None) -> None:
        """Wait for the calls in progress, run ``last`` on the loop (in a greenlet: what
        the calls held there, such as an asyncio engine's connections, is closed where it
        was opened), then stop the loop and its thread."""
        with self._closing:  # a second caller waits for the first one's close
            if self.loop.is_closed():
                return
            asyncio.run_coroutine_threadsafe(self._drain(last), self.loop).result()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join()
            self.loop.close()
