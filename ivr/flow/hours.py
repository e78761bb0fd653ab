"""Opening hours: reading day and time ranges, and deciding open / closed / holiday."""

from __future__ import annotations

from datetime import datetime

from ivr.flow import nodes

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_days(text: str) -> list[int]:
    """``mon-fri`` or ``sat,sun`` -> weekday numbers (0 = Monday)."""
    out: list[int] = []
    for part in text.lower().replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"'{text}' is not a day or day range like mon-fri")
        a, b = DAYS.index(first), DAYS.index(last or first)
        out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return out


def parse_span(text: str) -> tuple[int, int]:
    """``09:00-18:00`` -> minutes after midnight."""
    try:
        first, last = text.replace(" ", "").split("-")
        start, end = minute_of(first), minute_of(last)
    except ValueError:
        raise ValueError(f"'{text}' is not a time range like \"09:00-18:00\"") from None
    if end <= start:
        raise ValueError(f"'{text}' ends before it starts (split ranges that cross midnight)")
    return start, end


def minute_of(text: str) -> int:
    hours, minutes = text.split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ValueError(text)
    return h * 60 + m


def route(node: nodes.Hours, started_at: float) -> str:
    """Where an ``hours`` node sends a call that started at ``started_at`` (epoch seconds)."""
    local = datetime.fromtimestamp(started_at, node.zone)
    if local.date().isoformat() in node.holidays:
        return node.on_holiday
    minute = local.hour * 60 + local.minute
    for span in node.open:
        if span.weekday == local.weekday() and span.start <= minute < span.end:
            return node.on_open
    return node.on_closed
