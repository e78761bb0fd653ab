"""How values read on the pages (Jinja filters): ``label`` for words in snake_case,
``duration`` for seconds, ``clock`` for an ISO time. ``static/console.js`` says the same
things the same way when it updates a page."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

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


def register(app: Flask) -> None:
    app.add_template_filter(label)
    app.add_template_filter(duration)
    app.add_template_filter(clock)
