"""Calls per hour in any time zone, from counts per UTC quarter hour.

The database groups by quarter hour since the epoch (the same SQL on every backend, no
time-zone tables); here the quarters fold into the local hours of the period's zone.
Every zone's offset is a whole number of quarter hours (+05:30, +05:45, -03:30...), so a
quarter never straddles two local hours, and a day with a DST change simply has 23 or 25
hours (the repeated hour twice, told apart by its UTC offset).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.errors import IvrError

#: The bucket the database groups by, in seconds.
QUARTER = 900


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; a clear error if there is none by that name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise IvrError(f"unknown time zone {name!r} (an IANA name, e.g. Asia/Shanghai)") from exc


def quarters(start: datetime, end: datetime) -> range:
    """The quarter numbers (seconds since the epoch // QUARTER) ``[start, end)`` touches."""
    first = int(start.timestamp()) // QUARTER
    last = -(-int(end.timestamp()) // QUARTER)
    return range(first, last)


def hour_of(quarter: int, tz: ZoneInfo) -> datetime:
    """The start of the local hour (in ``tz``, aware) that quarter ``quarter`` is in."""
    at = datetime.fromtimestamp(quarter * QUARTER, UTC)
    local = at.astimezone(tz)
    return (at - timedelta(minutes=local.minute)).astimezone(tz)


def local_hours(
    start: datetime,
    end: datetime,
    tz_name: str,
    counts: Mapping[int, tuple[int, ...]],
    width: int,
) -> list[tuple[datetime, tuple[int, ...]]]:
    """Every local hour of ``[start, end)`` in order, with ``counts`` (per quarter, each
    a tuple of ``width`` numbers) summed into it; hours with nothing get zeros."""
    tz = zone(tz_name)
    hours: dict[datetime, list[int]] = {}
    for quarter in quarters(start, end):
        hour = hour_of(quarter, tz).astimezone(UTC)  # UTC keys: a repeated hour is two
        sums = hours.setdefault(hour, [0] * width)
        for index, value in enumerate(counts.get(quarter, ())):
            sums[index] += value
    return [(hour.astimezone(tz), tuple(sums)) for hour, sums in hours.items()]
