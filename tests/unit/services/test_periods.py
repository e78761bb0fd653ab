"""Report periods: days and ranges of days in a time zone, DST-correct, and clear refusals.
The dates here are inputs to pure calendar logic, not "now": the tests pass on any date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ivr.services import periods
from ivr.services.periods import MAX_DAYS, PeriodError


def test_a_day_in_shanghai_starts_at_its_midnight_in_utc() -> None:
    period = periods.day(date(2026, 11, 30), "Asia/Shanghai")
    assert period.start == datetime(2026, 11, 29, 16, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert period.tz == "Asia/Shanghai"


def test_a_range_includes_its_last_day() -> None:
    period = periods.days(date(2026, 11, 1), date(2026, 11, 30), "UTC")
    assert (period.start, period.end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert periods.describe(period) == "2026-11-01 to 2026-11-30 (UTC)"


@pytest.mark.parametrize(
    ("on", "hours"),
    [(date(2026, 3, 8), 23), (date(2026, 11, 1), 25), (date(2026, 11, 2), 24)],
)
def test_days_when_the_clocks_change_are_as_long_as_callers_lived_them(
    on: date, hours: int
) -> None:
    period = periods.day(on, "America/New_York")
    assert period.end - period.start == timedelta(hours=hours)
    assert periods.describe(period) == f"{on} (America/New_York)"


def test_a_zone_that_skips_midnight_starts_the_day_when_the_clocks_jump() -> None:
    # Santiago moved its clocks from 24:00 to 01:00 on 2022-09-11 (no midnight that day).
    period = periods.day(date(2022, 9, 11), "America/Santiago")
    assert period.start == datetime(2022, 9, 11, 4, 0, tzinfo=UTC)
    assert period.end - period.start == timedelta(hours=23)


def test_today_is_the_local_day_of_the_clocks_now() -> None:
    late_utc = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # already Dec 1st in Shanghai
    assert (
        periods.describe(periods.today(late_utc, "Asia/Shanghai")) == "2026-12-01 (Asia/Shanghai)"
    )
    assert periods.describe(periods.today(late_utc, "UTC")) == "2026-11-30 (UTC)"


def test_chosen_periods_read_as_people_say_them() -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert periods.describe(periods.chosen(None, None, "UTC", now)) == "2026-11-30 (UTC)"
    from_only = periods.chosen("2026-11-28", None, "UTC", now)
    assert periods.describe(from_only) == "2026-11-28 to 2026-11-30 (UTC)"
    to_only = periods.chosen(None, "2026-11-02", "UTC", now)
    assert periods.describe(to_only) == "2026-11-02 (UTC)"
    both = periods.chosen(" 2026-10-01", "2026-10-31 ", "Europe/Paris", now)
    assert periods.describe(both) == "2026-10-01 to 2026-10-31 (Europe/Paris)"


@pytest.mark.parametrize(
    ("first", "last", "tz", "said"),
    [
        ("2026-02-30", None, "UTC", "from: '2026-02-30' is not a date (YYYY-MM-DD)"),
        ("2026-11-01", "30/11/2026", "UTC", "to: '30/11/2026' is not a date (YYYY-MM-DD)"),
        ("yesterday", None, "UTC", "from: 'yesterday' is not a date"),
        ("2026-11-30", "2026-11-01", "UTC", "the period starts (2026-11-30) after it ends"),
        ("2025-01-01", "2026-11-30", "UTC", f"is 699 days long; at most {MAX_DAYS} days"),
        (None, None, "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        (None, None, "../etc/passwd", "unknown time zone '../etc/passwd'"),
        (None, None, "", "unknown time zone ''"),
        (None, None, "Europe/" + "x" * 500, "unknown time zone 'Europe/xxxxxxxx"),
    ],
)
def test_bad_dates_ranges_and_zones_are_refused_clearly(
    first: str | None, last: str | None, tz: str, said: str
) -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with pytest.raises(PeriodError) as refused:
        periods.chosen(first, last, tz, now)
    assert said in str(refused.value)
    assert len(str(refused.value)) < 200


def test_a_leap_year_is_the_longest_period() -> None:
    assert periods.days(date(2028, 1, 1), date(2028, 12, 31), "UTC").end == datetime(
        2029, 1, 1, tzinfo=UTC
    )
    with pytest.raises(PeriodError, match="367 days"):
        periods.days(date(2028, 1, 1), date(2029, 1, 1), "UTC")
