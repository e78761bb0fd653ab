"""One step of a blocking line: a session's actions done through the driver's one table
of performers (action type -> what the driver does), shared by every blocking driver.

The table is the driver's; the walk is this module's: a key typed ahead during the plays
(``act.typed_ahead_into``) is kept in the ``Turn`` for the closing ``Gather``, the first
performer that returns the caller's answer ends the step, and an ``Enqueue`` performed is
what the step ends in otherwise."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ivr.flow import actions as act
from ivr.flow.events import Event

L = TypeVar("L")


@dataclass
class Turn:
    """One step: the gather ahead that takes type-ahead, the key typed ahead, the
    ``Enqueue`` performed."""

    ahead: act.Gather | None
    typed: str = ""
    enqueued: act.Enqueue | None = None


#: What a driver does for one line action: may return the caller's answer.
Performer = Callable[[L, Any, Turn], Event | None]


def perform_step(
    line: L, actions: Sequence[act.Action], performers: Mapping[type, Performer[L]]
) -> Event | act.Enqueue | None:
    """Do ``actions`` on ``line``; the caller's answer to a closing ``Gather``, the
    ``Enqueue`` performed, or None (the flow ended)."""
    turn = Turn(act.typed_ahead_into(actions))
    for action in actions:
        performer = performers.get(type(action))
        if performer is None:  # RunAction: the session runs use cases itself
            raise TypeError(f"a driver cannot perform {action!r}")
        answer = performer(line, action, turn)
        if answer is not None:
            return answer
    return turn.enqueued
