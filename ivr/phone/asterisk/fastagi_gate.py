"""``WorkGate``: how many FastAGI call threads run Python at once.

Each call has a thread, and a call's thread spends nearly all its life waiting: for the
next reply from Asterisk, or for the database. When hundreds of replies arrive together (a
burst, or a load test whose fake Asterisk answers at once), hundreds of threads become
runnable and queue for the one interpreter lock, handing it to each other at every
system call, and a thread holding a database connection waits behind all of them between
two statements, until the pool runs dry. The gate lets ``slots`` call threads run at a
time; the others wait their turn, not runnable.

A call thread ``enter``s when its call starts and ``leave``s when it ends. Whenever it
waits, it steps out (``outside``, or ``step_out`` then ``step_in``): for its peer
(``SocketLines.readline``, a send the peer does not read) and for the database (a
statement's round trip, a commit, the writer lock, a connection from the pool: the hooks
of ``ivr.app.gate_waits`` and ``SqlUnitOfWork``). So a quiet call (a prompt playing, a
caller on hold, an agent talking) never holds a slot, and a database that stalls holds up
the calls waiting for it, not the others. Threads that never entered (the web's, the
dispatcher's) are not affected: stepping out and in is a no-op for them.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

#: Call threads running at once: twice the cores (measured at 300 calls on 2 cores: 2
#: slots 44 calls/s, 4 slots 48, no gate 37 with a p99 of seconds).
WORK_SLOTS = 2 * (os.cpu_count() or 1)


class FairSlots:
    """A semaphore that serves its waiters in order: a released slot goes to the thread
    that has waited longest, never to one that just arrived (``threading.Semaphore`` lets
    a newcomer take it first, and under load some threads waited seconds)."""

    def __init__(self, slots: int) -> None:
        self._lock = threading.Lock()
        self._free = slots
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1, first: bool = False) -> bool:
        """``first``: go to the head of the line (a thread in the middle of a transaction,
        holding a database connection, must not wait behind every new call)."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            if not blocking:
                return False
            turn = threading.Lock()
            turn.acquire()
            if first:
                self._waiters.appendleft(turn)
            else:
                self._waiters.append(turn)
        if turn.acquire(timeout=timeout):  # released by ``release``: the slot is ours
            return True
        with self._lock:
            if turn in self._waiters:  # still waiting: give up the place
                self._waiters.remove(turn)
                return False
        return True  # handed over as the wait ran out: ours all the same

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().release()  # straight to the longest waiter
            else:
                self._free += 1


class WorkGate:
    def __init__(self, slots: int = WORK_SLOTS) -> None:
        self.slots = slots
        self._slots = FairSlots(slots)
        self._local = threading.local()

    def enter(self) -> None:
        """This thread's call starts working: wait for a slot."""
        self._slots.acquire()
        self._local.held, self._local.away = True, False

    def leave(self) -> None:
        """This thread's call is over: its slot, if it holds one, goes to the next."""
        self._local.away = False
        if getattr(self._local, "held", False):
            self._local.held = False
            self._slots.release()

    def step_out(self) -> None:
        """About to wait: give the slot up until ``step_in`` (a no-op for a thread that
        holds none)."""
        if getattr(self._local, "held", False):
            self._local.held, self._local.away = False, True
            self._slots.release()

    def step_in(self, first: bool = False) -> None:
        """The wait is over: take a slot again if ``step_out`` gave one up; ``first``: at
        the head of the line (the database's waits: the thread holds a connection)."""
        if getattr(self._local, "away", False):
            self._slots.acquire(first=first)
            self._local.held, self._local.away = True, False

    @contextmanager
    def outside(self, first: bool = False) -> Iterator[None]:
        self.step_out()
        try:
            yield
        finally:
            self.step_in(first)

    def database_wait(self) -> AbstractContextManager[None]:
        """``outside`` for a wait on the database: back at the head of the line."""
        return self.outside(first=True)


#: The process's gate: every FastAGI server of the process, and the database hooks.
GATE = WorkGate()
