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
- ``Tell(prompt)``: say why the wait changes (``queue_no_agents``, ``queue_max_wait``);
- ``StartCallback``: go straight to the callback dialogue (``callback: only``, after
  hours; nobody signed in; the maximum wait reached);
- ``PlayHold(segment, escape)``: a short hold segment, ``escape`` ``"1"`` once a callback
  is on offer (pressing 1 then starts the callback dialogue);
- ``GoTo(node)``: the queue's policy sends the caller on: the driver ends the entry and
  the flow goes on at ``node`` (``Engine.divert``);
- ``GiveUp``: nobody can take the call and no callback was arranged: the driver ends the
  entry, says ``queue_call_later`` and ends the call;
- ``Leave(state)``: the entry is no longer waiting for this call (done elsewhere,
  abandoned, turned into a callback): the driver stops holding.

The queue's policy (``ivr.flow.model.QueuePolicy``), tick by tick:

- *Nobody signed in* (``Standing.staffed == 0``: no agent with the skill and the language
  is signed in): never an estimate for nobody. ``when_no_agents`` names a node: say so and
  go there. Otherwise say so and start the callback dialogue at once (``callback: only``
  starts it anyway, without the "nobody" prompt); with ``callback: never``, or once that
  offer was made and no callback came of it, ``GiveUp``.
- *Maximum wait* (``max_wait`` since the first tick of this hold): once, say so and go to
  ``on_max_wait``, or start the callback dialogue (with ``callback: never`` and no node,
  the caller keeps waiting: someone is signed in).
- *Announcements*: the first tick; then when ``estimates.should_announce`` sees a
  meaningful change, or ``announce_every`` seconds after the last one.

The steps are in ``hold_steps``, the policy (``Policy``, ``policy_for``) in
``hold_policy``. The same table serves AGI (``ivr.phone.holding``) and Twilio webhooks
(``ivr.phone.twilio.hold``, one tick per ``<Play>`` of a hold segment).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ivr.center import lifecycle as lc
from ivr.center.estimates import minutes, should_announce
from ivr.center.hold_policy import NEVER, OFFER, ONLY, Policy
from ivr.center.hold_steps import (
    CALLBACK_KEY,
    MAX_WAIT,
    NO_AGENTS,
    Announce,
    DialAgent,
    GiveUp,
    GoTo,
    HoldStep,
    Leave,
    OfferCallback,
    PlayHold,
    StartCallback,
    Tell,
)

#: Entry states during which the caller is still held (``ivr.center.lifecycle``).
HELD = lc.HELD


@dataclass(frozen=True)
class Standing:
    """Where the caller stands now."""

    state: str  # the entry's state: waiting, offered, connected, done, ...
    position: int
    estimate_seconds: int
    endpoint: str | None = None  # the agent's phone, when offered
    staffed: int = 1  # agents signed in who could take the call (skill and language)


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
    since: float | None = None  # the first tick (the driver's clock)
    max_wait_done: bool = False  # the max-wait rule has acted
    nobody_told: bool = False  # "nobody signed in" was said (and the callback offered)

    @property
    def escape(self) -> str:
        """The keys a hold segment listens for."""
        return CALLBACK_KEY if self.offer_made else ""


def callback_on_offer(policy: Policy, standing: Standing) -> bool:
    if policy.callback == ONLY:
        return True
    return policy.callback == OFFER and standing.estimate_seconds >= policy.offer_after


def tick(
    policy: Policy, state: HoldState, standing: Standing, now: float
) -> tuple[HoldState, list[HoldStep]]:
    """What to do now; the state to keep for the next tick."""
    if standing.state not in HELD:
        return state, [Leave(standing.state)]
    if standing.state == lc.OFFERED and standing.endpoint:
        return state, [DialAgent(standing.endpoint)]
    since = now if state.since is None else state.since
    state = replace(state, since=since)
    if standing.staffed <= 0 and policy.nobody_rule:
        return _nobody(policy, state)
    if policy.callback == ONLY and not state.callback_started:
        return replace(state, callback_started=True, offer_made=True), [StartCallback()]
    if not state.max_wait_done and now - since >= policy.max_wait:
        done = replace(state, max_wait_done=True)
        if policy.on_max_wait:
            return done, [Tell(MAX_WAIT), GoTo(policy.on_max_wait, lc.Trigger.MAX_WAIT)]
        if policy.callback != NEVER:
            return replace(done, offer_made=True), [Tell(MAX_WAIT), StartCallback()]
        state = done
    steps: list[HoldStep] = []
    said = Said(standing.position, standing.estimate_seconds, now)
    if state.said is None or _announce(policy, state.said, said, now):
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


def _nobody(policy: Policy, state: HoldState) -> tuple[HoldState, list[HoldStep]]:
    """No agent who could take the call is signed in (see the module's docstring)."""
    if policy.no_agents_node:
        return replace(state, nobody_told=True), [Tell(NO_AGENTS), GoTo(policy.no_agents_node)]
    if state.nobody_told or policy.callback == NEVER:
        told: list[HoldStep] = [] if state.nobody_told else [Tell(NO_AGENTS)]
        return replace(state, nobody_told=True), [*told, GiveUp()]
    first: list[HoldStep] = (
        [] if policy.callback == ONLY and not state.callback_started else [Tell(NO_AGENTS)]
    )
    state = replace(state, nobody_told=True, callback_started=True, offer_made=True)
    return state, [*first, StartCallback(stays=False)]


def _announce(policy: Policy, before: Said, now_said: Said, now: float) -> bool:
    since = now - before.at
    if policy.announce_every > 0 and since >= policy.announce_every:
        return True
    return should_announce(before, now_said, since)


def after_agent_missed(state: HoldState) -> HoldState:
    """The agent did not answer: the caller is back at the head of the line; say it anew."""
    return replace(state, said=None)


def _said_minutes(estimate_seconds: int) -> int:
    """Whole minutes rounded up; 0 ("under a minute") below a minute."""
    return 0 if estimate_seconds < 60 else minutes(estimate_seconds)
