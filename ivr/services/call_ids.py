"""Call ids (Twilio's ``CallSid``, Asterisk's ``agi_uniqueid``, the terminal phone's own)
and how long they may be (pure: no I/O).

Twilio's are 34 characters and Asterisk's at most 150 (``AST_MAX_UNIQUEID``) today; the
store keeps up to ``MAX_CALL_ID`` (255) so a longer format tomorrow still fits, and a
driver refuses anything longer, or empty, or holding control characters, with
``BadCallId`` (a Twilio webhook answers 400) instead of letting the database fail.
"""

from __future__ import annotations

from ivr.errors import IvrError

#: The longest call id stored (``String(255)`` columns, migration 0004).
MAX_CALL_ID = 255


class BadCallId(IvrError):
    """A call id the hotline will not store; the message says why, without echoing it."""


def checked(call_id: str, what: str = "call id") -> str:
    """``call_id`` itself if it can be stored; else ``BadCallId`` naming ``what``."""
    if not call_id:
        raise BadCallId(f"{what} is missing")
    if len(call_id) > MAX_CALL_ID:
        raise BadCallId(f"{what} is {len(call_id)} characters long; at most {MAX_CALL_ID}")
    if not call_id.isprintable():
        raise BadCallId(f"{what} holds control characters")
    return call_id
