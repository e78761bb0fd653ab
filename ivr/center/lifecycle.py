"""The lifecycle of the contact center: one table of every state change of a queue entry
(and the offer it carries), an agent and a callback (pure: no I/O).

Theory of operation
-------------------
Rule 1 (as in h11's ``_state.py``): everything that moves an entry, an agent or a
callback from one state to another must be in ``TRANSITIONS`` below; the services look
the move up here (``next_state``) and the repositories' compare-and-set updates name the
states a move may start from (``sources``), so two processes racing over one row cannot
both win and neither can make a move the table does not list.

Three machines, each with its own states (the strings the database holds):

- **entry**: a caller (or a callback request) in line. ``waiting`` -> ``offered`` (to one
  agent; the *offer*) -> ``connected`` (talking) -> ``done``; or ``abandoned``, ``failed``,
  ``expired``. ``resumed`` is a callback entry whose code was typed by the caller phoning
  back, held for that call to take it over.
- **agent**: ``offline``, ``available``, ``ringing`` (an entry is offered to them),
  ``on_call``, ``wrap_up``, ``missed`` (an offer rang out: they are not offered
  another call until they say they are available) and ``paused`` (signed in, taking no
  calls, for a reason: ``PAUSE_REASONS`` in ``ivr.services.contact_agents``). Pausing while
  ringing withdraws the offer, as going offline does; on a call it is refused (the agent
  pauses from wrap-up).
- **callback**: ``waiting`` -> ``dialing`` -> ``connected`` -> ``done``; or ``failed``,
  ``expired``, ``cancelled`` (the caller phoned back with the code).

One trigger may move several machines at once (``ring_timeout`` puts the entry back in
line and the agent in ``missed``); each machine's row names its own move. Every rule also
says who may cause it (``Actor``): the caller, the *holder* (the process holding the
caller: an AGI process, a FastAGI thread, a Twilio wait loop), the agent, a supervisor,
the dispatcher, the dialler (callbacks) or the reaper (leases and ring timeouts).

A callback entry carries a lease too, from the moment its attempt is claimed for
dialling: the dialler's lease covers the customer's phone ringing; once they answer, the
process holding them renews it as for a live caller. If it runs out while ``dialing``
(nobody reported the attempt's end) the reaper counts a failed attempt
(``callback_lapsed``, or ``callback_lapsed_last``); once the customer was ``connected``
to our call, it is an abandoned wait (``lease_expired``).

Moves to the same state (an available agent saying "available") are not transitions: the
services treat them as nothing to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ivr.errors import IvrError

# -- machines ------------------------------------------------------------------------------
ENTRY, AGENT, CALLBACK = "entry", "agent", "callback"
MACHINES = (ENTRY, AGENT, CALLBACK)

# -- entry states ---------------------------------------------------------------------------
WAITING, OFFERED, CONNECTED, DONE = "waiting", "offered", "connected", "done"
ABANDONED, FAILED, EXPIRED = "abandoned", "failed", "expired"
#: A callback entry whose code was typed by the caller phoning back: held (not offered)
#: until that call reaches the queue and takes it over.
RESUMED = "resumed"
#: Entry kinds (not states): a live call, or a callback request.
CALL, KIND_CALLBACK = "call", "callback"

# -- agent states ---------------------------------------------------------------------------
OFFLINE, AVAILABLE, RINGING, ON_CALL, WRAP_UP = (
    "offline",
    "available",
    "ringing",
    "on_call",
    "wrap_up",
)
#: An offer rang out (no answer, ring timeout): not offered again until they say available.
MISSED = "missed"
#: Signed in but taking no calls, for a reason (a break, training...).
PAUSED = "paused"

# -- callback states ------------------------------------------------------------------------
CB_WAITING, CB_DIALING, CB_CONNECTED, CB_DONE = "waiting", "dialing", "connected", "done"
CB_FAILED, CB_EXPIRED, CB_CANCELLED = "failed", "expired", "cancelled"


class Trigger:
    """What happened (the column of the table)."""

    OFFER = "offer"  # an agent is offered the entry (dispatch, claim, call now)
    ANSWER = "answer"  # the agent picked up
    FINISH = "finish"  # the talk is over
    NOT_ANSWERED = "not_answered"  # the holder's Dial ended without an answer
    HANG_UP = "hang_up"  # the caller left before talking
    CALLBACK_REQUESTED = "callback_requested"
    CALLBACK_DIALLED = "callback_dialled"
    CALLBACK_ANSWERED = "callback_answered"
    CALLBACK_FAILED = "callback_failed"  # no answer: try again later
    CALLBACK_GAVE_UP = "callback_gave_up"  # no answer on the last attempt
    CALLBACK_EXPIRED = "callback_expired"
    RESUME = "resume"  # the caller phoned back with the callback's code
    TAKE_OVER = "take_over"  # that call reached the queue and took the place over
    AVAILABLE = "available"  # the agent says they take calls
    OFFLINE = "offline"  # the agent (or a supervisor) stops them taking calls
    NOTE_WRITTEN = "note_written"  # the disposition of the call is written
    LEASE_EXPIRED = "lease_expired"  # the holder stopped renewing: it is gone
    #: A callback's dial attempt whose lease ran out with nobody reporting its end (the
    #: dialler died, the failure report never came): a failed attempt, tried again later...
    CALLBACK_LAPSED = "callback_lapsed"
    #: ...or, on the last attempt, the callback has failed.
    CALLBACK_LAPSED_LAST = "callback_lapsed_last"
    RING_TIMEOUT = "ring_timeout"  # the offer rang longer than the queue allows
    MAX_WAIT = "max_wait"  # the caller waited the queue's longest wait: routed elsewhere
    NO_AGENTS = "no_agents"  # nobody who can take the call is signed in
    FORCED_OFFLINE = "forced_offline"  # offline while ringing or on a call
    PAUSE = "pause"  # the agent (or a supervisor) pauses them, with a reason


class Actor:
    """Who may cause a transition."""

    CALLER = "caller"
    HOLDER = "holder"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    DIALLER = "dialler"
    REAPER = "reaper"


ACTORS = frozenset(v for k, v in vars(Actor).items() if k.isupper())
TRIGGERS = frozenset(v for k, v in vars(Trigger).items() if k.isupper())


class IllegalTransition(IvrError):
    """A move the table does not list (or not for this actor)."""

    def __init__(self, machine: str, state: str, trigger: str, actor: str | None = None) -> None:
        self.machine, self.state, self.trigger, self.actor = machine, state, trigger, actor
        by = f" by {actor}" if actor else ""
        super().__init__(f"{machine} in state {state!r}: no transition on {trigger!r}{by}")


@dataclass(frozen=True)
class Transition:
    """One row: ``machine`` in ``source`` on ``trigger`` goes to ``target``; ``actors``
    may cause it."""

    machine: str
    source: str
    trigger: str
    target: str
    actors: frozenset[str]


def _rules(
    machine: str, sources: Iterable[str], trigger: str, target: str, *actors: str
) -> list[Transition]:
    return [Transition(machine, s, trigger, target, frozenset(actors)) for s in sources]


T, A = Trigger, Actor
_HELD = (WAITING, OFFERED)
_CALLBACK_LIVE = (CB_DIALING, CB_CONNECTED)

#: Every transition (Rule 1: nothing moves any other way).
TRANSITIONS: tuple[Transition, ...] = tuple(
    rule
    for rules in (
        # -- entry: the caller in line, and the offer ---------------------------------------
        _rules(ENTRY, [WAITING], T.OFFER, OFFERED, A.DISPATCHER, A.AGENT),
        _rules(ENTRY, [WAITING], T.CALLBACK_REQUESTED, WAITING, A.CALLER),
        _rules(ENTRY, [WAITING], T.RESUME, RESUMED, A.CALLER),
        _rules(ENTRY, [WAITING], T.MAX_WAIT, ABANDONED, A.HOLDER),
        _rules(ENTRY, [WAITING], T.NO_AGENTS, ABANDONED, A.HOLDER),
        _rules(ENTRY, [RESUMED], T.TAKE_OVER, WAITING, A.CALLER, A.HOLDER),
        _rules(ENTRY, [*_HELD, RESUMED], T.HANG_UP, ABANDONED, A.CALLER, A.HOLDER),
        _rules(ENTRY, [*_HELD, RESUMED], T.LEASE_EXPIRED, ABANDONED, A.REAPER),
        _rules(
            ENTRY, _HELD, T.CALLBACK_EXPIRED, EXPIRED, A.DISPATCHER, A.DIALLER, A.CALLER, A.AGENT
        ),
        _rules(ENTRY, [OFFERED], T.ANSWER, CONNECTED, A.HOLDER, A.AGENT),
        _rules(ENTRY, [OFFERED], T.NOT_ANSWERED, WAITING, A.HOLDER),
        _rules(ENTRY, [OFFERED], T.RING_TIMEOUT, WAITING, A.REAPER),
        _rules(ENTRY, [OFFERED], T.FORCED_OFFLINE, WAITING, A.AGENT, A.SUPERVISOR),
        _rules(ENTRY, [OFFERED], T.PAUSE, WAITING, A.AGENT, A.SUPERVISOR),
        _rules(ENTRY, [OFFERED], T.CALLBACK_FAILED, WAITING, A.DIALLER),
        _rules(ENTRY, [OFFERED], T.CALLBACK_GAVE_UP, FAILED, A.DIALLER),
        _rules(ENTRY, [OFFERED], T.CALLBACK_LAPSED, WAITING, A.REAPER),
        _rules(ENTRY, [OFFERED], T.CALLBACK_LAPSED_LAST, FAILED, A.REAPER),
        _rules(ENTRY, [CONNECTED], T.FINISH, DONE, A.HOLDER, A.CALLER, A.AGENT),
        _rules(ENTRY, [CONNECTED], T.FORCED_OFFLINE, DONE, A.AGENT, A.SUPERVISOR),
        # -- agent ----------------------------------------------------------------------
        _rules(AGENT, [OFFLINE, WRAP_UP, MISSED, PAUSED], T.AVAILABLE, AVAILABLE, A.AGENT),
        _rules(
            AGENT, [AVAILABLE, WRAP_UP, MISSED, PAUSED], T.OFFLINE, OFFLINE, A.AGENT, A.SUPERVISOR
        ),
        # paused: from anything but a call (ringing: the offer is withdrawn, as offline)
        _rules(
            AGENT,
            [OFFLINE, AVAILABLE, WRAP_UP, MISSED, RINGING],
            T.PAUSE,
            PAUSED,
            A.AGENT,
            A.SUPERVISOR,
        ),
        # wrap_up: only once it has run out (``Agent.free_at``, the store's ``take``)
        _rules(AGENT, [AVAILABLE, WRAP_UP], T.OFFER, RINGING, A.DISPATCHER, A.AGENT),
        _rules(AGENT, [RINGING], T.ANSWER, ON_CALL, A.HOLDER, A.AGENT),
        _rules(AGENT, [RINGING], T.NOT_ANSWERED, MISSED, A.HOLDER),
        _rules(AGENT, [RINGING], T.RING_TIMEOUT, MISSED, A.REAPER),
        _rules(AGENT, [RINGING], T.HANG_UP, AVAILABLE, A.CALLER, A.HOLDER),
        _rules(AGENT, [RINGING], T.LEASE_EXPIRED, AVAILABLE, A.REAPER),
        _rules(AGENT, [RINGING], T.CALLBACK_FAILED, AVAILABLE, A.DIALLER),
        _rules(AGENT, [RINGING], T.CALLBACK_GAVE_UP, AVAILABLE, A.DIALLER),
        # a lapsed dial attempt: not the agent's phone that went unanswered (not missed)
        _rules(AGENT, [RINGING], T.CALLBACK_LAPSED, AVAILABLE, A.REAPER),
        _rules(AGENT, [RINGING], T.CALLBACK_LAPSED_LAST, AVAILABLE, A.REAPER),
        _rules(
            AGENT,
            [RINGING],
            T.CALLBACK_EXPIRED,
            AVAILABLE,
            A.DISPATCHER,
            A.DIALLER,
            A.CALLER,
            A.AGENT,
        ),  # fmt: skip
        _rules(AGENT, [RINGING, ON_CALL], T.FORCED_OFFLINE, OFFLINE, A.AGENT, A.SUPERVISOR),
        _rules(AGENT, [ON_CALL], T.FINISH, WRAP_UP, A.HOLDER, A.CALLER, A.AGENT),
        _rules(AGENT, [WRAP_UP], T.NOTE_WRITTEN, AVAILABLE, A.AGENT),
        # -- callback ---------------------------------------------------------------------
        _rules(CALLBACK, [CB_WAITING], T.CALLBACK_DIALLED, CB_DIALING, A.DIALLER),
        _rules(
            CALLBACK,
            [CB_WAITING],
            T.CALLBACK_EXPIRED,
            CB_EXPIRED,
            A.DISPATCHER,
            A.DIALLER,
            A.CALLER,
            A.AGENT,
        ),  # fmt: skip
        _rules(CALLBACK, [CB_WAITING], T.RESUME, CB_CANCELLED, A.CALLER),
        # answered: the attempt being dialled, or one given up meanwhile (its lease ran
        # out, the agent went offline) that the customer picked up late after all
        _rules(CALLBACK, [CB_DIALING, CB_WAITING], T.CALLBACK_ANSWERED, CB_CONNECTED, A.DIALLER),
        _rules(CALLBACK, _CALLBACK_LIVE, T.CALLBACK_FAILED, CB_WAITING, A.DIALLER),
        _rules(CALLBACK, _CALLBACK_LIVE, T.CALLBACK_GAVE_UP, CB_FAILED, A.DIALLER),
        _rules(CALLBACK, [CB_DIALING], T.CALLBACK_LAPSED, CB_WAITING, A.REAPER),
        _rules(CALLBACK, [CB_DIALING], T.CALLBACK_LAPSED_LAST, CB_FAILED, A.REAPER),
        # the customer held on our callback lost their holder: over, as a hang-up is
        _rules(CALLBACK, [CB_CONNECTED], T.LEASE_EXPIRED, CB_DONE, A.REAPER),
        _rules(CALLBACK, [CB_DIALING], T.NOT_ANSWERED, CB_WAITING, A.HOLDER),
        _rules(CALLBACK, [CB_DIALING], T.FORCED_OFFLINE, CB_WAITING, A.AGENT, A.SUPERVISOR),
        _rules(CALLBACK, [CB_DIALING], T.PAUSE, CB_WAITING, A.AGENT, A.SUPERVISOR),
        _rules(CALLBACK, _CALLBACK_LIVE, T.FINISH, CB_DONE, A.HOLDER, A.CALLER, A.AGENT),
        _rules(CALLBACK, [CB_CONNECTED], T.FORCED_OFFLINE, CB_DONE, A.AGENT, A.SUPERVISOR),
        _rules(CALLBACK, [CB_CONNECTED], T.HANG_UP, CB_DONE, A.CALLER, A.HOLDER),
    )
    for rule in rules
)

#: The state each machine's rows are created in.
INITIAL = {ENTRY: WAITING, AGENT: OFFLINE, CALLBACK: CB_WAITING}
#: Every state of each machine.
STATES: dict[str, frozenset[str]] = {
    ENTRY: frozenset({WAITING, OFFERED, CONNECTED, DONE, ABANDONED, FAILED, EXPIRED, RESUMED}),
    AGENT: frozenset({OFFLINE, AVAILABLE, RINGING, ON_CALL, WRAP_UP, MISSED, PAUSED}),
    CALLBACK: frozenset(
        {CB_WAITING, CB_DIALING, CB_CONNECTED, CB_DONE, CB_FAILED, CB_EXPIRED, CB_CANCELLED}
    ),
}
#: States nothing leaves.
ENDS: dict[str, frozenset[str]] = {
    ENTRY: frozenset({DONE, ABANDONED, FAILED, EXPIRED}),
    AGENT: frozenset(),
    CALLBACK: frozenset({CB_DONE, CB_FAILED, CB_EXPIRED, CB_CANCELLED}),
}

# -- named groups of states (what screens and queries ask about) --------------------------
#: Entries whose caller is still held (on hold, or their agent's phone ringing).
HELD = frozenset(_HELD)
#: Entries in the queue or in a talk.
ACTIVE_ENTRY_STATES = (WAITING, OFFERED, CONNECTED)
ENDED_ENTRY_STATES = (DONE, ABANDONED, FAILED, EXPIRED)
#: Callbacks whose code is live (unique among them).
ACTIVE_CALLBACK_STATES = (CB_WAITING, CB_DIALING, CB_CONNECTED)
#: Callbacks not yet talked through (the supervisor's "pending").
PENDING_CALLBACK_STATES = (CB_WAITING, CB_DIALING)
#: Agents who are signed in to take calls (not offline, not missed, not paused).
STAFFED_AGENT_STATES = frozenset({AVAILABLE, RINGING, ON_CALL, WRAP_UP})
#: Agents who hold an entry (ringing for it, or talking).
BUSY_AGENT_STATES = frozenset({RINGING, ON_CALL})

_INDEX: dict[tuple[str, str, str], Transition] = {}
_BY_TRIGGER: dict[tuple[str, str], list[Transition]] = {}
for _rule in TRANSITIONS:
    _BY_TRIGGER.setdefault((_rule.machine, _rule.trigger), []).append(_rule)
    _key = (_rule.machine, _rule.source, _rule.trigger)
    if _key in _INDEX:  # pragma: no cover - a typo in the table above
        raise AssertionError(f"two transitions for {_key}")
    _INDEX[_key] = _rule


def transition(machine: str, state: str, trigger: str, actor: str | None = None) -> Transition:
    """The row for ``machine`` in ``state`` on ``trigger``; raises ``IllegalTransition``
    if there is none, or ``actor`` (when given) may not cause it."""
    found = _INDEX.get((machine, state, trigger))
    if found is None or (actor is not None and actor not in found.actors):
        raise IllegalTransition(machine, state, trigger, actor)
    return found


def next_state(machine: str, state: str, trigger: str, actor: str | None = None) -> str:
    """The state ``machine`` goes to from ``state`` on ``trigger`` (see ``transition``)."""
    return transition(machine, state, trigger, actor).target


def allowed(machine: str, state: str, trigger: str) -> bool:
    """Whether the table has a move for ``machine`` in ``state`` on ``trigger``."""
    return (machine, state, trigger) in _INDEX


def sources(machine: str, trigger: str) -> tuple[str, ...]:
    """The states ``trigger`` moves ``machine`` from (sorted), for a compare-and-set's
    ``expect=``; raises ``IllegalTransition`` for a trigger that never moves it."""
    found = tuple(sorted({r.source for r in _BY_TRIGGER.get((machine, trigger), ())}))
    if not found:
        raise IllegalTransition(machine, "any", trigger)
    return found
