"""``LineRation``: the call loop's work gate, the event loop's analogue of ``fastagi_gate``.

Without it, every call whose peer has answered is in the loop's ready queue, and the loop
serves them in turn: a call in the middle of a transaction waits a whole pass of that
queue (every ready call's Python) for each round trip of its transaction, holding its
connection all that while, so under load the pool is what the database's steps queue for.

Theory of operation. A pass of the loop polls its sockets, then runs what became ready.
A slot gate as the threads have (``FairSlots``) would do nothing here: one thread runs
every call, and a call gives its slot back before the loop goes on, so a slot is always
free. What must be limited is how much work a pass takes on. The work that comes in
bulk is a peer's next line (hundreds of fake or real Asterisks answering at once); a
call's other waits (a round trip, a commit, a pooled connection, a PIN hashed off the
loop) end as few at a time as the calls holding connections. So a call woken by its
peer's line does not go on at once: it joins a line, and each pass of the loop wakes at
most ``LINES_PER_PASS`` calls from it, in order of arrival; everything else wakes as
asyncio wakes it. A call back from the database therefore waits a short pass (a few
calls' Python), not every ready call's, and holds its connection that much less; a call
holding a connection (``CallMark.first``: the loop engine's check-out and check-in,
``ivr.app.gate_waits``) is never put in the line, even for its peer.

A wake-up in the line is a callback, not a slot: a call that times out, is cancelled or
whose peer goes away while in the line leaves a wake-up that finds nothing to wake, and
no call ever holds anything the others wait for. Not a priority in the loop's ready
queue either: that is asyncio's own (a loop of our own), and a round trip's end is only
seen when the loop polls its sockets, once a pass, so it would still wait a full pass.
Measured at 300 calls on PostgreSQL (``bench/fastagi_peer.py``): the per-command p99
went from about 3 s to 0.6 s, calls/s and the CPU per call unchanged.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar

#: Calls a pass of the loop wakes for their peer's line. Each pass polls the sockets once:
#: more a pass, fewer polls; fewer a pass, a call back from the database waits less.
LINES_PER_PASS = 8


class CallMark:
    """What the loop knows of a call: ``first``, how many database connections it holds
    (while above zero, its peer's lines skip the line)."""

    __slots__ = ("first",)

    def __init__(self) -> None:
        self.first = 0


#: The call whose greenlet (or task) is running, set for each call by ``CallLoop``.
CALL: ContextVar[CallMark | None] = ContextVar("ivr_loop_call", default=None)


class LineRation:
    """Wakes calls for their peers' lines, at most ``per_pass`` a pass of ``loop``, in
    order of arrival (``wake``)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, per_pass: int = LINES_PER_PASS) -> None:
        self.loop = loop
        self.per_pass = per_pass
        self._line: deque[Callable[[], None]] = deque()
        self._armed = False

    @property
    def waiting(self) -> int:
        return len(self._line)

    def wake(self, waking: Callable[[], None], mark: CallMark | None = None) -> None:
        """Call ``waking`` in a coming pass (now if ``mark`` holds a connection)."""
        if mark is not None and mark.first > 0:
            waking()
            return
        self._line.append(waking)
        if not self._armed:
            self._armed = True
            self.loop.call_soon(self._pass)

    def _pass(self) -> None:
        """Once a pass while the line is not empty (``call_soon`` runs it in the next)."""
        line = self._line
        for _ in range(min(self.per_pass, len(line))):
            line.popleft()()
        if line:
            self.loop.call_soon(self._pass)
        else:
            self._armed = False
