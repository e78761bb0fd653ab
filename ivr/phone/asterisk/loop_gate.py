"""``LoopGate``: the call loop's work gate, the event loop's analogue of ``fastagi_gate``.

Without it, every call whose peer has answered is in the loop's ready queue, and the loop
serves them in turn: a call in the middle of a transaction waits a whole pass of that
queue (every ready call's Python) for each round trip of its transaction, holding its
connection all that while, so under load the pool is what the database's steps queue for.

Theory of operation. A call's greenlet runs its Python only while it holds one of a few
slots. The gate sits where the call waits: in ``run_gated``, the greenlet bridge itself
(SQLAlchemy's ``greenlet_spawn`` loop, with the slot given up around each ``await``). So
every wait of a call (its peer's next line, a send the peer does not read, a round trip,
a commit, a pooled connection, a PIN hashed off the loop, a pause) gives the slot up,
without a hook per kind of wait, and a call whose wait is over takes a slot again before
its greenlet goes on. A call whose ``first`` count is above zero (it holds a database
connection: the pool's check-out and check-in, ``ivr.app.gate_waits``; or it waits for
one) takes it before every call that holds none; each kind queues in order of arrival. The loop's
ready queue then holds a few slot holders and the cheap wake-ups of calls that only join
the line, and a call back from the database waits for one slot, not for every ready call.

Why not a priority in the loop's ready queue: a round trip's end is only seen when the
loop polls its sockets, once per pass, so a call's place in the queue would still wait a
full pass; the gate makes the passes short. A slot is never held across an ``await``, so
a call that is cancelled, fails or whose peer goes away holds none unless it is running;
``run_gated`` gives back the one it holds when the call's greenlet ends, however it ends.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from greenlet import getcurrent, greenlet

T = TypeVar("T")

#: Calls running their Python at once. One thread runs them all: more slots only make the
#: loop poll its sockets less often, fewer make a call back from the database wait less.
LOOP_SLOTS = 4


class LoopGate:
    """Fair slots on one event loop: ``take`` waits in order of arrival, ``give`` hands
    the slot straight to the next in line. Two lines: ``first`` takers (calls holding a
    connection) are all served before the others, each line in order of arrival (a
    single line with the first ones put at its head would serve them last come, first
    served, and under load some held their connection for seconds)."""

    def __init__(self, slots: int = LOOP_SLOTS) -> None:
        self.slots = slots
        self.free = slots
        self._first: deque[asyncio.Future[None]] = deque()
        self._rest: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._first) + len(self._rest)

    async def take(self, first: bool = False) -> None:
        if self.free and not (self._first or self._rest):
            self.free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._first if first else self._rest
        line.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn in line:
                line.remove(turn)
            elif turn.done() and not turn.cancelled():
                self.give()  # handed over as the call was cancelled: to the next one
            raise

    def give(self) -> None:
        for line in (self._first, self._rest):
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self.free += 1


class CallGreenlet(greenlet):  # type: ignore[misc]
    """A call's greenlet: SQLAlchemy's ``await_`` works in it (the same marker as its own
    greenlets), and ``first`` says how many reasons it has to go first (connections held,
    a wait for one)."""

    __sqlalchemy_greenlet_provider__ = True

    def __init__(self, fn: Callable[..., Any], driver: greenlet) -> None:
        super().__init__(fn, driver)
        self.gr_context = driver.gr_context
        self.first = 0


async def run_gated(gate: LoopGate, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a ``CallGreenlet``, its Python run only while it holds a slot of
    ``gate``: SQLAlchemy's ``greenlet_spawn``, with the slot given up around each wait."""
    call = CallGreenlet(fn, getcurrent())
    await gate.take()
    held = True
    try:
        result = call.switch(*args)
        while not call.dead:
            if held:
                gate.give()
                held = False
            failure: BaseException | None = None
            try:
                value = await result
            except BaseException as exc:  # handed to the call, as ``greenlet_spawn`` does
                failure = exc
            try:
                await gate.take(call.first > 0)
                held = True
            except asyncio.CancelledError as exc:  # killed in line: it ends without a slot
                failure = exc
            if failure is None:
                result = call.switch(value)
            else:
                result = call.throw(type(failure), failure, failure.__traceback__)
        return result  # type: ignore[no-any-return]
    finally:
        if held:
            gate.give()


def current_call() -> CallGreenlet | None:
    """The call whose greenlet is running, if any."""
    current = getcurrent()
    return current if isinstance(current, CallGreenlet) else None


@contextmanager
def first_meanwhile() -> Iterator[None]:
    """The running call (if any) goes first after the waits inside: a wait for a pooled
    connection, which it will hold when the wait is over."""
    call = current_call()
    if call is None:
        yield
        return
    call.first += 1
    try:
        yield
    finally:
        call.first -= 1
