"""Where a sign-in may send the browser next: only a path on this site (pure).

Browsers forgive a lot in a ``Location``: they drop tabs and newlines, read ``\\`` as
``/``, and take ``//host`` or ``/\\host`` as another site. So ``next`` is decoded, checked
character by character, split, and rebuilt from its path and query alone; anything odd
sends the agent to the default page instead."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

#: Longer than any page of the console needs.
LIMIT = 2000
#: Control characters, whitespace and backslashes, in the value or once decoded.
_ODD = re.compile(r"[\x00-\x20\x7f-\x9f\\]|\s")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a plain path on this site (with a query), else None."""
    if not target or len(target) > LIMIT:
        return None
    try:
        decoded = unquote(target, errors="strict")
        twice = unquote(decoded, errors="strict")
    except UnicodeDecodeError:
        return None
    for value in (target, decoded, twice):
        if _ODD.search(value) or not value.startswith("/") or value.startswith("//"):
            return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    rebuilt = urlunsplit(("", "", parts.path, parts.query, ""))
    return rebuilt if rebuilt == target.split("#", 1)[0] else None
