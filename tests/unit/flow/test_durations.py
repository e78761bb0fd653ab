"""Durations as admins write them in callflows.yaml: ``500ms``, ``5s``, ``2m``, ``1m30s``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.flow.durations import parse_duration

HOW_TO_WRITE = "write it like 500ms, 5s, 2m or 1m30s"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("5s", 5.0),
        ("2m", 120.0),
        ("1m30s", 90.0),
        ("1.5s", 1.5),
        ("1h", 3600.0),
        ("0s", 0.0),
        ("1m 30s", 90.0),
        (" 8s ", 8.0),
        ("2s500ms", 2.5),
    ],
)
def test_parses(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "5 parsecs", "s5", "5sec", "-5s", "5m30", "1,5s", "ms"])
def test_rejects_with_a_message_that_shows_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == f"bad duration {text!r}: {HOW_TO_WRITE}"


@pytest.mark.parametrize("text", ["", "   "])
def test_rejects_empty(text: str) -> None:
    with pytest.raises(ValueError, match="empty duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=59), st.integers(min_value=0, max_value=59))
def test_minutes_and_seconds_add_up(minutes: int, seconds: int) -> None:
    assert parse_duration(f"{minutes}m{seconds}s") == minutes * 60 + seconds


@given(st.integers(min_value=0, max_value=100_000))
def test_milliseconds(millis: int) -> None:
    assert parse_duration(f"{millis}ms") == pytest.approx(millis / 1000)
