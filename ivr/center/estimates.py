"""How long a caller will wait, and when to say so. Pure functions.

position  = 1 + due waiting entries of the same queue ahead (priority desc, enqueued_at)
AHT       = mean talk time of the queue's last 20 handled calls of the last 7 days (180 s)
staffed   = agents not offline who have the entry's skill and language (counted as 1 when
            none are: the hold then says so instead of an estimate, ``ivr.center.hold``)
estimate  = ceil(position * AHT / staffed) seconds, said in whole minutes rounded up
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

DEFAULT_AHT_SECONDS = 180
AHT_SAMPLE = 20
AHT_WINDOW = timedelta(days=7)
#: A changed position is said again once the minutes changed and this long has passed...
MIN_GAP_SECONDS = 30.0
#: ...or, whatever the minutes, once this long has passed.
MAX_GAP_SECONDS = 120.0


class Said(Protocol):
    """What an announcement tells (a ``Place`` has both)."""

    @property
    def position(self) -> int: ...

    @property
    def estimate_seconds(self) -> int: ...


def average_handle_time(talk_seconds: Sequence[int]) -> int:
    """Mean talk time in whole seconds (rounded up), or the default with no history
    (what a caller's estimate is made with; a supervisor is shown ``measured_handle_time``)."""
    measured = measured_handle_time(talk_seconds)
    return DEFAULT_AHT_SECONDS if measured is None else measured


def measured_handle_time(talk_seconds: Sequence[int]) -> int | None:
    """Mean talk time in whole seconds (rounded up); None with no history."""
    if not talk_seconds:
        return None
    return math.ceil(sum(talk_seconds) / len(talk_seconds))


def estimate_seconds(position: int, aht_seconds: int, staffed: int) -> int:
    return math.ceil(max(position, 1) * aht_seconds / max(staffed, 1))


def minutes(seconds: int) -> int:
    """Whole minutes, rounded up, as said to a caller (0 means under a minute)."""
    return math.ceil(max(seconds, 0) / 60)


def should_announce(previous: Said | None, current: Said, seconds_since: float) -> bool:
    """Announce the first time; then only when the position changed and either the
    estimate moved by a minute or more at least 30 s after the last announcement, or
    120 s have passed since it."""
    if previous is None:
        return True
    if current.position == previous.position:
        return False
    moved = abs(minutes(current.estimate_seconds) - minutes(previous.estimate_seconds)) >= 1
    return (moved and seconds_since >= MIN_GAP_SECONDS) or seconds_since >= MAX_GAP_SECONDS
