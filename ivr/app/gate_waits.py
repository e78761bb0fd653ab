"""The database's waits outside the FastAGI work gate (``ivr.phone.asterisk.fastagi_gate``):
a call thread steps out of the gate for each statement's round trip and each commit or
rollback, and steps in again when the statement is back (or at its next wait's end: a
commit has no event after it). ``SqlUnitOfWork`` steps out around the writer lock and the
pool (``GATE.database_wait``). Back from the database, a thread goes to the head of the
gate's line: it holds a connection (and perhaps row locks) that others wait for. Threads
that hold no slot (web, dispatcher) are unaffected."""

from __future__ import annotations

from sqlalchemy import Engine, event

from ivr.phone.asterisk.fastagi_gate import WorkGate
from ivr.store.statement_hooks import Waits, wait_around


def wait_outside(engine: Engine, gate: WorkGate) -> None:
    """Hook ``engine`` so that its round trips are waited for outside ``gate`` (the
    statements sent past SQLAlchemy call the same two halves: ``statement_hooks``)."""

    def back() -> None:
        gate.step_in(first=True)  # in a transaction: ahead of the calls that are not

    wait_around(engine, Waits(gate.step_out, back))
    event.listen(engine, "commit", lambda *_: gate.step_out())
    event.listen(engine, "rollback", lambda *_: gate.step_out())
