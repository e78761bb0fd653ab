"""The AGI driver: the hotline on an Asterisk channel, over any pair of text streams
(stdin/stdout for a script Asterisk starts, a socket's files for FastAGI).

``AgiLine`` is pyst2's ``AGI`` without pyst2's constructor (which installs a SIGHUP handler,
impossible outside the main thread, and writes the environment and every reply to stderr:
replies carry the keys of a PIN). Replies are read and judged by ``agi_protocol``.

``run_call`` answers the channel and runs one ``CallSession``, mapping actions to AGI
commands as ``docs/asterisk.md`` says. However the caller leaves (SIGHUP, a ``HANGUP`` line,
``511``, ``result=-1``, end of input, a broken pipe) the engine gets ``HungUp`` and the call
record says ``abandoned`` at the node. A protocol error (510, 520, garbage) is logged,
without the line during a secure gather, and the call is recorded the same way and handed
back to the dialplan, which routes the caller somewhere safe.

``result=-1`` alone is checked with ``CHANNEL STATUS`` first: Asterisk 22 also answers a
prompt file it cannot find with -1, on a live channel; the call then goes on (a warning is
logged). Asterisk remembers that failure: the AGI ends with ``AGISTATUS=FAILURE`` although
``IVR_OUTCOME`` is set, so a dialplan must read ``IVR_OUTCOME`` before ``AGISTATUS``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from asterisk.agi import AGI, AGIAppError, AGIHangup  # type: ignore[import-untyped]

from ivr.audio.speech import speaker
from ivr.audio.steps import PlayFile, SayDigits, SayNumber, Step
from ivr.flow import actions as act
from ivr.flow.events import Digits, Event, HungUp, Timeout
from ivr.flow.state import QUEUED, TRANSFERRED, CallStart
from ivr.phone.asterisk import agi_protocol as proto
from ivr.phone.asterisk.agi_protocol import AgiEnvironment, AgiError, AgiPeerError, Hangup, Reply
from ivr.services import call_ids

if TYPE_CHECKING:
    from ivr.app.bootstrap import Hotline
    from ivr.audio.values import Renderer
    from ivr.phone.session import CallSession

logger = logging.getLogger(__name__)

Speaker = Callable[[act.Prompt], list[Step]]


#: Call data mirrored into channel variables (IVR_<NAME>) for the dialplan; account
#: numbers and names stay out of Asterisk's logs.
MIRRORED = frozenset({"language", "reason", "verified"})
#: After the last digit an entry allows, how long to wait for its finish key (seconds).
FINISH_GRACE = 2.0


class LineReader(Protocol):
    def readline(self) -> str: ...


class LineWriter(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


class HangupDetected(AGIHangup):  # type: ignore[misc]  # pyst2 has no type information
    """The caller is gone. Raised inside the driver (and to pyst2-style callers of
    ``AgiLine``); ``run_call`` turns it into a ``HungUp`` event."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class _Discard:
    """Where pyst2 would write its chatter, should any of its code still try."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class AgiLine(AGI):  # type: ignore[misc]  # pyst2 has no type information
    """One AGI session. Reads the environment at once (``env``); ``secure`` is set while
    the caller keys in secure digits: nothing read from the line is logged then."""

    def __init__(
        self, reader: LineReader, writer: LineWriter, env: AgiEnvironment | None = None
    ) -> None:
        """``env``: the environment when the caller has read it already (FastAGI)."""
        # pyst2's __init__ is deliberately not called (see the module docstring).
        self.stdin = reader
        self.stdout = writer
        self.stderr = _Discard()
        self._got_sighup = False  # pyst2's flag; its _handle_sighup(signum, frame) sets it
        self.secure = False
        #: ``quiet(True)`` before a command that may take long without a reply (Dial: the
        #: whole talk), ``quiet(False)`` after; FastAGI lifts its idle timeout meanwhile.
        self.quiet: Callable[[bool], None] = lambda _quiet: None
        #: The protocol error that ended the call early, if one did (the driver logged it).
        self.failure: AgiError | None = None
        self.env: AgiEnvironment = (
            env if env is not None else proto.read_environment(self._next_line)
        )

    # -- hang-up ------------------------------------------------------------------------

    def flag_hangup(self) -> None:
        """The caller hung up (a SIGHUP handler may call this, or ``_handle_sighup``)."""
        self._got_sighup = True

    @property
    def hung_up(self) -> bool:
        return bool(self._got_sighup)

    def test_hangup(self) -> None:
        if self._got_sighup:
            raise HangupDetected("the caller hung up")

    # -- commands and replies -----------------------------------------------------------

    def exchange(self, command: str, shown: str | None = None) -> Reply | Hangup:
        """Send one command line (from ``agi_protocol``'s builders); read its reply.
        ``shown``: what the trace logs instead of a command that carries a secret.
        Raises ``HangupDetected`` when the line is known to be gone already."""
        self.test_hangup()
        self._write(command, shown)
        reply = self._reply()
        if proto.gone(reply) is not None:
            self.flag_hangup()
        return reply

    def send_command(self, command: str, *args: object) -> None:
        """pyst2's: arguments already written (quoted where needed) by the caller."""
        self._write(proto.join_command(command, *args))

    def get_result(self, stdin: object = None) -> dict[str, tuple[str, str]]:
        """pyst2's, with our reading of replies: a hang-up raises ``HangupDetected``,
        ``result=-1`` pyst2's ``AGIAppError`` (as pyst2 does)."""
        reply = self._reply()
        left = proto.gone(reply)
        if left is not None:
            self.flag_hangup()
            raise HangupDetected(left.reason)
        assert isinstance(reply, Reply)
        if reply.number == -1:
            raise AGIAppError("Error executing application, or hangup")
        result = {"result": (reply.result, reply.data or "")}
        if reply.endpos is not None:
            result["endpos"] = (str(reply.endpos), "")
        return result

    def _write(self, command: str, shown: str | None = None) -> None:
        logger.debug("AGI >> %s", (shown or command).rstrip("\n"))
        try:
            self.stdout.write(command)
            self.stdout.flush()
        except (OSError, ValueError) as exc:  # broken pipe, reset, closed stream
            self.flag_hangup()
            raise HangupDetected(f"cannot write to the line ({type(exc).__name__})") from None

    def _reply(self) -> Reply | Hangup:
        reply = proto.read_reply(self._next_line)
        if self.secure:
            logger.debug("AGI << (a reply during a secure gather: not logged)")
        else:
            shown = reply.line.rstrip("\n") if isinstance(reply, Reply) else reply
            logger.debug("AGI << %s", shown)
        return reply

    def _next_line(self) -> str:
        try:
            return self.stdin.readline()
        except UnicodeDecodeError:
            raise AgiPeerError("a line that is not UTF-8", "") from None
        except (OSError, ValueError) as exc:  # a timeout, a reset, a closed stream: gone
            logger.debug("AGI line unreadable (%s): taken as its end", type(exc).__name__)
            return ""


# -- one call ---------------------------------------------------------------------------


def _call_id(unique_id: str) -> str:
    """Asterisk's ``agi_uniqueid``; an id of our own when it is missing or cannot be
    stored (the caller is still served)."""
    try:
        return call_ids.checked(unique_id, "agi_uniqueid")
    except call_ids.BadCallId as exc:
        if unique_id:
            logger.warning("%s: the call gets an id of its own", exc)
        return f"agi-{uuid.uuid4().hex}"


def run_call(
    line: AgiLine,
    hotline: Hotline,
    channel: str = "agi",
    render_text: Renderer | None = None,
) -> CallSession:
    """Answer the channel and run one call to its end; returns the finished session.
    ``render_text`` speaks free-text values (see ``ivr.audio.values``); by default the
    hotline renders them into the flow's prompts folder."""
    env = line.env
    call = CallStart(
        call_id=_call_id(env.call_id),
        ani=env.caller_id,
        dnid=env.dnid,
        started_at=hotline.clock.now().timestamp(),
    )
    driver = _Driver(line, call.call_id)
    trouble = driver.guarded("ANSWER", driver.answer)
    session = hotline.session(call, channel, holds=True)
    actions = session.start()
    if trouble is not None:  # gone (or broken) before the first prompt
        session.answer(trouble)
        return session
    try:
        flow = session.engine.flow
        render_text = render_text or hotline.text_renderer(flow)
        speak = speaker(flow.catalog, render_text)
        driver.run(session, speak, actions)
        while driver.enqueued is not None and session.state is not None and not line.hung_up:
            from ivr.phone.asterisk.waiting import hold_caller  # it needs this module's driver

            how, driver.enqueued = driver.enqueued, None
            node = hold_caller(driver, hotline, session, how)
            if node is None:
                break
            driver.run(session, speak, session.divert(node))  # the queue's policy sent it on
    except Exception:
        _close(session)
        raise
    finally:
        session.close_record()  # a queued caller's record stays open through the hold
    return session


def _close(session: CallSession) -> None:
    """After a failure mid-call: record the call as left where it was, if it can be."""
    if session.ended:
        return
    try:
        session.answer(HungUp())
    except Exception as exc:  # the store may be what failed: the original error matters
        logger.warning("call %s: cannot record its end (%s)", session.call.call_id, exc)


def _no_speaker(prompt: act.Prompt) -> list[Step]:
    raise RuntimeError("no prompts before the session starts")


class _Driver:
    """Plays a session's actions on the line and feeds the caller's answers back."""

    def __init__(self, line: AgiLine, call_id: str) -> None:
        self.line = line
        self.call_id = call_id
        self.speak: Speaker = _no_speaker
        self.enqueued: act.Enqueue | None = None

    def run(self, session: CallSession, speak: Speaker, actions: list[act.Action]) -> None:
        self.speak = speak
        while True:
            where = session.state.node if session.state else "?"
            event = self.guarded(where, self._perform, actions)
            if event is None:
                return  # the flow ended: the dialplan takes the call from here
            actions = session.answer(event)
            if isinstance(event, HungUp):
                return

    def guarded(self, where: str, work: Callable[..., Event | None], *args: Any) -> Event | None:
        """``work(*args)``, with the caller leaving or a protocol error turned into
        ``HungUp``."""
        try:
            return work(*args)
        except HangupDetected as left:
            logger.info("call %s: the caller hung up at %s (%s)", self.call_id, where, left.reason)
            return HungUp()
        except AgiError as exc:
            self.line.failure = exc
            if self.line.secure:  # the line may hold PIN digits: say what went wrong, not it
                logger.error(
                    "call %s at %s: %s (%s) during a secure gather, line not logged; "
                    "back to the dialplan",
                    *(self.call_id, where, type(exc).__name__, exc.reason),
                )
            else:
                logger.error("call %s at %s: %s; back to the dialplan", self.call_id, where, exc)
            return HungUp()
        finally:
            self.line.secure = False

    def answer(self) -> None:
        self._do(proto.answer())

    def _perform(self, actions: list[act.Action]) -> Event | None:
        """Do the actions; the caller's answer to a closing ``Gather``, or None. A key
        typed ahead during the plays (``act.typed_ahead_into``) ends them and answers it."""
        ahead = act.typed_ahead_into(actions)
        typed = ""
        for action in actions:
            if isinstance(action, act.Play):
                if not typed:
                    typed = self._announce(action, ahead)
            elif isinstance(action, act.Gather):
                return self._gather(action, typed)
            elif isinstance(action, act.SetData):
                if action.name in MIRRORED:  # no personal data in channel variables
                    self._set(proto.variable_name(action.name), action.value)
            elif isinstance(action, act.Enqueue):
                self._set("QUEUE", action.queue)
                self._set("PRIORITY", str(action.priority))
                self._set("SKILL", action.skill)
                self._set("CALLBACK", action.callback)
                self._set("LANGUAGE", action.language)
                self._set("OUTCOME", QUEUED)  # last: the dialplan acts on a complete set
                self.enqueued = action
            elif isinstance(action, act.Transfer):
                self._set("TRANSFER", action.to)
                self._set("OUTCOME", TRANSFERRED)
            elif isinstance(action, act.Hangup):
                self._set("OUTCOME", action.outcome)
                self._do(proto.hangup())
            else:  # RunAction: the session runs use cases itself
                raise TypeError(f"a driver cannot perform {action!r}")
        return None

    # -- what the wait for a person uses (``ivr.phone.asterisk.waiting.Line``) -------------------

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

    def dial(self, target: str) -> str:
        """``EXEC Dial``; DIALSTATUS afterwards. Raises ``HangupDetected`` if the caller
        hung up (during the talk, too)."""
        command = proto.exec_application("Dial", target)
        self.line.quiet(True)
        try:
            outcome = proto.completed(self.line.exchange(command))
        finally:
            self.line.quiet(False)
        if isinstance(outcome, proto.LineHungUp):
            raise HangupDetected(outcome.reason)
        if isinstance(outcome, proto.Failed):  # Dial returns -1 when the caller hangs up
            self._still_there(command)
        value = proto.variable_value(self.line.exchange(proto.get_variable("DIALSTATUS")))
        if isinstance(value, proto.LineHungUp):
            raise HangupDetected(value.reason)
        return value or ""

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
        elif isinstance(outcome, proto.LineHungUp):
            raise HangupDetected(outcome.reason)
        return outcome.key if isinstance(outcome, proto.KeyPressed) else ""

    def _set(self, name: str, value: str) -> None:
        self._do(proto.set_variable(f"IVR_{name}", value))

    def _do(self, command: str) -> None:
        """ANSWER, SET VARIABLE, HANGUP."""
        outcome = proto.completed(self.line.exchange(command))
        if isinstance(outcome, proto.Failed):
            self._still_there(command)
        elif isinstance(outcome, proto.LineHungUp):
            raise HangupDetected(outcome.reason)

    def _still_there(self, command: str) -> None:
        """After ``result=-1``: hung up (raise) or a failure on a live channel (go on)."""
        left = proto.channel_up(self.line.exchange(proto.channel_status()))
        if left is not None:
            raise HangupDetected(f"result=-1, then {left.reason}")
        logger.warning(
            "call %s: Asterisk failed %r (result=-1) but the caller is still there "
            "(missing audio?); going on",
            *(self.call_id, command.rstrip("\n")),
        )
