"""Where the process's log lines go and how they look: ``IVR_LOG_FORMAT=text`` (the
default: ``LEVEL logger: message``) or ``json`` (one JSON object a line: ``time`` in UTC,
``level``, ``logger``, ``message``, ``call_id`` while a call is handled, ``exception``
with its traceback). The messages are the same in both: what keeps PINs and codes out of
them (masks at the source, ``ivr.store.db``'s filter of SQLAlchemy's rows) applies to both.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import IO

from ivr.services.call_context import current

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """A record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_id = getattr(record, "call_id", None)
        if call_id:
            entry["call_id"] = call_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class CallIdStamp(logging.Filter):
    """Gives each record the call being handled where it was logged (``call_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "call_id"):
            record.call_id = current()
        return True


class OncePer(logging.Filter):
    """Lets one record through per ``seconds``, saying how many it held back since the
    last: for a warning an overloaded server would otherwise write for every request
    (waitress's "Task queue depth", ``ivr.app.runner``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self._next = 0.0
        self._held = 0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                self._held += 1
                return False
            self._next = now + self.seconds
            held, self._held = self._held, 0
        if held:
            record.msg = f"{record.msg} (and {held} more in the last {self.seconds:g} s)"
        return True


def handler(log_format: str, stream: IO[str] | None = None) -> logging.Handler:
    """A handler writing ``log_format`` (``text``, ``json``) to ``stream`` (stderr)."""
    out = logging.StreamHandler(stream)
    out.addFilter(CallIdStamp())
    out.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return out


def configure(level: str, log_format: str) -> None:
    """The root logger at ``level``, its lines in ``log_format`` on stderr."""
    logging.basicConfig(level=level, handlers=[handler(log_format)])
