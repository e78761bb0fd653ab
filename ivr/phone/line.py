"""What a blocking phone line is to the call loop and the hold: the ``Line`` protocol.

A driver whose calls each run in a thread of their own (Asterisk's AGI and FastAGI; a
FreeSWITCH event socket would be another) implements ``Line`` and reuses the call loop
(``ivr.phone.call_loop``) and the hold (``ivr.phone.holding``): only the commands are its
own. Two outcomes are not values:

- ``CallerGone``: the one exception for "the caller is gone", however the driver learnt
  it (a hang-up notice, a dead channel, a closed stream). The call loop turns it into the
  engine's ``HungUp`` event.
- ``LineError``: the line itself broke (the driver's protocol went wrong). The call is
  recorded as left where it was and handed back to whoever owns the channel.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ivr.audio.steps import Step
from ivr.errors import IvrError
from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, Timeout

#: Turns a prompt into what the line plays (files, numbers, digits).
Speaker = Callable[[act.Prompt], list[Step]]
#: What ``Line.ring_agent`` returns when the agent answered (and the talk is over).
AGENT_ANSWERED = "ANSWER"


class CallerGone(Exception):
    """The caller is gone; ``reason`` says how the driver knows. Raised by a ``Line``'s
    methods, never out of ``answer()`` or ``perform()``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class LineError(IvrError):
    """The line broke: the driver's protocol went wrong (``reason`` says how; a driver's
    subclass may carry what was read, which must not be logged during a secure gather)."""

    reason: str


class Line(Protocol):
    """One caller's line, driven by a thread that blocks on it."""

    call_id: str
    #: How prompts are spoken; the call loop sets it once the call's flow is known.
    speak: Speaker

    @property
    def hung_up(self) -> bool:
        """The line knows the caller is gone (nothing more is sent)."""
        ...

    def answer(self) -> Event | None:
        """Pick the call up; ``HungUp`` when the caller is gone or the line broke."""
        ...

    def perform(self, actions: list[act.Action], at: str) -> Event | act.Enqueue | None:
        """Do one step's actions (``at``: the node, for the log): the caller's answer to
        a closing ``Gather``; the ``Enqueue`` when the caller now waits for a person; None
        when the flow ended (the channel goes back to its owner). A caller gone or a broken line is
        ``HungUp`` (logged), never an exception."""
        ...

    def play(self, prompt: act.Prompt, escape: str = "") -> str:
        """Speak a prompt; the key that interrupted it (one of ``escape``), or ``""``."""
        ...

    def play_file(self, name: str, escape: str = "") -> str:
        """Play a sound file (hold music); the key that interrupted it, or ``""``."""
        ...

    def gather(self, gather: act.Gather) -> Digits | Timeout: ...

    def set(self, name: str, value: str) -> None:
        """Set a call variable the phone system reads after the call (``OUTCOME``)."""
        ...

    def hang_up(self) -> None: ...

    def ring_agent(self, endpoint: str, entry_id: int, seconds: int) -> str:
        """Ring the agent's phone and bridge the caller when they answer; returns once
        the talk is over or the ringing stopped: ``AGENT_ANSWERED``, or what the phone
        system said instead. When the agent picks up, the phone system reports the
        entry connected (Asterisk: the ``answered`` route)."""
        ...
