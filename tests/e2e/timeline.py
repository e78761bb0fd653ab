"""When a caller presses keys: a timeline of what the hotline plays, from the durations of
the rendered prompts and of Asterisk's own digit sounds, turned into SIPp's ``Press`` list.

A call's clock starts when SIPp acknowledges the answer; the first prompt plays
``AGI_START`` later. A ``play`` (a ``say`` node) is heard whole: the clock simply moves on
by its length (a key pressed during it would be typed ahead into the next question). A
``press`` answers a gather (barge-in allowed): its window opens when the gather's first
prompt starts and closes ``timeout`` seconds after its last one; the keys are sent ``lead``
seconds into that window (not at its edge, so an estimate that is a little off still lands
inside), and the flow moves on when the last key has arrived. ``silence`` lets a gather time
out.

Parts of what is played:

- ``"welcome"``, ``"reset_code_sent.1"``, ``"_fragments/currency_usd"``: a rendered prompt,
  ``prompts/<lang>/<name>.wav``;
- ``Digits("8001")``: SAY DIGITS, one Asterisk ``digits/<d>`` sound a digit (a random
  reference is estimated with ``Digits("?" * 8)``, the longest digit);
- ``Number(450)``: SAY NUMBER, the ``digits/...`` sounds Asterisk's English sayer plays;
- ``Gap(1.5)``: anything else, in seconds (say a free-text value rendered on demand).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from . import dtmf
from .sipp import Press

#: From SIPp's ACK to the first prompt (the dialplan's Answer() and Set(), the AGI start).
AGI_START = 0.5
#: What one AGI command adds to the sound it plays (a generous round trip).
STEP = 0.03
#: How long the keys of a gather take to reach the flow after the last one was sent.
KEYS_IN = 0.05
#: Lead into a gather's window: at most this, and at most ``LEAD_SHARE`` of the window.
LEAD = 4.0
LEAD_SHARE = 0.45


@dataclass(frozen=True)
class Digits:
    digits: str


@dataclass(frozen=True)
class Number:
    number: int


@dataclass(frozen=True)
class Gap:
    seconds: float


Part = str | Digits | Number | Gap


@cache
def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as audio:
        frames: int = audio.getnframes()
        rate: int = audio.getframerate()
    return frames / rate


@dataclass(frozen=True)
class Sounds:
    """Where durations come from: the rendered prompts of one language and Asterisk's
    English ``digits`` folder."""

    prompts: Path  # prompts/<lang>
    digits: Path  # <sounds>/en/digits

    def seconds(self, part: Part) -> float:
        if isinstance(part, Gap):
            return part.seconds
        if isinstance(part, Digits):
            return sum(self._digit(d) + STEP for d in part.digits)
        if isinstance(part, Number):
            return sum(
                wav_seconds(self.digits / f"{name}.wav") + STEP for name in said(part.number)
            )
        return wav_seconds(self.prompts / f"{part}.wav") + STEP

    def _digit(self, digit: str) -> float:
        if digit == "?":
            return max(wav_seconds(self.digits / f"{d}.wav") for d in "0123456789")
        return wav_seconds(self.digits / f"{digit}.wav")


def said(number: int) -> list[str]:
    """The ``digits/...`` sounds Asterisk's English SAY NUMBER plays (0 <= number < 10**6)."""
    if number < 0 or number >= 10**6:
        raise ValueError(f"no estimate for SAY NUMBER {number}")
    if number < 20:
        return [str(number)]
    if number < 100:
        tens, ones = divmod(number, 10)
        return [str(tens * 10)] + ([str(ones)] if ones else [])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return [str(hundreds), "hundred"] + (said(rest) if rest else [])
    thousands, rest = divmod(number, 1000)
    return [*said(thousands), "thousand"] + (said(rest) if rest else [])


@dataclass
class Timeline:
    """The hotline's side of one call as the caller expects it to go."""

    sounds: Sounds
    now: float = AGI_START
    #: (seconds from the call's start, keys) for every press so far.
    keys: list[tuple[float, str]] = field(default_factory=list)

    def seconds(self, *parts: Part) -> float:
        return sum(self.sounds.seconds(part) for part in parts)

    def play(self, *parts: Part) -> Timeline:
        """Prompts that cannot be interrupted (a ``say`` node)."""
        self.now += self.seconds(*parts)
        return self

    def pause(self, seconds: float) -> Timeline:
        self.now += seconds
        return self

    def press(
        self, keys: str, *prompt: Part, timeout: float, lead: float | None = None
    ) -> Timeline:
        """Answer a gather that plays ``prompt`` and then waits ``timeout`` seconds for the
        first key; the gather is done when the last of ``keys`` has arrived."""
        window = self.seconds(*prompt) + timeout
        lead = min(LEAD, LEAD_SHARE * window) if lead is None else lead
        if not 0 < lead < window:
            raise ValueError(f"a lead of {lead:.1f}s misses a {window:.1f}s window")
        at = self.now + lead
        self.keys.append((at, keys))
        self.now = at + dtmf.group_seconds(keys) + KEYS_IN
        return self

    def silence(self, *prompt: Part, timeout: float) -> Timeline:
        """A gather that hears nothing: its prompts, then its timeout."""
        self.now += self.seconds(*prompt) + timeout
        return self

    def presses(self) -> list[Press]:
        """SIPp's presses: each wait counts from the end of the previous keys."""
        out: list[Press] = []
        free = 0.0  # when the caller's previous keys were all sent
        for at, keys in self.keys:
            out.append(Press(round(at - free, 3), keys))
            free = at + dtmf.group_seconds(keys)
        return out

    def hold_until(self, moment: float) -> float:
        """How long to hold after the last keys so that the caller hangs up at ``moment``."""
        at, keys = self.keys[-1] if self.keys else (0.0, "")
        hold = moment - (at + dtmf.group_seconds(keys))
        if hold <= 0:
            raise ValueError(f"hanging up at {moment:.1f}s is before the last keys are sent")
        return round(hold, 3)
