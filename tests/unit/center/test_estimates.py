"""Estimated wait and when to say it again."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from ivr.center import estimates


@dataclass(frozen=True)
class Said:
    position: int
    estimate_seconds: int


def test_aht_is_the_mean_rounded_up_or_the_default() -> None:
    assert estimates.average_handle_time([]) == 180
    assert estimates.average_handle_time([100, 101]) == 101
    assert estimates.average_handle_time([60]) == 60


def test_the_estimate_is_position_times_aht_over_staffed_rounded_up() -> None:
    assert estimates.estimate_seconds(3, 180, 2) == 270
    assert estimates.estimate_seconds(1, 100, 3) == 34
    assert estimates.estimate_seconds(2, 180, 0) == 360  # nobody staffed counts as one
    assert [estimates.minutes(s) for s in (0, 1, 60, 61, 270)] == [0, 1, 1, 2, 5]


@given(st.integers(1, 500), st.integers(1, 3600), st.integers(1, 50))
def test_more_agents_never_make_the_wait_longer(position: int, aht: int, staffed: int) -> None:
    fewer = estimates.estimate_seconds(position, aht, staffed)
    assert estimates.estimate_seconds(position, aht, staffed + 1) <= fewer
    assert estimates.estimate_seconds(position + 1, aht, staffed) >= fewer


def test_announce_first_then_only_meaningful_changes() -> None:
    first = Said(5, 600)
    assert estimates.should_announce(None, first, 0)
    assert not estimates.should_announce(first, Said(5, 400), 500)  # same position
    moved = Said(4, 480)  # 10 -> 8 minutes
    assert not estimates.should_announce(first, moved, 29)
    assert estimates.should_announce(first, moved, 30)
    small = Said(4, 590)  # still 10 minutes
    assert not estimates.should_announce(first, small, 119)
    assert estimates.should_announce(first, small, 120)


@given(
    st.integers(1, 50), st.integers(0, 3000), st.integers(1, 50), st.integers(0, 3000),
    st.floats(0, 1000),
)  # fmt: skip
def test_never_announced_within_30_seconds_or_without_a_new_position(
    p1: int, e1: int, p2: int, e2: int, since: float
) -> None:
    said = estimates.should_announce(Said(p1, e1), Said(p2, e2), since)
    if since < 30 or p1 == p2:
        assert not said
