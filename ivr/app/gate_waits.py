"""The database's waits outside the FastAGI work gates.

Threads (``ivr.phone.asterisk.fastagi_gate``): a call thread steps out of the gate for each
statement's round trip and each commit or rollback, and steps in again when the statement
is back (or at its next wait's end: a commit has no event after it). ``SqlUnitOfWork``
steps out around the writer lock and the pool (``GATE.database_wait``). Back from the
database, a thread goes to the head of the gate's line: it holds a connection (and perhaps
row locks) that others wait for. Threads that hold no slot (web, dispatcher) are
unaffected.

The call loop (``ivr.phone.asterisk.loop_gate``): a call there is known to hold one of the
loop engine's connections from its check-out to its check-in (``first_while_connected``),
so that its peer's lines wake it at once, not a few a pass as the others.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from ivr.phone.asterisk.fastagi_gate import WorkGate
from ivr.phone.asterisk.loop_gate import CALL
from ivr.store.statement_hooks import Waits, wait_around

#: Where a connection record keeps the mark of the call that checked it out.
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
    """A call on the loop counts as holding a connection (``CallMark.first``) from its
    check-out of one of ``engine``'s to the check-in (from whichever task or thread)."""

    @event.listens_for(engine, "checkout")
    def _holds(_dbapi: Any, record: Any, _proxy: Any) -> None:
        call = CALL.get()
        if call is not None:
            call.first += 1
            record.record_info[_HOLDER] = call  # kept if the connection is invalidated

    @event.listens_for(engine, "checkin")
    def _let_go(_dbapi: Any, record: Any) -> None:
        call = record.record_info.pop(_HOLDER, None)
        if call is not None:
            call.first -= 1
