"""Calls per local hour from counts per UTC quarter hour, in any zone: whole-hour and
half-hour offsets, and the days a clock goes back (25 hours) or forward (23)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.errors import IvrError
from ivr.services.report_hours import QUARTER, hour_of, local_hours, zone
from ivr.services.reports import period_of


def quarter(at: datetime) -> int:
    return int(at.timestamp()) // QUARTER


def test_half_past_eleven_utc_is_half_past_seven_next_morning_in_beijing() -> None:
    at = datetime(2030, 11, 30, 23, 30, tzinfo=UTC)
    hour = hour_of(quarter(at), zone("Asia/Shanghai"))
    assert (hour.day, hour.hour, hour.minute) == (1, 7, 0)


def test_half_hour_offsets_fold_into_the_local_hour() -> None:
    period = period_of(datetime(2030, 12, 1).date(), datetime(2030, 12, 1).date(), "Asia/Kolkata")
    at = datetime(2030, 11, 30, 23, 30, tzinfo=UTC)  # 05:00 in India
    counts = {quarter(at): (1,), quarter(at + timedelta(minutes=15)): (2,)}
    hours = local_hours(period.start, period.end, period.tz, counts, 1)
    assert len(hours) == 24 and hours[0][0].hour == 0
    assert [(h.hour, c) for h, c in hours if c != (0,)] == [(5, (3,))]


def test_the_day_the_clocks_go_back_has_twenty_five_hours() -> None:
    day = datetime(2030, 11, 3).date()  # New York leaves daylight saving time
    period = period_of(day, day, "America/New_York")
    at = datetime(2030, 11, 3, 6, 10, tzinfo=UTC)  # the second 01:10 (EST)
    hours = local_hours(period.start, period.end, period.tz, {quarter(at): (1,)}, 1)
    assert len(hours) == 25
    ones = [(h.hour, h.utcoffset()) for h, c in hours if h.hour == 1]
    assert ones == [(1, timedelta(hours=-4)), (1, timedelta(hours=-5))]
    assert [h.utcoffset() for h, c in hours if c == (1,)] == [timedelta(hours=-5)]


def test_the_day_the_clocks_go_forward_has_twenty_three_hours() -> None:
    day = datetime(2030, 3, 10).date()
    period = period_of(day, day, "America/New_York")
    hours = local_hours(period.start, period.end, period.tz, {}, 2)
    assert len(hours) == 23 and 2 not in [h.hour for h, _ in hours]
    assert all(c == (0, 0) for _, c in hours)


def test_an_unknown_zone_and_a_backwards_period_are_refused() -> None:
    with pytest.raises(IvrError, match="unknown time zone 'Nowhere/Town'"):
        zone("Nowhere/Town")
    with pytest.raises(ValueError, match="before its first"):
        period_of(datetime(2030, 1, 2).date(), datetime(2030, 1, 1).date(), "UTC")
