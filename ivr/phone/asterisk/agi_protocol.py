"""The AGI protocol as values: no I/O here (the caller owns the streams).

Theory of operation
-------------------
Asterisk opens an AGI session with the *environment*: ``key: value`` lines ended by a
blank line (FastAGI puts ``agi_network: yes`` first). Then the script sends one command
line at a time and reads one reply: ``200 result=<n>[ (data)][ endpos=<n>]``, or ``510``
(unknown command), or a ``520-`` usage block ended by ``520 End of proper usage.``, or
``511`` once the channel is dead. Besides replies the line may carry ``HANGUP`` (FastAGI:
the caller hung up; possibly twice) and may simply end (the pipe or socket closed).

``read_environment`` and ``read_reply`` take a ``next_line`` callable (``readline`` of a
text stream: ``""`` at end of input) and return values: an ``AgiEnvironment``, a ``Reply``
or a ``Hangup`` notice. What a reply *means* depends on the command, so that is decided
by small pure functions: ``heard`` (STREAM FILE, SAY ..., WAIT FOR DIGIT: a key, nothing
or a hang-up), ``entered`` (GET DATA) and ``completed`` (ANSWER, SET VARIABLE, HANGUP).
A caller hanging up is a value (``LineHungUp``), never an exception.

``result=-1`` is ambiguous (``Failed``): Asterisk 22 sends it when the caller hung up
during the command, and also for ``STREAM FILE`` of a file it cannot find, on a live
channel. ``CHANNEL STATUS`` settles it: ``511`` (and, over FastAGI, a ``HANGUP`` line) on
a dead channel, ``200 result=6`` on a live one (``channel_up``). Taking every -1 for a
hang-up would record a call whose prompt audio is missing as abandoned. Exceptions are for
protocol errors: ``AgiPeerError`` when the other side sent what the protocol does not
allow (garbage, an empty line, a broken environment), ``AgiLocalError`` when we did wrong
(510, 520, a command that cannot be written). Both carry the raw line; a driver must not
log it while the caller is keying in secure digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import parse_qsl

from ivr.errors import IvrError

#: Every key a caller can press that a gather may take (escape digits for barge-in).
KEYPAD = "0123456789*#"
#: Asterisk's placeholder for an unset caller id field.
UNKNOWN = "unknown"
#: A longer environment (or usage block) than this is not Asterisk's (it sends about 25).
MAX_ENVIRONMENT_LINES = 512
#: One line from Asterisk (an environment line or a reply), newline included, in bytes.
MAX_LINE_BYTES = 8192
#: The whole environment block, in bytes (Asterisk's is about 1 KB).
MAX_ENVIRONMENT_BYTES = 65536

NextLine = Callable[[], str]


# -- errors ---------------------------------------------------------------------------------


class AgiError(IvrError):
    """An AGI exchange that went wrong. ``line`` is exactly what was read (or written)."""

    def __init__(self, reason: str, line: str) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"{reason}: {shown(line)}")


#: What of a line an error message shows (the peer may send up to a line's limit).
SHOWN = 60


def shown(line: str) -> str:
    """``line`` escaped, only its start when it is long: what a log may show of it."""
    if len(line) <= SHOWN:
        return repr(line)
    return f"{line[:SHOWN]!r}... ({len(line)} characters)"


class AgiPeerError(AgiError):
    """The other side did wrong: a line the protocol does not allow."""


class OverLimit(AgiPeerError):
    """The other side sent more than a limit allows (``MAX_LINE_BYTES``...): the error says
    which limit, and carries none of what was sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "")

    def __str__(self) -> str:
        return self.reason


class AgiLocalError(AgiError):
    """We did wrong: Asterisk refused a command, or a command cannot be written at all."""


class InvalidCommand(AgiLocalError):
    """``510 Invalid or unknown command``."""


class CommandUsage(AgiLocalError):
    """A ``520`` reply: the command's syntax was wrong. ``usage`` is what Asterisk said."""

    def __init__(self, line: str, usage: tuple[str, ...]) -> None:
        self.usage = usage
        super().__init__("Asterisk refused the command's syntax (520)", line)


class UnsafeArgument(AgiLocalError):
    """A command argument that would break the line protocol (a newline, a NUL)."""


# -- the environment ------------------------------------------------------------------------


@dataclass(frozen=True)
class AgiEnvironment:
    """What Asterisk says about the call before the first command, in the order sent."""

    items: tuple[tuple[str, str], ...]

    @cached_property
    def values(self) -> dict[str, str]:
        return dict(self.items)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def _text(self, key: str) -> str:
        return self.values.get(key, "")

    @property
    def network(self) -> bool:
        """FastAGI (``agi_network: yes``) rather than a process Asterisk started."""
        return self._text("agi_network").lower() == "yes"

    @property
    def call_id(self) -> str:
        return self._text("agi_uniqueid")

    @property
    def caller_id(self) -> str:
        """The caller's number; ``""`` when Asterisk has none (``unknown``)."""
        return _known(self._text("agi_callerid"))

    @property
    def caller_name(self) -> str:
        return _known(self._text("agi_calleridname"))

    @property
    def dnid(self) -> str:
        return _known(self._text("agi_dnid"))

    @property
    def language(self) -> str:
        return self._text("agi_language")

    @property
    def channel(self) -> str:
        return self._text("agi_channel")

    @property
    def context(self) -> str:
        return self._text("agi_context")

    @property
    def extension(self) -> str:
        return self._text("agi_extension")

    @property
    def request(self) -> str:
        return self._text("agi_request")

    @property
    def args(self) -> tuple[str, ...]:
        """``agi_arg_1`` .. ``agi_arg_N``, in order of N."""
        numbered = []
        for key, value in self.items:
            number = key.removeprefix("agi_arg_")
            if number != key and number.isdigit():
                numbered.append((int(number), value))
        return tuple(value for _, value in sorted(numbered))

    @property
    def network_script(self) -> str:
        """Everything after ``host[:port]/`` of the ``agi://`` URL, query string included."""
        script = self._text("agi_network_script")
        if not script and self.request.startswith("agi://"):
            script = self.request.removeprefix("agi://").partition("/")[2]
        return script

    @property
    def script(self) -> str:
        """The script's path without its query string: ``hotline`` for ``hotline?x=1``."""
        return self.network_script.partition("?")[0].strip("/")

    @property
    def script_args(self) -> dict[str, str]:
        """The query string's arguments: ``{"x": "1"}`` for ``hotline?x=1``."""
        return dict(parse_qsl(self.network_script.partition("?")[2], keep_blank_values=True))


def _known(value: str) -> str:
    return "" if value.strip().lower() == UNKNOWN else value.strip()


_ENV_LINE = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*): ?(?P<value>.*)")


def parse_environment(lines: Iterable[str]) -> AgiEnvironment:
    """The environment from its lines (the blank line that ends it excluded). A value may
    hold ``:`` (only the first one separates)."""
    items = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        match = _ENV_LINE.fullmatch(line)
        if match is None:
            raise AgiPeerError("not an AGI environment line", raw)
        items.append((match["key"], match["value"]))
    return AgiEnvironment(tuple(items))


def read_environment(next_line: NextLine) -> AgiEnvironment:
    """Read the environment through its blank line; each line is checked as it comes,
    and the block may hold at most ``MAX_ENVIRONMENT_LINES`` lines and
    ``MAX_ENVIRONMENT_BYTES`` bytes (``next_line`` bounds a line's length)."""
    lines: list[str] = []
    size = 0
    while True:
        raw = next_line()
        if raw == "":
            raise AgiPeerError("the AGI environment ended before its blank line", "".join(lines))
        if raw.strip() == "":
            return parse_environment(lines)
        if len(lines) >= MAX_ENVIRONMENT_LINES:
            raise AgiPeerError("the AGI environment does not end", raw)
        size += len(raw.encode("utf-8", "replace"))
        if size > MAX_ENVIRONMENT_BYTES:
            raise OverLimit(f"an AGI environment of over {MAX_ENVIRONMENT_BYTES} bytes")
        if _ENV_LINE.fullmatch(raw.rstrip("\r\n")) is None:
            raise AgiPeerError("not an AGI environment line", raw)
        lines.append(raw)


# -- replies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One reply. For 200: ``result`` as sent (``""`` for ``result= (timeout)``), the text
    in parentheses as ``data``, ``endpos`` when given. For other codes, ``text``."""

    code: int
    result: str = ""
    data: str | None = None
    endpos: int | None = None
    text: str = ""
    line: str = field(default="", repr=False, compare=False)  # as read: may hold a key

    @property
    def number(self) -> int | None:
        """``result`` as an integer, when it is one."""
        return int(self.result) if _INTEGER.fullmatch(self.result) else None


@dataclass(frozen=True)
class Hangup:
    """Not a reply: the line says the caller is gone (``HANGUP``) or it ended."""

    reason: str


HANGUP_LINE = Hangup("HANGUP")
END_OF_INPUT = Hangup("end of input")

_INTEGER = re.compile(r"-?[0-9]+")
_OK = re.compile(
    r"200 result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?P<pairs>(?: [A-Za-z_]+=\S*)*) *"
)
_CODE = re.compile(r"(?P<code>[1-9][0-9]{2})(?P<sep>[ -])(?P<text>.*)")


def parse_reply(raw: str) -> Reply | Hangup:
    """One line: a ``Reply`` (any code, ``520-`` continuations included) or a ``Hangup``
    notice. ``""`` (no newline) is end of input; an empty line is garbage."""
    if raw == "":
        return END_OF_INPUT
    line = raw.rstrip("\r\n")
    if line.strip() == "HANGUP":
        return HANGUP_LINE
    ok = _OK.fullmatch(line)
    if ok:
        pairs = dict(p.split("=", 1) for p in ok["pairs"].split())
        endpos = pairs.get("endpos", "")
        return Reply(
            200,
            result=ok["result"],
            data=ok["data"],
            endpos=int(endpos) if _INTEGER.fullmatch(endpos) else None,
            line=raw,
        )
    other = _CODE.fullmatch(line)
    if other is None or other["code"] == "200":
        raise AgiPeerError("not an AGI reply", raw)
    if other["sep"] == "-" and other["code"] != "520":
        raise AgiPeerError("only 520 replies span lines", raw)
    return Reply(int(other["code"]), text=other["text"], line=raw)


def read_reply(next_line: NextLine) -> Reply | Hangup:
    """Read one reply (all of a ``520`` block). Returns 200 and 511 replies and hang-up
    notices; raises ``InvalidCommand`` (510), ``CommandUsage`` (520), ``AgiPeerError``."""
    first = next_line()
    reply = parse_reply(first)
    if isinstance(reply, Hangup) or reply.code in (200, 511):
        return reply
    if reply.code == 510:
        raise InvalidCommand("Asterisk does not know the command (510)", first)
    if reply.code != 520:
        raise AgiPeerError(f"unexpected reply code {reply.code}", first)
    lines, usage = [first], []
    if first.startswith("520-"):
        while True:
            raw = next_line()
            if raw == "":
                raise AgiPeerError("a 520 usage block ended early", "".join(lines))
            if len(lines) > MAX_ENVIRONMENT_LINES:
                raise AgiPeerError("a 520 usage block does not end", raw)
            lines.append(raw)
            if raw.startswith("520 "):
                break
            usage.append(raw.rstrip("\r\n"))
    raise CommandUsage("".join(lines), tuple(usage))


# -- what a reply means -----------------------------------------------------------------


@dataclass(frozen=True)
class KeyPressed:
    key: str


@dataclass(frozen=True)
class NoKey:
    """The prompt played to its end, or the wait timed out."""


@dataclass(frozen=True)
class LineHungUp:
    """The caller is gone; ``reason`` says how we know."""

    reason: str


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


def gone(reply: Reply | Hangup) -> LineHungUp | None:
    """The sure signs that the caller is gone: a ``HANGUP`` line, end of input, ``511``
    (a command refused on a dead channel), or ``(hangup)``."""
    if isinstance(reply, Hangup):
        return LineHungUp(reply.reason)
    if reply.code == 511:
        return LineHungUp("511 (dead channel)")
    if reply.data == "hangup":
        return LineHungUp("(hangup)")
    return None


def completed(reply: Reply | Hangup) -> LineHungUp | Failed | None:
    """ANSWER, SET VARIABLE, HANGUP: None when done."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    return Failed() if reply.number == -1 else None


def heard(reply: Reply | Hangup) -> KeyPressed | NoKey | LineHungUp | Failed:
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


def entered(reply: Reply | Hangup) -> Entered | LineHungUp | Failed:
    """GET DATA: ``result=<digits>``, ``result=<digits so far> (timeout)``, ``-1``."""
    left = completed(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    if not set(reply.result) <= DTMF:
        raise AgiPeerError("GET DATA keys that are not keys", reply.line)
    return Entered(reply.result, reply.data == "timeout")


def channel_up(reply: Reply | Hangup) -> LineHungUp | None:
    """CHANNEL STATUS (refused with ``511`` on a dead channel): None while the caller is
    there (``200 result=6`` when up)."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    if reply.number is None or reply.number < 0:
        return LineHungUp(f"channel status {reply.result or '?'}")
    return None


# -- commands -------------------------------------------------------------------------------

_COMMAND = re.compile(r"[A-Z]+(?: [A-Z]+)*")
_FORBIDDEN = ("\n", "\r", "\0")
_BARE = re.compile(r"[^\s\"\\]+")


def quote(value: str | int) -> str:
    """A double-quoted argument (Asterisk's parser takes ``\\"`` and ``\\\\`` escapes)."""
    text = str(value)
    _check(text)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def argument(value: str | int) -> str:
    """An argument as written: bare when it can be, quoted when empty or when it holds a
    space, a quote or a backslash."""
    text = str(value)
    _check(text)
    return text if _BARE.fullmatch(text) else quote(text)


def join_command(command: str, *args: object) -> str:
    """A command line from words already written (pyst2's style), newline added."""
    line = " ".join([command.strip(), *(str(a) for a in args)]).strip()
    _check(line)
    return line + "\n"


def format_command(command: str, *args: str | int) -> str:
    """``format_command("STREAM FILE", "en/welcome", "")`` -> ``STREAM FILE en/welcome ""``
    plus the newline."""
    if not _COMMAND.fullmatch(command):
        raise UnsafeArgument("not an AGI command name", command)
    return join_command(command, *(argument(a) for a in args))


def _check(text: str) -> None:
    if any(bad in text for bad in _FORBIDDEN):
        raise UnsafeArgument("a command cannot hold a newline or NUL", text)


def answer() -> str:
    return format_command("ANSWER")


#: What a secret argument is logged as.
SECRET_MASK = "******"


def redacted(command: str) -> str:
    """A command that speaks a secret, as the trace logs it: the verb, then a mask
    (``SAY DIGITS 304091 ""`` -> ``SAY DIGITS ******``)."""
    return " ".join([*command.split(" ")[:2], SECRET_MASK])


def stream_file(name: str, escape_digits: str = "") -> str:
    return format_command("STREAM FILE", name, escape_digits)


def say_number(number: int, escape_digits: str = "") -> str:
    return format_command("SAY NUMBER", number, escape_digits)


def say_digits(digits: str, escape_digits: str = "") -> str:
    return format_command("SAY DIGITS", digits, escape_digits)


def wait_for_digit(timeout_ms: int) -> str:
    return format_command("WAIT FOR DIGIT", timeout_ms)


def set_variable(name: str, value: str) -> str:
    """``SET VARIABLE NAME "value"``: the value always quoted."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise UnsafeArgument("not a channel variable name", name)
    return join_command("SET VARIABLE", name, quote(value))


def hangup() -> str:
    return format_command("HANGUP")


def channel_status() -> str:
    return format_command("CHANNEL STATUS")


def variable_name(name: str) -> str:
    """A call-data name as a channel variable suffix: upper case, other characters ``_``."""
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def exec_application(application: str, arguments: str) -> str:
    """``EXEC Dial "PJSIP/agent-bob,20,g"``: a dialplan application, its arguments as the
    dialplan writes them (comma separated)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", application):
        raise UnsafeArgument("not a dialplan application name", application)
    return join_command("EXEC", application, quote(arguments))


def get_variable(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\([^()\s]*\))?", name):
        raise UnsafeArgument("not a channel variable name", name)
    return join_command("GET VARIABLE", name)


def variable_value(reply: Reply | Hangup) -> str | LineHungUp | None:
    """GET VARIABLE: ``200 result=1 (value)``, or ``200 result=0`` when it is not set."""
    left = gone(reply)
    if left is not None:
        return left
    assert isinstance(reply, Reply)
    return reply.data if reply.number == 1 else None
