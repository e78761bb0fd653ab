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
or a ``LineGone`` notice. What a reply *means* depends on the command, so that is decided
by small pure functions: ``heard`` (STREAM FILE, SAY ..., WAIT FOR DIGIT: a key, nothing
or a hang-up), ``entered`` (GET DATA) and ``completed`` (ANSWER, SET VARIABLE, HANGUP).
A caller hanging up is a value (``LineGone``), never an exception.

``result=-1`` is ambiguous (``Failed``): Asterisk 22 sends it when the caller hung up
during the command, and also for ``STREAM FILE`` of a file it cannot find, on a live
channel. ``CHANNEL STATUS`` settles it: ``511`` (and, over FastAGI, a ``HANGUP`` line) on
a dead channel, ``200 result=6`` on a live one (``channel_up``). Taking every -1 for a
hang-up would record a call whose prompt audio is missing as abandoned. Exceptions are for
protocol errors: ``AgiPeerError`` when the other side sent what the protocol does not
allow (garbage, an empty line, a broken environment), ``AgiLocalError`` when we did wrong
(510, 520, a command that cannot be written). Both carry the raw line; a driver must not
log it while the caller is keying in secure digits.

The protocol is five modules of one concept each (``agi_errors``, ``agi_environment``,
``agi_replies``, ``agi_meanings``, ``agi_commands``); this one names them all, so a
driver writes ``proto.stream_file(...)``, ``proto.heard(reply)``.
"""

from __future__ import annotations

from ivr.phone.asterisk.agi_commands import (
    KEYPAD,
    SECRET_MASK,
    answer,
    argument,
    channel_status,
    exec_application,
    format_command,
    get_variable,
    hangup,
    join_command,
    quote,
    record_file,
    redacted,
    say_digits,
    say_number,
    set_variable,
    stream_file,
    variable_name,
    wait_for_digit,
)
from ivr.phone.asterisk.agi_environment import (
    MAX_ENVIRONMENT_BYTES,
    MAX_ENVIRONMENT_LINES,
    MAX_LINE_BYTES,
    UNKNOWN,
    AgiEnvironment,
    NextLine,
    parse_environment,
    read_environment,
)
from ivr.phone.asterisk.agi_errors import (
    SHOWN,
    AgiError,
    AgiLocalError,
    AgiPeerError,
    CommandUsage,
    InvalidCommand,
    OverLimit,
    UnsafeArgument,
    shown,
)
from ivr.phone.asterisk.agi_meanings import (
    DTMF,
    Entered,
    Failed,
    KeyPressed,
    NoKey,
    NotRecorded,
    Recording,
    channel_up,
    completed,
    entered,
    gone,
    heard,
    recorded,
    variable_value,
)
from ivr.phone.asterisk.agi_replies import (
    END_OF_INPUT,
    HANGUP_LINE,
    LineGone,
    Reply,
    parse_reply,
    read_reply,
)

__all__ = [
    "AgiEnvironment",
    "AgiError",
    "AgiLocalError",
    "AgiPeerError",
    "CommandUsage",
    "DTMF",
    "END_OF_INPUT",
    "Entered",
    "Failed",
    "HANGUP_LINE",
    "InvalidCommand",
    "KEYPAD",
    "KeyPressed",
    "LineGone",
    "MAX_ENVIRONMENT_BYTES",
    "MAX_ENVIRONMENT_LINES",
    "MAX_LINE_BYTES",
    "NextLine",
    "NoKey",
    "NotRecorded",
    "OverLimit",
    "Recording",
    "Reply",
    "SECRET_MASK",
    "SHOWN",
    "UNKNOWN",
    "UnsafeArgument",
    "answer",
    "argument",
    "channel_status",
    "channel_up",
    "completed",
    "entered",
    "exec_application",
    "format_command",
    "get_variable",
    "gone",
    "hangup",
    "heard",
    "join_command",
    "parse_environment",
    "parse_reply",
    "quote",
    "read_environment",
    "read_reply",
    "record_file",
    "recorded",
    "redacted",
    "say_digits",
    "say_number",
    "set_variable",
    "shown",
    "stream_file",
    "variable_name",
    "variable_value",
    "wait_for_digit",
]
