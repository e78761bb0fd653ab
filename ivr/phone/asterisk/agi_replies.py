"""AGI replies as values: one reply line (or a ``520`` block) read and parsed, no I/O.

``200 result=<n>[ (data)][ endpos=<n>]``, ``510`` (unknown command), a ``520-`` usage
block ended by ``520 End of proper usage.``, ``511`` once the channel is dead; besides
replies the line may carry ``HANGUP`` (FastAGI: the caller hung up; possibly twice) or
simply end: both are ``LineGone``. What a reply *means* depends on the command:
``ivr.phone.asterisk.agi_meanings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ivr.phone.asterisk.agi_environment import MAX_ENVIRONMENT_LINES, NextLine
from ivr.phone.asterisk.agi_errors import AgiPeerError, CommandUsage, InvalidCommand


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
class LineGone:
    """The line says the caller is gone: a ``HANGUP`` line, the end of input, or a reply
    that says so (``511``, ``(hangup)``: ``agi_meanings.gone``); ``reason``: which."""

    reason: str


HANGUP_LINE = LineGone("HANGUP")
END_OF_INPUT = LineGone("end of input")

_INTEGER = re.compile(r"-?[0-9]+")
_OK = re.compile(
    r"200 result=(?P<result>\S*)(?: \((?P<data>.*)\))?(?P<pairs>(?: [A-Za-z_]+=\S*)*) *"
)
_CODE = re.compile(r"(?P<code>[1-9][0-9]{2})(?P<sep>[ -])(?P<text>.*)")


def parse_reply(raw: str) -> Reply | LineGone:
    """One line: a ``Reply`` (any code, ``520-`` continuations included) or a ``LineGone``
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


def read_reply(next_line: NextLine) -> Reply | LineGone:
    """Read one reply (all of a ``520`` block). Returns 200 and 511 replies and hang-up
    notices; raises ``InvalidCommand`` (510), ``CommandUsage`` (520), ``AgiPeerError``."""
    first = next_line()
    reply = parse_reply(first)
    if isinstance(reply, LineGone) or reply.code in (200, 511):
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
