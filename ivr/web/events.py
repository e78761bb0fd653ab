"""Live updates for the console by server-sent events (``GET /api/events``).

Theory of operation: a stream holds one of the web server's threads (waitress has a
fixed pool, ``WEB_THREADS``), so streams are bounded three ways. At most ``max_streams``
are open per process (well below the pool); one more is refused with 503 and the page
falls back to polling the API. Each stream ends after ``lifetime`` seconds, or at once
when the process stops (the browser's EventSource reconnects by itself, after
``retry:``). And it does little: every ``interval`` it reads the agent's snapshot (their
desk, the queue, the callbacks) and sends it only when it differs from the last one sent
(its hash, counters that move every second left out: the page counts those itself), with
a comment line as heartbeat so a proxy keeps the connection and a closed one is noticed.
A database that cannot be reached is said (``event: away``) and tried again at the next
turn.

Events: ``snapshot`` (JSON: ``desk``, ``queue``, ``callbacks``), ``away`` (JSON:
``message``), ``bye`` (the lifetime is over, or the process stops: reconnect)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Response, current_app
from sqlalchemy.exc import SQLAlchemyError

from ivr.web import payloads
from ivr.web.context import center, hotline
from ivr.web.errors import WebError

if TYPE_CHECKING:
    from ivr.services.contact_center import ContactCenter

logger = logging.getLogger(__name__)
#: app.config key: a ``StreamLimits`` (tests make them short).
CONFIG = "IVR_EVENT_LIMITS"
#: Fields that change every second by themselves: not part of a snapshot's hash.
MOVING = frozenset({"now", "seconds_in_state", "waited_seconds", "wrap_up_seconds_left"})
AWAY = "The database cannot be reached; reconnecting."


@dataclass(frozen=True)
class StreamLimits:
    max_streams: int = 4  # per process; WEB_THREADS is 16
    lifetime: float = 300.0  # seconds
    interval: float = 1.0
    heartbeat: float = 15.0
    retry_ms: int = 3000


class Gate:
    """How many streams are open in this process; one past ``cap`` is refused."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open = 0

    def enter(self, cap: int) -> bool:
        with self._lock:
            if self.open >= cap:
                return False
            self.open += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.open -= 1


_GATE_LOCK = threading.Lock()


def gate() -> Gate:
    with _GATE_LOCK:
        found: Gate = current_app.extensions.setdefault("ivr.event_gate", Gate())
        return found


def limits() -> StreamLimits:
    found: StreamLimits = current_app.config.get(CONFIG) or StreamLimits()
    return found


def snapshot(contact: ContactCenter, at: datetime, agent_id: int) -> dict[str, Any]:
    """What the console shows of the agent's world now (as the API's payloads)."""
    desk = contact.desk(agent_id)  # LookupError: the agent is gone
    if desk.agent.disabled:  # disabled since the stream began: it ends
        raise LookupError(f"agent {agent_id} is disabled")
    places = contact.queue_view()
    rows = [payloads.place(p, at, desk.agent) for p in places]
    return {
        "desk": payloads.desk(desk, at),
        "queue": {"now": at.isoformat(), "count": len(rows), "entries": rows},
        "callbacks": payloads.callbacks(contact.callbacks_view(), places),
    }


def fingerprint(value: Any) -> str:
    return hashlib.sha256(json.dumps(_still(value), sort_keys=True).encode()).hexdigest()


def _still(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _still(v) for k, v in value.items() if k not in MOVING}
    if isinstance(value, list):
        return [_still(v) for v in value]
    return value


def event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream(agent_id: int) -> Response:
    """The response for one agent's stream, or 503 when the process has enough open.
    The stream runs outside the request's context (it reads through the contact centre
    and clock it is given here), so nothing of Flask's is held while it waits."""
    bounds, door = limits(), gate()
    if not door.enter(bounds.max_streams):
        raise WebError(503, "too many live streams open: poll the API instead", retry_after=30)
    contact, clock, stopping = center(), hotline().clock, hotline().stopping

    def read(agent: int) -> dict[str, Any]:
        return snapshot(contact, clock.now(), agent)

    body = _Slot(_turns(agent_id, read, bounds, stopping), door)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy in front passes each event on
    return response


class _Slot:
    """The stream's turns, holding a place at the gate until closed (also when the
    client went away before the first turn: the server closes what it never read)."""

    def __init__(self, turns: Iterator[str], door: Gate) -> None:
        self.turns, self.door, self.held = turns, door, True

    def __iter__(self) -> Iterator[str]:
        try:
            yield from self.turns
        finally:
            self.close()

    def close(self) -> None:
        try:
            getattr(self.turns, "close", lambda: None)()
        finally:
            if self.held:
                self.held = False
                self.door.leave()


def _turns(
    agent_id: int,
    read: Callable[[int], dict[str, Any]],
    bounds: StreamLimits,
    stopping: threading.Event,
) -> Generator[str, None, None]:
    yield f"retry: {bounds.retry_ms}\n\n"
    started = last_sent = time.monotonic()
    seen = ""
    while time.monotonic() - started < bounds.lifetime and not stopping.is_set():
        try:
            shown = read(agent_id)
        except SQLAlchemyError as exc:
            if seen != AWAY:  # said once, until it is back
                logger.warning("event stream: database away (%s)", type(exc).__name__)
                seen = AWAY
                yield event("away", {"message": AWAY})
                last_sent = time.monotonic()
        except LookupError:  # the agent is gone
            return
        else:
            mark = fingerprint(shown)
            if mark != seen:
                seen = mark
                yield event("snapshot", shown)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent >= bounds.heartbeat:
                yield ": still here\n\n"
                last_sent = time.monotonic()
        stopping.wait(bounds.interval)  # a stopping process ends its streams at once
    yield event("bye", {"message": "this stream's time is up: reconnect"})
