"""``WorkGate``: how many FastAGI calls run Python at once.

Each call has a thread, and a call's thread spends nearly all its life waiting for the
next reply from Asterisk. When hundreds of replies arrive together (a burst, or a load
test whose fake Asterisk answers at once), hundreds of threads become runnable and queue
for the one interpreter lock: a thread that holds a database connection then waits behind
all of them between its statements, holds the connection that much longer, and the pool
runs dry. The gate lets ``slots`` call threads run at a time; the others wait their turn
in order, not runnable. A thread leaves the gate whenever it waits for its peer
(``SocketLines.readline``) and enters again when the reply is in, so a quiet call (a
prompt playing, a caller on hold, an agent talking) never holds a slot. Nothing else a
call waits for needs a thread waiting at the gate (a unit of work never spans a command
sent to Asterisk), so the gate cannot deadlock with the pool or the PIN checks' slots.
"""

from __future__ import annotations

import threading

#: Call threads running at once: enough to keep both the database and the CPU busy (a
#: thread waits for the database with the gate held), few enough that a thread holding a
#: connection gets the interpreter back at once.
WORK_SLOTS = 16


class WorkGate:
    def __init__(self, slots: int = WORK_SLOTS) -> None:
        self.slots = slots
        self._slots = threading.BoundedSemaphore(slots)

    def enter(self) -> None:
        self._slots.acquire()

    def leave(self) -> None:
        self._slots.release()
