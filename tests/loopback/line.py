"""``LoopbackLine``: the ``ivr.phone.line.Line`` of one call on the loopback phone.

The call loop (``ivr.phone.call_loop``), the hold (``ivr.phone.holding``) and the callback
call (``ivr.phone.callback_call``) run over it; what is the loopback phone's own is only
how each action and question is said on the wire (``tests.loopback.protocol``). Each line
action has one performer in ``PERFORMERS``.

Prompts go out by id with their values (the phone "speaks" them), so the ``speak`` the
call loop sets is not used. The caller's keys, PIN digits included, are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Recorded, Timeout
from ivr.flow.state import QUEUED, TRANSFERRED
from ivr.phone.line import CallerGone, LineError, Speaker
from ivr.phone.step import Performer, Turn, perform_step
from loopback import protocol as wire
from loopback.protocol import BadLine

logger = logging.getLogger(__name__)

KEYPAD = "0123456789*#"
T = TypeVar("T")


class LoopbackError(LineError):
    """The phone answered something the protocol does not allow there."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _unused(prompt: act.Prompt) -> list[Any]:
    return []  # prompts go out by id: the phone speaks them


class LoopbackLine:
    """One call over ``reader`` and ``writer`` (a connection's two sides). ``answered``:
    what to do when the agent rung picks up (the entry is connected), by entry id."""

    def __init__(
        self,
        reader: TextIO,
        writer: TextIO,
        call_id: str,
        answered: Callable[[int], object] | None = None,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.call_id = call_id
        self.answered = answered
        self.speak: Speaker = _unused
        self.failure: LineError | None = None
        self._gone = False

    @property
    def hung_up(self) -> bool:
        return self._gone

    # -- the call loop's two calls: never an exception -------------------------------

    def answer(self) -> Event | None:
        return self._guarded("ANSWER", self._answer)

    def perform(self, actions: list[act.Action], at: str) -> Event | act.Enqueue | None:
        return self._guarded(at, self._perform, actions)

    def _guarded(self, where: str, work: Callable[..., T], *args: Any) -> T | HungUp:
        """``work(*args)``, with the caller gone or the line broken answered ``HungUp``."""
        try:
            return work(*args)
        except CallerGone as left:
            logger.info("call %s: the caller hung up at %s (%s)", self.call_id, where, left.reason)
            return HungUp()
        except LineError as exc:
            self.failure = exc
            logger.error("call %s at %s: %s; the line is dropped", self.call_id, where, exc)
            return HungUp()

    def _answer(self) -> None:
        self._ask(wire.line(wire.ANSWER), wire.OK)

    def _perform(self, actions: list[act.Action]) -> Event | act.Enqueue | None:
        return perform_step(self, actions, PERFORMERS)

    # -- what the hold and the callback call ask: may raise CallerGone, LineError -----

    def play(self, prompt: act.Prompt, escape: str = "") -> str:
        sent = wire.line(wire.PLAY, prompt.id, escape or wire.NONE, **prompt.values)
        return self._key(self._ask(sent, wire.OK, wire.KEY), escape)

    def play_file(self, name: str, escape: str = "") -> str:
        sent = wire.line(wire.FILE, name, escape or wire.NONE)
        return self._key(self._ask(sent, wire.OK, wire.KEY), escape)

    def gather(self, gather: act.Gather, typed: str = "") -> Digits | Timeout:
        """The gather's prompts (a key interrupts them), then the rest of the keys."""
        keys = typed
        if not keys:
            for prompt in gather.prompts:
                keys = self.play(prompt, KEYPAD)
                if keys:
                    break
        if len(keys) < gather.max_digits or gather.finish_key:
            finish = gather.finish_key or wire.NONE
            sent = wire.line(
                wire.WAIT, gather.node, gather.min_digits, gather.max_digits,
                gather.timeout, finish,
            )  # fmt: skip
            answer = self._ask(sent, wire.KEYS, wire.TIMEOUT)
            keys += answer.field(0) if answer.verb == wire.KEYS else ""
        return Digits(keys) if keys else Timeout()

    def record(self, record: act.Record) -> Recorded:
        """``RECORD``: the phone keeps what the caller says (``RECORDED``) or heard nothing."""
        for prompt in record.prompts:
            self.play(prompt)
        sent = wire.line(wire.RECORD, record.node, record.name, record.max_seconds)
        answer = self._ask(sent, wire.RECORDED, wire.SILENT)
        if answer.verb == wire.RECORDED:
            return Recorded(record.name, answer.field(0))
        return Recorded(None)

    def set(self, name: str, value: str) -> None:
        self._ask(wire.line(wire.SET, name, value), wire.OK)

    def hang_up(self) -> None:
        if not self._gone:
            self._send(wire.line(wire.HANGUP))
            self._gone = True

    def ring_agent(self, endpoint: str, entry_id: int, seconds: int) -> str:
        """``RING``; on ``PICKUP`` the entry is connected (``answered``) and the phone says
        how the talk ended; the last answer's verb (``ANSWER``: answered, talk over)."""
        replies = (wire.PICKUP, wire.ANSWER, "NOANSWER", "BUSY")
        answer = self._ask(wire.line(wire.RING, endpoint, seconds, entry_id), *replies)
        if answer.verb == wire.PICKUP:
            if self.answered is not None:
                self.answered(entry_id)
            answer = self._read(wire.RING, wire.ANSWER)
        return answer.verb

    # -- the wire ----------------------------------------------------------------------

    def _ask(self, sent: str, *expected: str) -> wire.Message:
        self._send(sent)
        return self._read(sent.split(" ", 1)[0], *expected)

    def _send(self, text: str) -> None:
        if self._gone:
            raise CallerGone("the line is down already")
        try:
            self.writer.write(text + "\n")
            self.writer.flush()
        except (OSError, ValueError) as exc:
            self._gone = True
            raise CallerGone(f"the connection broke ({type(exc).__name__})") from exc

    def _read(self, command: str, *expected: str) -> wire.Message:
        try:
            text = self.reader.readline()
        except (OSError, ValueError) as exc:  # reset, timed out, closed
            self._gone = True
            raise CallerGone(f"the connection broke ({type(exc).__name__})") from exc
        if not text:
            self._gone = True
            raise CallerGone("the connection closed")
        try:
            answer = wire.parse(text)
        except BadLine as exc:
            raise LoopbackError(f"{command}: {exc}") from exc
        if answer.verb == wire.HANGUP:
            self._gone = True
            raise CallerGone("HANGUP")
        if answer.verb not in expected:  # not what it said: the line may hold PIN digits
            raise LoopbackError(f"{command} answered with none of {'|'.join(expected)}")
        return answer

    @staticmethod
    def _key(answer: wire.Message, escape: str) -> str:
        key = answer.field(0) if answer.verb == wire.KEY else ""
        return key if len(key) == 1 and key in escape else ""


# -- one performer per line action ----------------------------------------------------------


def _play(line: LoopbackLine, play: act.Play, turn: Turn) -> None:
    escape = KEYPAD if turn.ahead is not None else ""
    for prompt in play.prompts:
        if turn.typed:
            return
        turn.typed = line.play(prompt, escape)


def _gather(line: LoopbackLine, gather: act.Gather, turn: Turn) -> Event:
    return line.gather(gather, turn.typed)


def _set_data(line: LoopbackLine, data: act.SetData, turn: Turn) -> None:
    pass  # the loopback phone keeps no call variables (they may be personal data)


def _enqueue(line: LoopbackLine, enqueue: act.Enqueue, turn: Turn) -> None:
    line.set("QUEUE", enqueue.queue)
    line.set("OUTCOME", QUEUED)
    turn.enqueued = enqueue


def _transfer(line: LoopbackLine, transfer: act.Transfer, turn: Turn) -> None:
    line.set("TRANSFER", transfer.to)
    line.set("OUTCOME", TRANSFERRED)


def _record(line: LoopbackLine, record: act.Record, turn: Turn) -> Event:
    return line.record(record)


def _hangup(line: LoopbackLine, hangup: act.Hangup, turn: Turn) -> None:
    line.set("OUTCOME", hangup.outcome)
    line.hang_up()


#: What the line does for each line action (the engine's ``RunAction`` is not one).
PERFORMERS: dict[type[act.Action], Performer[LoopbackLine]] = {
    act.Play: _play,
    act.Gather: _gather,
    act.SetData: _set_data,
    act.Enqueue: _enqueue,
    act.Transfer: _transfer,
    act.Hangup: _hangup,
    act.Record: _record,
}
