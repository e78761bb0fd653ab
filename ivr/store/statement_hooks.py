"""Whether a statement may go to the database's driver directly, past SQLAlchemy.

A few statements run many times a second (the queue's claim, answer and finish; a Twilio
webhook's claim and save) and are sent to the DBAPI connection directly, because
SQLAlchemy's execution path cost more than they do (``statement_alone``,
``twilio_calls``). That path is also where the engine's statement hooks run. One hook
is always there: the FastAGI work gate's, which steps a call's thread out of the gate for
each round trip (``ivr.app.gate_waits``, installed through ``wait_around``); a direct
statement calls its two halves itself (``Waits``). Any other hook (a test's or a
profile's statement count, a tracer), and the engine's statement log when it is on
(``sqlalchemy.engine`` at INFO: an operator reading every statement), send every statement
down SQLAlchemy's path, where they see them all.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event


@dataclass(frozen=True)
class Waits:
    """What a direct statement calls around its round trip: ``out`` before it, ``back``
    when it returns or fails."""

    out: Callable[[], None]
    back: Callable[[], None]


NO_WAITS = Waits(lambda: None, lambda: None)
_WAITS: weakref.WeakKeyDictionary[Engine, Waits] = weakref.WeakKeyDictionary()


def wait_around(engine: Engine, waits: Waits) -> None:
    """Call ``waits.out`` before each of ``engine``'s statements and ``waits.back`` after
    it (or its error), whichever path it takes."""

    def out(*_: Any, **__: Any) -> None:
        waits.out()

    def back(*_: Any, **__: Any) -> None:
        waits.back()

    event.listen(engine, "before_cursor_execute", out)
    event.listen(engine, "after_cursor_execute", back)
    event.listen(engine, "handle_error", back)
    _WAITS[engine] = waits


def direct(engine: Engine) -> Waits | None:
    """The waits a direct statement on ``engine`` calls itself; None when something else
    listens to its statements or logs them (then the statement takes SQLAlchemy's path)."""
    if engine.logger.isEnabledFor(logging.INFO):
        return None
    waits = _WAITS.get(engine)
    own = 0 if waits is None else 1
    dispatch = engine.dispatch
    if len(dispatch.before_cursor_execute) > own or len(dispatch.after_cursor_execute) > own:
        return None
    return NO_WAITS if waits is None else waits
