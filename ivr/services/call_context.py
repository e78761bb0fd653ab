"""The call a thread (or a request) is handling now, for the logs: the call drivers set it
where a call starts (``handling(call_id)``) and it is reset when they are done, so every
line logged meanwhile can name the call (``IVR_LOG_FORMAT=json``: ``ivr.app.logs``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CALL_ID: ContextVar[str | None] = ContextVar("ivr_call_id", default=None)


@contextmanager
def handling(call_id: str | None) -> Iterator[None]:
    """Lines logged inside the block name ``call_id``."""
    token = CALL_ID.set(call_id)
    try:
        yield
    finally:
        CALL_ID.reset(token)


def current() -> str | None:
    return CALL_ID.get()
