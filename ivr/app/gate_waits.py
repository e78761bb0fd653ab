"""The database's waits outside the FastAGI work gate (``ivr.phone.asterisk.fastagi_gate``):
a call thread steps out of the gate for each statement's round trip and each commit or
rollback, and steps in again when the statement is back (or at its next wait's end: a
commit has no event after it). ``SqlUnitOfWork`` steps out around the writer lock and the
pool (``GATE.database_wait``). Back from the database, a thread goes to the head of the
gate's line: it holds a connection (and perhaps row locks) that others wait for. Threads
that hold no slot (web, dispatcher) are unaffected."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from ivr.phone.asterisk.fastagi_gate import WorkGate


def wait_outside(engine: Engine, gate: WorkGate) -> None:
    """Hook ``engine`` so that its round trips are waited for outside ``gate``."""

    def out(*_: Any, **__: Any) -> None:
        gate.step_out()

    def back(*_: Any, **__: Any) -> None:
        gate.step_in(first=True)  # in a transaction: ahead of the calls that are not

    event.listen(engine, "before_cursor_execute", out)
    event.listen(engine, "after_cursor_execute", back)
    event.listen(engine, "handle_error", back)
    event.listen(engine, "commit", out)
    event.listen(engine, "rollback", out)
