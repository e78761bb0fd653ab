"""AGI command lines, written safely (no I/O): every argument checked and quoted so a
value can never break the line protocol (``UnsafeArgument``)."""

from __future__ import annotations

import re

from ivr.phone.asterisk.agi_errors import UnsafeArgument

#: Every key a caller can press that a gather may take (escape digits for barge-in).
KEYPAD = "0123456789*#"

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


def record_file(path: str, max_ms: int, silence_seconds: int, escape_digits: str = "#") -> str:
    """``RECORD FILE <path> wav # <ms> s=<silence>``: record the caller into
    ``<path>.wav`` until a key of ``escape_digits``, ``max_ms`` or that much silence."""
    return format_command("RECORD FILE", path, "wav", escape_digits, max_ms, f"s={silence_seconds}")


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
