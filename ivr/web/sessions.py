"""The console's sessions, kept on the server. The signed cookie carries only a random
session id (and the CSRF token); the ``web_sessions`` row says whose it is and whether it
still holds, so signing out ends it everywhere, and a copied cookie stops working. A
session also ends after ``IDLE`` without a request and ``ABSOLUTE`` after signing in, by
the hotline's clock."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import session

from ivr.services.sign_in_ports import SignInRecords
from ivr.web.context import hotline

KEY = "sid"
IDLE = timedelta(hours=2)
ABSOLUTE = timedelta(hours=12)
#: ``last_seen_at`` is written at most this often (not on every poll of the console).
TOUCH_EVERY = timedelta(minutes=1)


def _records() -> SignInRecords:
    return hotline().sign_in_records


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def begin(agent_id: int) -> None:
    """A new session for ``agent_id`` (the old cookie's content is dropped: no fixation)."""
    session.clear()
    session_id = secrets.token_urlsafe(32)
    _records().open_session(_digest(session_id), agent_id, hotline().clock.now())
    session[KEY] = session_id


def current_agent_id() -> int | None:
    """The agent whose session this request carries, if it still holds."""
    session_id = session.get(KEY)
    if not isinstance(session_id, str):
        return None
    id_hash, now = _digest(session_id), hotline().clock.now()
    found = _records().session(id_hash)
    if (
        found is None
        or found.ended_at is not None
        or now - found.last_seen_at > IDLE
        or now - found.created_at > ABSOLUTE
    ):
        return None
    if now - found.last_seen_at >= TOUCH_EVERY:
        _records().seen(id_hash, now)
    return found.agent_id


def end() -> None:
    """End this request's session on the server, and clear the cookie."""
    session_id = session.get(KEY)
    if isinstance(session_id, str):
        _records().end_session(_digest(session_id), hotline().clock.now())
    session.clear()
