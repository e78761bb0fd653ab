"""A caller on hold for a person: what to do at each tick of the wait (pure, no I/O).

Theory of operation
-------------------
The database queue decides who is next, so a driver holds its caller itself and asks this
module, between short stretches of hold music, what to do next. A *tick* is: the driver
reads where the caller stands (``Standing``, from ``ContactCenter.place``), calls
``tick(policy, state, standing, now)`` and performs the steps it gets back, in order:

- ``DialAgent(endpoint)``: the entry was offered to an agent: ring the agent's phone now;
- ``Announce(position, minutes)``: say the place in line and the estimate (``minutes`` 0:
  "under a minute"), only when ``estimates.should_announce`` says it changed meaningfully;
- ``OfferCallback``: say "press 1 at any time" (once, and again with each announcement);
- ``StartCallback``: ``callback: only`` (after hours): go straight to the callback dialogue;
- ``PlayHold(segment, escape)``: a short hold segment, ``escape`` ``"1"`` once a callback
  is on offer (pressing 1 then starts the callback dialogue);
- ``Leave(state)``: the entry is no longer waiting for this call (done elsewhere,
  abandoned, turned into a callback): the driver stops holding.

The same table serves AGI (``ivr.channels.waiting``) and, later, Twilio webhooks (one tick
per ``<Play>`` of a hold segment). Callback dialogue helpers (``dialable``, ``last4``) are
here for the same reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ivr.center import lifecycle as lc
from ivr.services.estimates import minutes, should_announce

OFFER, ONLY, NEVER = "offer", "only", "never"
#: Entry states during which the caller is still held (``ivr.center.lifecycle``).
HELD = lc.HELD
#: The key that asks for a callback while on hold.
CALLBACK_KEY = "1"
#: Hold music segments (``STREAM FILE moh/hold-1`` ...), about 3 seconds each.
SEGMENTS = ("moh/hold-1", "moh/hold-2")
#: A number we can call back: digits, a leading + allowed.
_DIALABLE = re.compile(r"\+?[0-9]{3,15}")


@dataclass(frozen=True)
class Policy:
    """How a queue node holds its callers."""

    callback: str = OFFER  # offer | only | never
    offer_after: float = 120.0  # offer a callback once the estimate reaches this (seconds)
    segments: tuple[str, ...] = SEGMENTS


@dataclass(frozen=True)
class Standing:
    """Where the caller stands now."""

    state: str  # the entry's state: waiting, offered, connected, done, ...
    position: int
    estimate_seconds: int
    endpoint: str | None = None  # the agent's phone, when offered


@dataclass(frozen=True)
class Said:
    """The last announcement: what was said and when (seconds, the driver's clock)."""

    position: int
    estimate_seconds: int
    at: float


@dataclass(frozen=True)
class HoldState:
    said: Said | None = None
    offer_made: bool = False
    callback_started: bool = False
    segment: int = 0

    @property
    def escape(self) -> str:
        """The keys a hold segment listens for."""
        return CALLBACK_KEY if self.offer_made else ""


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
    pass


@dataclass(frozen=True)
class PlayHold:
    segment: str
    escape: str


@dataclass(frozen=True)
class Leave:
    state: str


Step = DialAgent | Announce | OfferCallback | StartCallback | PlayHold | Leave


def callback_on_offer(policy: Policy, standing: Standing) -> bool:
    if policy.callback == ONLY:
        return True
    return policy.callback == OFFER and standing.estimate_seconds >= policy.offer_after


def tick(
    policy: Policy, state: HoldState, standing: Standing, now: float
) -> tuple[HoldState, list[Step]]:
    """What to do now; the state to keep for the next tick."""
    if standing.state not in HELD:
        return state, [Leave(standing.state)]
    if standing.state == lc.OFFERED and standing.endpoint:
        return state, [DialAgent(standing.endpoint)]
    steps: list[Step] = []
    if policy.callback == ONLY and not state.callback_started:
        return replace(state, callback_started=True, offer_made=True), [StartCallback()]
    said = Said(standing.position, standing.estimate_seconds, now)
    if state.said is None or should_announce(state.said, said, now - state.said.at):
        minutes_said = _said_minutes(said.estimate_seconds)
        steps.append(Announce(said.position, minutes_said, state.escape))
        state = replace(state, said=said)
        if state.offer_made:
            steps.append(OfferCallback())  # a reminder with each announcement
    if not state.offer_made and callback_on_offer(policy, standing):
        steps.append(OfferCallback())
        state = replace(state, offer_made=True)
    segment = policy.segments[state.segment % len(policy.segments)]
    steps.append(PlayHold(segment, state.escape))
    return replace(state, segment=state.segment + 1), steps


def after_agent_missed(state: HoldState) -> HoldState:
    """The agent did not answer: the caller is back at the head of the line; say it anew."""
    return replace(state, said=None)


def _said_minutes(estimate_seconds: int) -> int:
    """Whole minutes rounded up; 0 ("under a minute") below a minute."""
    return 0 if estimate_seconds < 60 else minutes(estimate_seconds)


# -- the callback dialogue ------------------------------------------------------------------


def dialable(number: str) -> bool:
    """Whether a caller id (or a typed number) can be called back."""
    return _DIALABLE.fullmatch(number.strip()) is not None


def last4(number: str) -> str:
    return number.strip()[-4:]
