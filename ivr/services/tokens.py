"""Callback reference codes: six digits a caller can type, derived from a secret and a
per-callback salt, so the database keeps only a salt and a hash and a leaked database
alone reveals no code. Pure: no I/O, no clock, no randomness.

    code      = 6 decimal digits of HMAC-SHA256(secret, "callback-code:" + salt)
    code_hash = hex HMAC-SHA256(secret, "callback-hash:" + code)

``keyed_hash`` is that HMAC for any purpose: password-reset codes are stored as
``keyed_hash(secret, "reset-code", "<account>:<code>")``, so a leaked database alone does
not give them up by trying the million codes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime, timedelta

from ivr.services.lockout import Lockout

CODE_DIGITS = 6
WRONG_CODES_LIMIT = 5  # wrong codes from one caller number...
WRONG_CODES_WINDOW = timedelta(minutes=15)  # ...within this long...
LOCKED_FOR = timedelta(minutes=30)  # ...lock that number out this long
WRONG_CODES = Lockout(WRONG_CODES_LIMIT, WRONG_CODES_WINDOW, LOCKED_FOR)


def derive_code(secret: bytes, salt: str) -> str:
    """The six-digit code for this salt (the same every time: the controller re-derives
    it to say on the callback)."""
    digest = hmac.new(secret, f"callback-code:{salt}".encode(), hashlib.sha256).digest()
    # 64 bits reduced mod 10**6: the bias is below one part in 10**13.
    return f"{int.from_bytes(digest[:8], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def keyed_hash(secret: bytes, purpose: str, value: str) -> str:
    """Hex HMAC-SHA256 of ``purpose:value`` under the server secret: what a code is
    stored as (the purpose keeps one kind of code's hashes apart from another's)."""
    return hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def hash_code(secret: bytes, code: str) -> str:
    """What is stored and looked up: an HMAC of the code, hex."""
    return keyed_hash(secret, "callback-hash", code)


def codes_match(typed: str, expected: str) -> bool:
    """Compare two codes (or two hashes) in constant time."""
    return hmac.compare_digest(typed.encode(), expected.encode())


def well_formed(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


def locked_out(failures: Sequence[datetime], now: datetime) -> bool:
    """Locked if some ``WRONG_CODES_LIMIT`` wrong codes fell within ``WRONG_CODES_WINDOW``
    and the lock they started (from the last of them) has not run out."""
    return WRONG_CODES.locked(failures, now)
