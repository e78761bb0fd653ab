"""The callback dialogue, written once for every channel (pure, no I/O).

Theory of operation
-------------------
A caller on hold who asks for a callback (or is offered one at once: nobody signed in,
the maximum wait reached, ``callback: only``) goes through the same steps on Asterisk
(``ivr.phone.holding``, a synchronous loop on a blocking line) and on Twilio
(``ivr.phone.twilio.dialogue``, one step per webhook, the ``Dialogue`` kept in the call's
memo). Everything that decides what the caller hears next lives here:

- ``CHOOSE`` (only when the caller id can be called back): "1 for the number ending in
  NNNN, 2 for another";
- ``ENTER``: type a number, then ``#``;
- ``CONFIRM``: "we will call NNN: 1 to confirm, 2 to type it again";
- ``ARRANGING``: the driver arranges the callback at the number (``ArrangeAt``) and
  answers ``Arranged(code)`` or ``NotArranged``;
- over: the code read twice (``callback_code`` says it twice) and goodbye, or, when no
  callback came of it, ``callback_unavailable`` ("please stay on the line") and back to
  the wait; or ``callback_not_arranged`` alone when the caller will not wait on (nobody
  who could take the call is signed in: the hold then says goodbye).

``start(caller_number, stays=...)`` gives the first state and actions; ``step(dialogue, event)``
the next ones. Events: ``Keys`` (digits, "" for a timeout), ``Arranged``,
``NotArranged``. Actions: ``Ask`` (a prompt and what to gather), ``ArrangeAt``, ``Say``
(a prompt; ``secret`` names values never to be logged) and ``Over`` (``arranged`` or
not). Each question is asked at most ``TRIES`` times (a confirmation refused sends the
caller back to typing, and counts as a try).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

CHOOSE, ENTER, CONFIRM, ARRANGING, OVER = "choose", "enter", "confirm", "arranging", "over"
#: Tries at each question.
TRIES = 2
#: How long each question waits for keys (seconds).
TIMEOUT = 6.0
#: A number we can call back: digits, a leading + allowed.
_DIALABLE = re.compile(r"\+?[0-9]{3,15}")


def dialable(number: str) -> bool:
    """Whether a caller id (or a typed number) can be called back."""
    return _DIALABLE.fullmatch(number.strip()) is not None


def last4(number: str) -> str:
    return number.strip()[-4:]


@dataclass(frozen=True)
class Dialogue:
    phase: str
    caller: str | None = None  # the caller's own number, when it can be called back
    number: str | None = None  # the number typed (CONFIRM) or chosen (ARRANGING)
    tries: int = 0
    stays: bool = True  # the caller waits on if no callback comes of it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Dialogue:
        return cls(
            phase=str(raw["phase"]),
            caller=raw.get("caller"),
            number=raw.get("number"),
            tries=int(raw.get("tries", 0)),
            stays=bool(raw.get("stays", True)),
        )


# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The caller's answer to the last ``Ask`` ("" when they pressed nothing)."""

    digits: str = ""


@dataclass(frozen=True)
class Arranged:
    code: str


@dataclass(frozen=True)
class NotArranged:
    pass


Event = Keys | Arranged | NotArranged

# -- actions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    prompt: str
    values: Mapping[str, str] = field(default_factory=dict)
    min_digits: int = 1
    max_digits: int = 1
    finish_key: str | None = None
    timeout: float = TIMEOUT


@dataclass(frozen=True)
class ArrangeAt:
    number: str


@dataclass(frozen=True)
class Say:
    prompt: str
    values: Mapping[str, str] = field(default_factory=dict)
    secret: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Over:
    arranged: bool


Action = Ask | ArrangeAt | Say | Over
Steps = tuple[Dialogue, list[Action]]


class DialogueError(Exception):
    """A driver sent an event the dialogue cannot take in its phase (our bug)."""


def start(caller_number: str | None, stays: bool = True) -> Steps:
    """Begin: offer the caller's own number when it can be called back, else ask for one.
    ``stays``: the caller waits on in line if no callback comes of it."""
    if caller_number is not None and dialable(caller_number):
        dialogue = Dialogue(CHOOSE, caller=caller_number, stays=stays)
    else:
        dialogue = Dialogue(ENTER, stays=stays)
    return dialogue, [ask(dialogue)]


def ask(dialogue: Dialogue) -> Ask:
    """The question of a waiting phase (a driver replaying a step asks it again)."""
    if dialogue.phase == CHOOSE:
        return Ask("callback_number_choice", {"last4": last4(dialogue.caller or "")})
    if dialogue.phase == ENTER:
        return Ask("callback_enter_number", {}, 3, 15, "#")
    if dialogue.phase == CONFIRM:
        return Ask("callback_confirm_number", {"number": dialogue.number or ""})
    raise DialogueError(f"the dialogue asks nothing in phase {dialogue.phase!r}")


def step(dialogue: Dialogue, event: Event) -> Steps:
    """The caller's answer, or how arranging went: the next state and actions."""
    if dialogue.phase == ARRANGING:
        if isinstance(event, Arranged):
            told = Say("callback_code", {"code": event.code}, frozenset({"code"}))
            return replace(dialogue, phase=OVER), [told, Say("callback_scheduled"), Over(True)]
        if isinstance(event, NotArranged):
            return _unavailable(dialogue)
    elif isinstance(event, Keys) and dialogue.phase in (CHOOSE, ENTER, CONFIRM):
        return _answer(dialogue, event.digits.rstrip("#"))
    raise DialogueError(f"{type(event).__name__} in phase {dialogue.phase!r}")


def _answer(dialogue: Dialogue, keys: str) -> Steps:
    if dialogue.phase == CHOOSE:
        if keys == "1" and dialogue.caller:
            return _arrange(dialogue, dialogue.caller)
        if keys == "2":
            entering = replace(dialogue, phase=ENTER, tries=0)
            return entering, [ask(entering)]
    elif dialogue.phase == ENTER:
        if dialable(keys):
            confirming = replace(dialogue, phase=CONFIRM, number=keys)
            return confirming, [ask(confirming)]
    elif keys == "1" and dialogue.number:
        return _arrange(dialogue, dialogue.number)
    else:  # the confirmation refused: type it again
        dialogue = replace(dialogue, phase=ENTER, number=None)
    tries = dialogue.tries + 1
    if tries >= TRIES:
        return _unavailable(dialogue)
    dialogue = replace(dialogue, tries=tries)
    return dialogue, [ask(dialogue)]


def _arrange(dialogue: Dialogue, number: str) -> Steps:
    return replace(dialogue, phase=ARRANGING, number=number), [ArrangeAt(number)]


def _unavailable(dialogue: Dialogue) -> Steps:
    said = "callback_unavailable" if dialogue.stays else "callback_not_arranged"
    return replace(dialogue, phase=OVER), [Say(said), Over(False)]
