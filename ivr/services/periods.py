"""The periods a report covers, chosen as people say them: a day, or an inclusive range of
days (``--from 2026-11-01 --to 2026-11-30``), in an IANA time zone; "today" is the day the
clock's now falls on there.

A day is local midnight to the next local midnight, turned into UTC; so a day on which the
clocks change is 23 or 25 hours long, as the callers lived it. Every reader of a date or a
zone is bounded and says what was wrong with the text it was given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.errors import IvrError
from ivr.services.insight import Period

#: The longest period a report may cover, in days (a leap year).
MAX_DAYS = 366
#: Longer texts are not dates or zone names; they are refused before they are parsed.
_MAX_TEXT = 64


class PeriodError(IvrError):
    """A date, a range of dates or a time zone that cannot make a period."""


def _shown(text: str) -> str:
    return repr(text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT] + "...")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (``Asia/Shanghai``, ``UTC``)."""
    if not name or len(name) > _MAX_TEXT:
        raise PeriodError(f"unknown time zone {_shown(name)} (an IANA name such as Asia/Shanghai)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise PeriodError(
            f"unknown time zone {_shown(name)} (an IANA name such as Asia/Shanghai)"
        ) from exc


def parse_day(text: str, what: str = "date") -> date:
    """A ``YYYY-MM-DD`` date; ``what`` names it in the error (``--from``)."""
    text = text.strip()
    if len(text) != 10:
        raise PeriodError(f"{what}: {_shown(text)} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"{what}: {_shown(text)} is not a date (YYYY-MM-DD)") from exc


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    # fold=0: where midnight is skipped (a zone changing its clocks at midnight), this is
    # the instant the clocks jump, the day's first.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def days(first: date, last: date, tz: str) -> Period:
    """The days ``first`` to ``last``, both included, in ``tz``."""
    where = zone(tz)
    if first > last:
        raise PeriodError(f"the period starts ({first}) after it ends ({last})")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise PeriodError(f"the period is {count} days long; at most {MAX_DAYS} days")
    return Period(_midnight(first, where), _midnight(last + timedelta(days=1), where), tz)


def day(on: date, tz: str) -> Period:
    """The one day ``on`` in ``tz``."""
    return days(on, on, tz)


def local_today(now: datetime, tz: str) -> date:
    """The date it is in ``tz`` at the instant ``now`` (aware)."""
    return now.astimezone(zone(tz)).date()


def today(now: datetime, tz: str) -> Period:
    """The day ``now`` (aware, from the hotline's clock) falls on in ``tz``."""
    return day(local_today(now, tz), tz)


def chosen(first: str | None, last: str | None, tz: str, now: datetime) -> Period:
    """The period a person asked for: no dates, today; ``first`` alone, that day to today;
    ``last`` alone, that one day; both, the days from one to the other."""
    start = parse_day(first, "from") if first else None
    end = parse_day(last, "to") if last else None
    if start is None and end is None:
        return today(now, tz)
    if start is None:
        assert end is not None
        return day(end, tz)
    return days(start, end if end is not None else local_today(now, tz), tz)


def first_and_last(period: Period) -> tuple[date, date]:
    """The first and last local days the period covers, in its own zone."""
    where = zone(period.tz)
    first = period.start.astimezone(where).date()
    last = (period.end - timedelta(microseconds=1)).astimezone(where).date()
    return first, last


def describe(period: Period) -> str:
    """``2026-11-01 to 2026-11-30 (Asia/Shanghai)`` or ``2026-11-30 (UTC)``."""
    first, last = first_and_last(period)
    span = str(first) if first == last else f"{first} to {last}"
    return f"{span} ({period.tz})"
