"""``AgiLine``: one AGI session over any pair of text streams (stdin/stdout for a script
Asterisk starts, a socket's files for FastAGI): commands out, replies in.

``AgiLine`` is pyst2's ``AGI`` without pyst2's constructor (which installs a SIGHUP handler,
impossible outside the main thread, and writes the environment and every reply to stderr:
replies carry the keys of a PIN). Replies are read and judged by ``agi_protocol``. Our
code sees a caller who left as ``CallerGone`` (``ivr.phone.line``); pyst2's own methods
(``line.answer()``, ``line.wait_for_digit(...)``) raise pyst2's ``AGIHangup``, as pyst2 does.
What is done with the line is the driver's business (``ivr.phone.asterisk.agi_driver``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from asterisk.agi import AGI, AGIAppError, AGIHangup  # type: ignore[import-untyped]

from ivr.phone.asterisk import agi_protocol as proto
from ivr.phone.asterisk.agi_protocol import AgiEnvironment, AgiError, AgiPeerError, LineGone, Reply
from ivr.phone.line import CallerGone
from ivr.services.metrics import AGI_COMMAND_SECONDS, command_word

logger = logging.getLogger(__name__)


class LineReader(Protocol):
    def readline(self) -> str: ...


class LineWriter(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


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
        #: pyst2's command waiting for its reply: its word and when it was sent (metrics).
        self._sent: tuple[str, float] | None = None
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
            raise CallerGone("the caller hung up")

    # -- commands and replies -----------------------------------------------------------

    def exchange(self, command: str, shown: str | None = None) -> Reply | LineGone:
        """Send one command line (from ``agi_protocol``'s builders); read its reply.
        ``shown``: what the trace logs instead of a command that carries a secret.
        Raises ``CallerGone`` when the line is known to be gone already."""
        self.test_hangup()
        began = time.monotonic()
        self._write(command, shown)
        reply = self._reply()
        AGI_COMMAND_SECONDS.labels(command_word(command)).observe(time.monotonic() - began)
        if proto.gone(reply) is not None:
            self.flag_hangup()
        return reply

    def execute(self, command: str, *args: object) -> dict[str, tuple[str, str]]:
        """pyst2's, for pyst2's own methods: a caller gone raises pyst2's ``AGIHangup``."""
        try:
            return dict(super().execute(command, *args))
        except CallerGone as left:
            raise AGIHangup(left.reason) from None

    def send_command(self, command: str, *args: object) -> None:
        """pyst2's: arguments already written (quoted where needed) by the caller."""
        self._sent = (command_word(command), time.monotonic())
        self._write(proto.join_command(command, *args))

    def get_result(self, stdin: object = None) -> dict[str, tuple[str, str]]:
        """pyst2's, with our reading of replies: a hang-up raises ``CallerGone`` (``execute``
        makes it pyst2's ``AGIHangup``), ``result=-1`` pyst2's ``AGIAppError``."""
        reply = self._reply()
        if self._sent is not None:
            word, began = self._sent
            AGI_COMMAND_SECONDS.labels(word).observe(time.monotonic() - began)
            self._sent = None
        left = proto.gone(reply)
        if left is not None:
            self.flag_hangup()
            raise CallerGone(left.reason)
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
            raise CallerGone(f"cannot write to the line ({type(exc).__name__})") from None

    def _reply(self) -> Reply | LineGone:
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
