"""A unit of work that found the store busy, or lost its connection, is tried again after
a growing pause (``ivr.services.store_waits``), a bounded number of times; anything else
goes through at once."""

from __future__ import annotations

import pytest

from ivr.services import store_waits
from ivr.services.ports import StoreBusy, StoreLost
from ivr.services.store_waits import retrying


class Flaky:
    """Busy ``busy`` times (or its connection lost, ``lost``), then answers."""

    def __init__(self, busy: int, lost: bool = False) -> None:
        self.busy, self.lost, self.calls = busy, lost, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.busy:
            if self.lost:
                raise StoreLost("server closed the connection unexpectedly")
            raise StoreBusy("no connection free within 5 s")
        return "claimed"


def test_a_busy_store_is_tried_again_after_pauses_that_double_up_to_the_longest() -> None:
    pauses: list[float] = []
    work = Flaky(busy=8)
    assert retrying(work, pauses.append) == "claimed"
    assert work.calls == 9
    wanted = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    assert len(pauses) == len(wanted)
    for pause, most in zip(pauses, wanted, strict=True):
        assert most / 2 <= pause <= most  # jittered: the waiting threads spread out


def test_the_last_try_lets_the_busy_store_through() -> None:
    pauses: list[float] = []
    work = Flaky(busy=store_waits.ATTEMPTS)
    with pytest.raises(StoreBusy):
        retrying(work, pauses.append)
    assert work.calls == store_waits.ATTEMPTS
    assert len(pauses) == store_waits.ATTEMPTS - 1


def test_any_other_error_is_not_tried_again() -> None:
    pauses: list[float] = []

    def broken() -> None:
        raise LookupError("no queue entry 7")

    with pytest.raises(LookupError):
        retrying(broken, pauses.append)
    assert pauses == []


def test_a_lost_connection_is_tried_again_as_a_busy_store_is() -> None:
    pauses: list[float] = []
    work = Flaky(busy=3, lost=True)
    assert retrying(work, pauses.append) == "claimed"
    assert work.calls == 4 and len(pauses) == 3


def test_a_connection_lost_at_every_try_is_let_through_after_the_last() -> None:
    pauses: list[float] = []
    work = Flaky(busy=store_waits.ATTEMPTS, lost=True)
    with pytest.raises(StoreLost):
        retrying(work, pauses.append)
    assert work.calls == store_waits.ATTEMPTS
    assert len(pauses) == store_waits.ATTEMPTS - 1
