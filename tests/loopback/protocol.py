"""The loopback phone's protocol, as pure functions: text lines over a TCP connection.

A call is one connection. The phone opens it with one line saying what it is::

    CALL <call_id> <caller_id|-> <dialled|->     a caller dials the hotline
    CALLBACK <callback_id> <call_id>             a customer answers a callback we placed
    MISSED <callback_id> <reason>                that callback did not reach the customer

Then the controller sends commands, one line each, and the phone answers each with one
line (``HANGUP`` is not answered: the controller closes the connection)::

    ANSWER                                       -> OK
    PLAY <prompt_id> <escape|-> [name=value ...] -> OK | KEY <k> | HANGUP
    FILE <name> <escape|->                       -> OK | KEY <k> | HANGUP
    WAIT <node> <min> <max> <seconds> <finish|-> -> KEYS <digits> | TIMEOUT | HANGUP
    SET <name> <value>                           -> OK | HANGUP
    RING <endpoint> <seconds> <entry_id>         -> [PICKUP then] ANSWER | NOANSWER | BUSY
    RECORD <node> <name> <seconds>               -> RECORDED <location> | SILENT | HANGUP
    HANGUP

``HANGUP`` (or the connection closing) as an answer is the caller gone; anything else
unexpected is a broken line. Values are percent-encoded so that each is one token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from ivr.errors import IvrError

NONE = "-"  # an empty field
CALL, CALLBACK, MISSED = "CALL", "CALLBACK", "MISSED"
ANSWER, PLAY, FILE, WAIT, SET, RING, HANGUP = (
    "ANSWER", "PLAY", "FILE", "WAIT", "SET", "RING", "HANGUP",
)  # fmt: skip
OK, KEY, KEYS, TIMEOUT, PICKUP = "OK", "KEY", "KEYS", "TIMEOUT", "PICKUP"
RECORD, RECORDED, SILENT = "RECORD", "RECORDED", "SILENT"


class BadLine(IvrError):
    """A line that is not the loopback protocol (``what``: what was expected)."""


@dataclass(frozen=True)
class Start:
    """The connection's first line."""

    kind: str  # CALL, CALLBACK or MISSED
    call_id: str = ""
    caller_id: str = ""
    dialled: str = ""
    callback_id: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Message:
    """A command or an answer: its verb, its fields and its named values."""

    verb: str
    fields: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)

    def field(self, index: int) -> str:
        """A field, ``""`` for ``-`` or when missing."""
        value = self.fields[index] if index < len(self.fields) else NONE
        return "" if value == NONE else value


def line(verb: str, *fields: str | int | float, **values: str) -> str:
    """One protocol line (without its newline)."""
    tokens = [verb, *(quote(str(f), safe="*#") or NONE for f in fields)]
    tokens += [f"{name}={quote(value, safe='*#')}" for name, value in values.items()]
    return " ".join(tokens)


def parse(text: str) -> Message:
    """A line as a ``Message``; named values are the ``name=value`` tokens."""
    tokens = text.strip().split(" ")
    if not tokens or not tokens[0]:
        raise BadLine("an empty line")
    fields: list[str] = []
    values: dict[str, str] = {}
    for token in tokens[1:]:
        name, equals, value = token.partition("=")
        if equals:
            values[name] = unquote(value)
        else:
            fields.append(unquote(token))
    return Message(tokens[0], tuple(fields), values)


def start(text: str) -> Start:
    """The first line: ``CALL``, ``CALLBACK`` or ``MISSED``."""
    message = parse(text)
    if message.verb == CALL and message.field(0):
        return Start(CALL, message.field(0), message.field(1), message.field(2))
    if message.verb == CALLBACK and message.field(0).isdigit() and message.field(1):
        return Start(CALLBACK, message.field(1), callback_id=int(message.field(0)))
    if message.verb == MISSED and message.field(0).isdigit():
        reason = message.field(1) or "no answer"
        return Start(MISSED, callback_id=int(message.field(0)), reason=reason)
    raise BadLine(f"a call starts with CALL, CALLBACK or MISSED, not {message.verb[:20]!r}")
