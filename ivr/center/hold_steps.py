"""What a driver does at one tick of a caller's hold (``ivr.center.hold.tick``): the
steps, in the order it performs them, and the prompts and key they use. Pure values.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.center import lifecycle as lc

#: The key that asks for a callback while on hold.
CALLBACK_KEY = "1"
#: What a caller hears when the policy changes the wait.
NO_AGENTS, MAX_WAIT, CALL_LATER = "queue_no_agents", "queue_max_wait", "queue_call_later"


@dataclass(frozen=True)
class DialAgent:
    endpoint: str


@dataclass(frozen=True)
class Announce:
    position: int
    minutes: int  # 0: under a minute
    escape: str = ""


@dataclass(frozen=True)
class OfferCallback:
    escape: str = CALLBACK_KEY


@dataclass(frozen=True)
class StartCallback:
    """Begin the callback dialogue; ``stays``: the caller waits on if no callback comes
    of it (not so when nobody who could take the call is signed in)."""

    stays: bool = True


@dataclass(frozen=True)
class PlayHold:
    segment: str
    escape: str


@dataclass(frozen=True)
class Tell:
    prompt: str


@dataclass(frozen=True)
class GoTo:
    """Leave the queue for a node of the flow; ``why`` is the lifecycle's trigger."""

    node: str
    why: str = lc.Trigger.NO_AGENTS


@dataclass(frozen=True)
class GiveUp:
    """Nobody can take the call and no callback came of it: say so and end the call."""

    prompt: str = CALL_LATER
    why: str = lc.Trigger.NO_AGENTS


@dataclass(frozen=True)
class Leave:
    state: str


HoldStep = (
    DialAgent | Announce | OfferCallback | StartCallback | PlayHold | Tell | GoTo | GiveUp | Leave
)
