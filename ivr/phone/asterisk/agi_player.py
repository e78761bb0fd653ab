"""``AgiPlayer``: what a held or prompted caller hears and keys, as AGI commands: prompts
and files with escape keys, gathers with a finish key, ``IVR_*`` variables, ``Dial``.
Raises ``CallerGone`` when the caller is gone (``ivr.phone.line``); the driver
(``ivr.phone.asterisk.agi_driver``) and the hold catch it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ivr.audio.steps import PlayFile, SayDigits, SayNumber, Step
from ivr.flow import actions as act
from ivr.flow.events import Digits, Recorded, Timeout
from ivr.phone.asterisk import agi_protocol as proto
from ivr.phone.asterisk.agi_line import AgiLine
from ivr.phone.line import CallerGone, Speaker

logger = logging.getLogger(__name__)

#: After the last digit an entry allows, how long to wait for its finish key (seconds).
FINISH_GRACE = 2.0
#: Seconds of silence that end a recording, and the shortest file that holds anything
#: (samples at 8 kHz: Asterisk keeps about a second of the silence that ended it).
RECORD_SILENCE = 3
MIN_RECORDED_SAMPLES = 12000
#: The gosub Dial runs on the agent's channel when they answer (the ``answered`` route).
ANSWERED_CONTEXT = "hotline-answered"


def _no_speaker(prompt: act.Prompt) -> list[Step]:
    raise RuntimeError("no prompts before the session starts")


class AgiPlayer:
    """Prompts, keys and channel variables on one ``AgiLine``."""

    def __init__(self, line: AgiLine, call_id: str) -> None:
        self.line = line
        self.call_id = call_id
        self.speak: Speaker = _no_speaker
        #: Where recordings are kept (``Parts.recordings_dir``); None: nothing is recorded.
        self.recordings: Path | None = None

    @property
    def hung_up(self) -> bool:
        return self.line.hung_up

    def play(self, prompt: act.Prompt, escape: str = "") -> str:
        """Speak a prompt; the key that interrupted it (one of ``escape``), or ``""``."""
        for step in self.speak(prompt):
            key = self._listen(step, escape)
            if key:
                return key
        return ""

    def play_file(self, name: str, escape: str = "") -> str:
        return self._listen(PlayFile(name), escape)

    def gather(self, gather: act.Gather) -> Digits | Timeout:
        return self._gather(gather)

    def set(self, name: str, value: str) -> None:
        self._set(name, value)

    def hang_up(self) -> None:
        self._do(proto.hangup())

    def ring_agent(self, endpoint: str, entry_id: int, seconds: int) -> str:
        """``Dial PJSIP/<endpoint>``; its ``U()`` gosub runs the ``answered`` route on the
        agent's channel when they pick up. DIALSTATUS afterwards."""
        return self.dial(f"PJSIP/{endpoint},{seconds},gU({ANSWERED_CONTEXT}^{entry_id})")

    def dial(self, target: str) -> str:
        """``EXEC Dial``; DIALSTATUS afterwards. Raises ``CallerGone`` if the caller
        hung up (during the talk, too)."""
        command = proto.exec_application("Dial", target)
        self.line.quiet(True)
        try:
            outcome = proto.completed(self.line.exchange(command))
        finally:
            self.line.quiet(False)
        if isinstance(outcome, proto.LineGone):
            raise CallerGone(outcome.reason)
        if isinstance(outcome, proto.Failed):  # Dial returns -1 when the caller hangs up
            self._still_there(command)
        value = proto.variable_value(self.line.exchange(proto.get_variable("DIALSTATUS")))
        if isinstance(value, proto.LineGone):
            raise CallerGone(value.reason)
        return value or ""

    def record(self, record: act.Record) -> Recorded:
        """The prompts, then ``RECORD FILE`` into the recordings folder: ``Recorded`` with
        the recording's name, or with None when nothing usable was recorded (the folder
        cannot be written, silence, a failure; what was written is deleted). Raises
        ``CallerGone`` when the caller hung up mid-record (the partial file is deleted)."""
        for prompt in record.prompts:
            self.play(prompt)
        folder = self.recordings
        if folder is None:
            return Recorded(None)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.warning("call %s: no recordings folder %s (%s)", self.call_id, folder, exc)
            return Recorded(None)
        path = folder / record.name
        command = proto.record_file(str(path), record.max_seconds * 1000, RECORD_SILENCE)
        self.line.quiet(True)
        try:
            outcome = proto.recorded(self.line.exchange(command))
        finally:
            self.line.quiet(False)
        if isinstance(outcome, proto.LineGone):
            _discard(path)
            raise CallerGone(outcome.reason)
        if isinstance(outcome, proto.NotRecorded):
            logger.warning("call %s: nothing recorded (%s)", self.call_id, outcome.why)
            _discard(path)
            return Recorded(None)
        if outcome.samples < MIN_RECORDED_SAMPLES:
            logger.info("call %s: the recording was silence", self.call_id)
            _discard(path)
            return Recorded(None)
        return Recorded(record.name, f"{record.name}.wav")

    def _announce(self, play: act.Play, ahead: act.Gather | None) -> str:
        """Speak a ``Play``; with a gather ``ahead`` taking type-ahead, the key that
        interrupted it (replies are then as secret as that gather's digits), else ``""``."""
        self.line.secure = ahead is not None and ahead.secure
        escape = proto.KEYPAD if ahead is not None else ""
        try:
            for prompt in play.prompts:
                for step in self.speak(prompt):
                    key = self._listen(step, escape)
                    if key:
                        return key
            return ""
        finally:
            self.line.secure = False

    def _gather(self, gather: act.Gather, typed: str = "") -> Digits | Timeout:
        """Collect the caller's keys; ``typed``: the first one, typed ahead (the gather's
        own prompts are then skipped)."""
        self.line.secure = gather.secure
        keys = typed or self._prompted(gather)
        finish = gather.finish_key
        # A prompt that says "then press hash" gets its hash: with a finish key the entry may
        # run one key past max_digits, so the finish key is read here rather than left to
        # barge into the next prompt (the engine strips it, and refuses any other extra key).
        limit = gather.max_digits + (1 if finish else 0)
        while len(keys) < limit and not (finish and keys.endswith(finish)):
            full = len(keys) >= gather.max_digits
            seconds = min(gather.timeout, FINISH_GRACE) if full else gather.timeout
            key = self._key(proto.wait_for_digit(max(1, round(seconds * 1000))))
            if not key:
                break
            keys += key
        self.line.secure = False
        return Digits(keys) if keys else Timeout()

    def _prompted(self, gather: act.Gather) -> str:
        """Play the prompts with barge-in; the key that interrupted them, or ``""``."""
        for prompt in gather.prompts:
            for step in self.speak(prompt):
                key = self._listen(step, proto.KEYPAD)
                if key:
                    return key
        return ""

    def _listen(self, step: Step, escape: str) -> str:
        if isinstance(step, PlayFile):
            command = proto.stream_file(step.name, escape)
        elif isinstance(step, SayNumber):
            command = proto.say_number(step.number, escape)
        else:
            assert isinstance(step, SayDigits)
            command = proto.say_digits(step.digits, escape)
        return self._key(command, proto.redacted(command) if step.secret else None)

    def _key(self, command: str, shown: str | None = None) -> str:
        """A command that may hear a key: the key, or ``""``. ``shown``: its redacted
        form, when it speaks a secret."""
        outcome = proto.heard(self.line.exchange(command, shown))
        if isinstance(outcome, proto.Failed):
            self._still_there(shown or command)
        elif isinstance(outcome, proto.LineGone):
            raise CallerGone(outcome.reason)
        return outcome.key if isinstance(outcome, proto.KeyPressed) else ""

    def _set(self, name: str, value: str) -> None:
        self._do(proto.set_variable(f"IVR_{name}", value))

    def _do(self, command: str) -> None:
        """ANSWER, SET VARIABLE, HANGUP."""
        outcome = proto.completed(self.line.exchange(command))
        if isinstance(outcome, proto.Failed):
            self._still_there(command)
        elif isinstance(outcome, proto.LineGone):
            raise CallerGone(outcome.reason)

    def _still_there(self, command: str) -> None:
        """After ``result=-1``: hung up (raise) or a failure on a live channel (go on)."""
        left = proto.channel_up(self.line.exchange(proto.channel_status()))
        if left is not None:
            raise CallerGone(f"result=-1, then {left.reason}")
        logger.warning(
            "call %s: Asterisk failed %r (result=-1) but the caller is still there "
            "(missing audio?); going on",
            *(self.call_id, command.rstrip("\n")),
        )


def _discard(path: Path) -> None:
    """Delete a recording that is not kept (it may not exist; Asterisk adds ``.wav``)."""
    try:
        path.with_name(path.name + ".wav").unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("cannot delete the unused recording %s (%s)", path.name, exc.strerror)
