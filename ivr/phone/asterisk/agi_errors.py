"""What goes wrong on an AGI line: protocol errors that carry the raw line.

``AgiPeerError``: the other side sent what the protocol does not allow (garbage, an empty
line, a broken environment); ``AgiLocalError``: we did wrong (510, 520, a command that
cannot be written). Both carry the line; a driver must not log it while the caller is
keying in secure digits. A caller hanging up is not an error (``agi_replies.LineGone``).
"""

from __future__ import annotations

from ivr.phone.line import LineError


class AgiError(LineError):
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
