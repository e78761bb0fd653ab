"""What an AGI reply means for the command it answers (pure functions over values).

``heard`` (STREAM FILE, SAY ..., WAIT FOR DIGIT: a key, nothing or a hang-up), ``entered``
(GET DATA), ``completed`` (ANSWER, SET VARIABLE, HANGUP), ``channel_up`` (CHANNEL STATUS),
``variable_value`` (GET VARIABLE), ``recorded`` (RECORD FILE). A caller hanging up is a
value (``LineGone``), never an exception. ``result=-1`` is ambiguous (``Failed``): ask
``CHANNEL STATUS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.phone.asterisk.agi_errors import AgiPeerError
from ivr.phone.asterisk.agi_replies import LineGone, Reply


@dataclass(frozen=True)
class KeyPressed:
    key: str


@dataclass(frozen=True)
class NoKey:
    """The prompt played to its end, or the wait timed out."""


@dataclass(frozen=True)
class Failed:
    """``result=-1``: the caller hung up, *or* the command failed on a live channel:
    Asterisk 22 answers ``STREAM FILE`` of a missing file with ``200 result=-1 endpos=0``.
    Ask ``CHANNEL STATUS`` (``channel_up``) to tell which."""


@dataclass(frozen=True)
class Entered:
    """GET DATA: the keys entered, and whether it ended by timing out."""

    digits: str
    timed_out: bool


DTMF = frozenset("0123456789*#ABCD")


def gone(reply: Reply | LineGone) -> LineGone | None:
    """The sure signs that the caller is gone: a ``HANGUP`` line, end of input, ``511``
    (a command refused on a dead channel), or ``(hangup)``."""
    if isinstance(reply, LineGone):
        return reply
    if reply.code == 511:
        return LineGone("511 (dead channel)")
    if reply.data == "hangup":
        return LineGone("(hangup)")
    return None


def completed(reply: Reply | LineGone) -> LineGone | Failed | None:
    """ANSWER, SET VARIABLE, HANGUP: None when done."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    return Failed() if reply.number == -1 else None


def heard(reply: Reply | LineGone) -> KeyPressed | NoKey | LineGone | Failed:
    """STREAM FILE, SAY NUMBER/DIGITS, WAIT FOR DIGIT: ``result`` is 0 for no key, -1 on
    hang-up or failure, else the ASCII code of the key (49 for ``1``)."""
    left = completed(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    code = reply.number
    if code == 0:
        return NoKey()
    if code is not None and 0 < code < 128 and chr(code) in DTMF:
        return KeyPressed(chr(code))
    raise AgiPeerError("a key reply that is not a key", reply.line)


def entered(reply: Reply | LineGone) -> Entered | LineGone | Failed:
    """GET DATA: ``result=<digits>``, ``result=<digits so far> (timeout)``, ``-1``."""
    left = completed(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    if not set(reply.result) <= DTMF:
        raise AgiPeerError("GET DATA keys that are not keys", reply.line)
    return Entered(reply.result, reply.data == "timeout")


@dataclass(frozen=True)
class Recording:
    """RECORD FILE ended with a file: by a key (``dtmf``), by the time limit or silence
    (``timeout``); ``samples``: where the file ends (8000 a second)."""

    how: str
    samples: int


@dataclass(frozen=True)
class NotRecorded:
    """RECORD FILE wrote nothing usable: the file could not be opened (``writefile``),
    the channel failed (``waitfor``, ``randomerror``)."""

    why: str


def recorded(reply: Reply | LineGone) -> Recording | NotRecorded | LineGone:
    """RECORD FILE: ``200 result=<key code> (dtmf) endpos=N``, ``200 result=0 (timeout)
    endpos=N``, ``200 result=-1 (hangup) endpos=N`` (gone), ``200 result=-1 (writefile)``,
    ``200 result=-1 (waitfor) endpos=N``, ``200 result=<n> (randomerror) endpos=N``."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    if reply.code != 200:
        raise AgiPeerError("a RECORD FILE reply that is not 200", reply.line)
    how = reply.data or ""
    if how in ("dtmf", "timeout"):
        return Recording(how, reply.endpos or 0)
    return NotRecorded(how or f"result={reply.result}")


def channel_up(reply: Reply | LineGone) -> LineGone | None:
    """CHANNEL STATUS (refused with ``511`` on a dead channel): None while the caller is
    there (``200 result=6`` when up)."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    if reply.number is None or reply.number < 0:
        return LineGone(f"channel status {reply.result or '?'}")
    return None


def variable_value(reply: Reply | LineGone) -> str | LineGone | None:
    """GET VARIABLE: ``200 result=1 (value)``, or ``200 result=0`` when it is not set."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    return reply.data if reply.number == 1 else None
