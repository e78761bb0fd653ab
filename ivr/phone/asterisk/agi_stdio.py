"""The per-call AGI script (``agi_scripts/hotline.agi``): one script of
``ivr.phone.asterisk.routes`` over stdin and stdout, in a process Asterisk starts for the call.

What Asterisk sends is read in bounded lines (``MAX_LINE_BYTES``, and the environment's
``MAX_ENVIRONMENT_BYTES``, the same limits as the FastAGI server's). Whatever goes wrong
ends in one line on stderr that says what and where (``stdin line 3: ...``,
``arguments ...: ...``), showing at most a short escaped excerpt of the input, and a
non-zero exit status; never a traceback. A call already recorded as started is recorded as
ended (``run_call`` closes it as ``abandoned`` at its node). The settings and the parts
the call uses are the composition root's (``ivr.app.asterisk_agi_script``).
"""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ivr.phone.asterisk.agi_protocol import MAX_LINE_BYTES, AgiPeerError, OverLimit, shown

if TYPE_CHECKING:
    from ivr.phone.channel import Parts

logger = logging.getLogger("hotline.agi")

#: Exit statuses: the call was handled (a caller hanging up included); the input or the
#: arguments were wrong; the call failed on our side.
HANDLED, BAD_INPUT, FAILED = 0, 2, 1


class StreamLines:
    """``readline()`` over a binary stream for ``AgiLine``: text lines of at most
    ``max_line`` bytes (``OverLimit`` for a longer one, without reading its rest); bytes
    that are not UTF-8 are replaced. ``number`` is the line being read, for errors."""

    def __init__(self, stream: BinaryIO, max_line: int = MAX_LINE_BYTES) -> None:
        self.stream = stream
        self.max_line = max_line
        self.number = 0

    def readline(self) -> str:
        self.number += 1
        raw = self.stream.readline(self.max_line + 1)
        if len(raw) > self.max_line:
            raise OverLimit(f"a line of over {self.max_line} bytes")
        return raw.decode("utf-8", "replace")


def log_to_stderr(level: str | int) -> None:
    """Every log record as one line on stderr (``OneLineFormatter``), at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("hotline.agi %(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def run_on_stdio(parts_for: Callable[[], Parts], hangups: list[int]) -> int:
    """The script once its settings are read: the request from stdin, the route it names
    run with ``parts_for()``; the exit status. ``hangups``: SIGHUPs received before."""
    from ivr.phone.asterisk.agi_line import AgiLine
    from ivr.phone.asterisk.routes import BadRequest, run_script

    lines = StreamLines(sys.stdin.buffer)
    try:
        line = AgiLine(lines, sys.stdout)
    except AgiPeerError as exc:
        logger.error("stdin line %d: %s", lines.number, exc)
        return BAD_INPUT
    signal.signal(signal.SIGHUP, line._handle_sighup)  # pyst2's handler: flags the line
    if hangups:
        line.flag_hangup()
    where = f"arguments {shown(','.join(line.env.args))}"
    try:
        if not run_script(line, parts_for(), "agi"):
            logger.error("%s: no script %s (%s)", where, shown(line.env.args[0]), _names())
            return BAD_INPUT
    except BadRequest as exc:
        logger.error("%s: %s", where, exc)
        return BAD_INPUT
    except Exception as exc:  # one line, never a traceback: it could hold what was read
        logger.error("%s: the call failed: %s", where, describe(exc))
        return FAILED
    return FAILED if line.failure is not None else HANDLED


class OneLineFormatter(logging.Formatter):
    """Every record on one line: an exception as ``describe`` says it, never a traceback
    (Asterisk's log collects the script's stderr, and a traceback can quote the input)."""

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        return describe(ei[1]) if ei and ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        return " | ".join(super().format(record).splitlines())


def _names() -> str:
    from ivr.phone.asterisk.routes import ROUTES

    return "one of " + ", ".join(sorted(ROUTES))


def describe(exc: BaseException) -> str:
    """``Type: message (at file.py:line)``: the message cut short, the innermost frame of
    the product's own code."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text if len(text) <= 120 else f"{text[:120]}... ({len(text)} characters)"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/ivr/" in f.filename] or frames
    if not ours:
        return f"{type(exc).__name__}: {text}"
    name = ours[-1].filename
    name = name[name.rfind("/ivr/") + 1 :] if "/ivr/" in name else Path(name).name
    return f"{type(exc).__name__}: {text} (at {name}:{ours[-1].lineno})"
