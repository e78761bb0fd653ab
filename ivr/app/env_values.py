"""Settings' values read from environment variables: whole numbers, flags, instants,
the callback channel. Each refuses a malformed value with an ``IvrError`` naming the
variable; an unset or empty variable gives the default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from ivr.errors import IvrError


def seconds(env: Mapping[str, str], name: str, default: int) -> int:
    return whole(env, name, default, 0, "a whole number of seconds")


def count(env: Mapping[str, str], name: str, default: int) -> int:
    return whole(env, name, default, 1, "a whole number")


def whole(env: Mapping[str, str], name: str, default: int, least: int, kind: str) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise IvrError(f"{name} must be {kind}, not {raw!r}") from None
    if value < least:
        raise IvrError(
            f"{name} must not be negative: {value}"
            if least == 0
            else f"{name} must be at least {least}: {value}"
        )
    return value


#: A phone system's name (``Channel.name``): the composition root refuses a name that
#: none of its channels has (``ivr.app.channels.callback_dialer``), before anything listens.
CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


def callbacks_via(env: Mapping[str, str]) -> str:
    value = env.get("IVR_CALLBACKS_VIA", "").strip().lower() or "asterisk"
    if not CHANNEL_NAME.fullmatch(value):
        raise IvrError(
            f"IVR_CALLBACKS_VIA must name a phone system (asterisk, twilio), not {value!r}"
        )
    return value


def flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise IvrError(f"{name} must be 1 or 0, not {raw!r}")


def instant(env: Mapping[str, str], name: str) -> datetime | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise IvrError(
            f"{name} must be an ISO 8601 time with a UTC offset, like "
            f"2026-11-23T10:00+08:00, not {raw!r}"
        )
    return value


#: ``IVR_LOG_FORMAT``: how log lines are written.
LOG_FORMATS = ("text", "json")


def log_format(env: Mapping[str, str]) -> str:
    value = env.get("IVR_LOG_FORMAT", "").strip().lower() or "text"
    if value not in LOG_FORMATS:
        raise IvrError(f"IVR_LOG_FORMAT must be text or json, not {value!r}")
    return value


def port(env: Mapping[str, str], name: str) -> int | None:
    """A TCP port (1 to 65535), or None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise IvrError(f"{name} must be a port number (1 to 65535), not {raw!r}")
    return int(raw)
