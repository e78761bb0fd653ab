"""How the console says times and states: ``labels.until`` (callback expiry in words) and
the words the page hands to its script (every state has a status line; every control
names states that exist)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.center import lifecycle as lc
from ivr.web import console_words
from ivr.web.labels import until

NOW = datetime(2030, 12, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("later", "said"),
    [
        (timedelta(hours=23, minutes=59), "in 23 h"),
        (timedelta(days=3, hours=1), "in 3 days"),
        (timedelta(minutes=5, seconds=30), "in 5 min"),
        (timedelta(seconds=20), "now"),
        (-timedelta(hours=2), "2 h ago"),
    ],
)
def test_until_says_how_long_in_words(later: timedelta, said: str) -> None:
    assert until(NOW + later, NOW) == said


def test_every_agent_state_has_a_status_line_and_controls_name_real_states() -> None:
    states = {lc.OFFLINE, lc.AVAILABLE, lc.RINGING, lc.ON_CALL, lc.WRAP_UP, lc.MISSED, lc.PAUSED}
    assert states == set(console_words.STATUS)
    for shown_in in console_words.CONTROLS.values():
        assert set(shown_in) <= set(console_words.STATUS)
    assert "{reason}" in console_words.STATUS["paused"]
