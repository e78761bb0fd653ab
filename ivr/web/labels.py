"""How values read on the pages (Jinja filters): ``label`` for words in snake_case,
``duration`` for seconds, ``clock`` for an ISO time, ``zoned`` for a ``<time>`` element
in the hotline's time zone (the browser's script says it again in the agent's own) and
``until`` for how long until then. ``static/console.js`` says the same things the same
way when it updates a page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from markupsafe import Markup, escape

#: Words that read better said otherwise.
WORDS = {
    "aht_seconds": "Average handle time (s)",
    "longest_wait_seconds": "Longest wait (s)",
    "missed": "Missed a call",  # an agent not offered calls until they go available
}


def label(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and value in WORDS:
        return WORDS[value]
    text = str(value).replace("_", " ")
    return text[:1].upper() + text[1:]


def duration(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "—"
    whole = int(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def clock(value: object) -> str:
    if not isinstance(value, str):
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        return value


def _parsed(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def zoned(value: object, relative: bool = False) -> Markup:
    """``<time datetime="ISO">2026-12-01 18:48 CST</time>``, in the hotline's zone (the
    flow's ``timezone:``); with ``relative`` the text starts with how long until then and
    the element says so to the script (``data-relative``)."""
    from ivr.web.context import hotline, now

    at = _parsed(value)
    if at is None:
        return Markup("—")
    shown = at.astimezone(ZoneInfo(hotline().flow.timezone)).strftime("%Y-%m-%d %H:%M %Z")
    if relative:
        shown = f"{until(at, now())} ({shown})"
    extra = " data-relative" if relative else ""
    return Markup(f'<time datetime="{escape(at.isoformat())}"{extra}>{escape(shown)}</time>')


def until(at: datetime, now: datetime) -> str:
    """``in 23 h``, ``in 5 min``, ``2 h ago``."""
    seconds = int((at - now).total_seconds())
    span = abs(seconds)
    if span >= 2 * 86400:
        words = f"{span // 86400} days"
    elif span >= 3600:
        words = f"{span // 3600} h"
    elif span >= 60:
        words = f"{span // 60} min"
    else:
        return "now"
    return f"in {words}" if seconds > 0 else f"{words} ago"


def register(app: Flask) -> None:
    app.add_template_filter(zoned)
    app.add_template_filter(label)
    app.add_template_filter(duration)
    app.add_template_filter(clock)
