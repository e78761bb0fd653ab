"""The database's waits outside the FastAGI work gates.

Threads (``ivr.phone.asterisk.fastagi_gate``): a call thread steps out of the gate for each
statement's round trip and each commit or rollback, and steps in again when the statement
is back (or at its next wait's end: a commit has no event after it). ``SqlUnitOfWork``
steps out around the writer lock and the pool (``database_wait``). Back from the database,
a thread goes to the head of the gate's line: it holds a connection (and perhaps row
locks) that others wait for. Threads that hold no slot (web, dispatcher) are unaffected.

The call loop (``ivr.phone.asterisk.loop_gate``): a call's greenlet gives its slot up at
every wait by itself; what it needs from here is to be known as holding a connection
(``first_while_connected``: the loop engine's pool check-out and check-in) or waiting for
one (``database_wait``), so that it takes its slot back at the head of the line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from ivr.phone.asterisk.fastagi_gate import GATE, WorkGate
from ivr.phone.asterisk.loop_gate import current_call, first_meanwhile
from ivr.store.statement_hooks import Waits, wait_around

#: Where a connection record keeps the call greenlet that checked it out.
_HOLDER = "ivr_loop_call"


def wait_outside(engine: Engine, gate: WorkGate) -> None:
    """Hook ``engine`` so that its round trips are waited for outside ``gate`` (the
    statements sent past SQLAlchemy call the same two halves: ``statement_hooks``)."""

    def back() -> None:
        gate.step_in(first=True)  # in a transaction: ahead of the calls that are not

    wait_around(engine, Waits(gate.step_out, back))
    event.listen(engine, "commit", lambda *_: gate.step_out())
    event.listen(engine, "rollback", lambda *_: gate.step_out())


def first_while_connected(engine: Engine) -> None:
    """A call on the loop that has one of ``engine``'s connections checked out goes first
    at the loop's gate until it checks it in (from whichever greenlet or thread)."""

    @event.listens_for(engine, "checkout")
    def _holds(_dbapi: Any, record: Any, _proxy: Any) -> None:
        call = current_call()
        if call is not None:
            call.first += 1
            record.record_info[_HOLDER] = call  # kept if the connection is invalidated

    @event.listens_for(engine, "checkin")
    def _let_go(_dbapi: Any, record: Any) -> None:
        call = record.record_info.pop(_HOLDER, None)
        if call is not None:
            call.first -= 1


@contextmanager
def database_wait() -> Iterator[None]:
    """Around a unit of work's wait for the writer lock or a pooled connection: outside
    the thread gate, and first at the loop's gate when the wait is over."""
    with GATE.database_wait(), first_meanwhile():
        yield
